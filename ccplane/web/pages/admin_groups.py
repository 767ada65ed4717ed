"""/admin/monitoring-groups: the domain's monitoring groups, the queues each covers
and the supervisors who belong (users' ``monitoring_groups``). A supervisor hears
the recordings and watches the queues of its groups only. Supervisors read the
page; administrators change it. Every change goes through the services the API uses."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import ValidationError

from ...errors import ApiError, ValidationFailed
from ...features.monitoring_groups.schemas import GroupCreate, GroupUpdate
from ...features.users.schemas import UserUpdate
from ..keys import SERVICES
from . import SESSION, Session, render
from .admin import ADMINS, MANAGERS, page
from .field_errors import api_errors, pydantic_errors


async def _context(request: web.Request) -> dict[str, Any]:
    session: Session = request[SESSION]
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    groups, _total = await services.monitoring_groups.list(me, slug, 500, 0)
    queues, _q = await services.queues.list(me, slug, 500, 0)
    supervisors: list[Any] = []
    if session.role in ADMINS:  # the users list is the administrators'
        users, _u = await services.users.list(me, slug, 500, 0)
        supervisors = [u for u in users if u.role == "supervisor"]
    owner = {q.name: q.monitoring_group for q in queues}
    return {"groups": groups, "queues": [q.name for q in queues], "owner": owner, "supervisors": supervisors,
            "can_edit": session.role in ADMINS}


async def _show(request: web.Request, template: str, status: int = 200, **ctx: Any) -> web.Response:
    return render(request, template, status=status, **(await _context(request)), **ctx)


@page(MANAGERS)
async def groups(request: web.Request) -> web.StreamResponse:
    return await _show(request, "admin_groups.html", errors={}, values={"queues": [], "members": []},
                       saved=request.query.get("saved"), deleted=request.query.get("deleted"))


@page(ADMINS)
async def group_edit(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    group = await request.app[SERVICES].monitoring_groups.get(session.principal, session.domain or "",
                                                              request.match_info["name"])
    values = {"name": group.name, "queues": group.queues, "members": group.members}
    return await _show(request, "admin_group_edit.html", group=group, errors={}, values=values)


async def _members(request: web.Request, group: str, previous: str | None, wanted: set[str]) -> None:
    """Make ``wanted`` exactly the supervisors of ``group`` (each user's other groups kept)."""
    session: Session = request[SESSION]
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    users, _total = await services.users.list(me, slug, 500, 0)
    by_name = {u.username: u for u in users if u.role == "supervisor"}
    unknown = sorted(wanted - set(by_name))
    if unknown:
        raise ValidationFailed(f"members: no supervisor {unknown[0]!r} in this domain", field="members")
    for user in by_name.values():
        current = [g for g in user.monitoring_groups if g not in (group, previous)]
        now = current + [group] if user.username in wanted else current
        if sorted(now) != sorted(user.monitoring_groups):
            await services.users.update(me, slug, user.username, UserUpdate.model_validate({"monitoring_groups": now}))


@page(ADMINS)
async def group_save(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    services, slug, me = request.app[SERVICES], session.domain or "", session.principal
    name = request.match_info.get("name")
    form = await request.post()
    values = {"name": str(form.get("name", "")).strip(), "queues": [str(q) for q in form.getall("queues", [])],
              "members": [str(m) for m in form.getall("members", [])]}
    template = "admin_groups.html" if name is None else "admin_group_edit.html"
    try:
        body = {"name": values["name"], "queues": values["queues"]}
        users, _total = await services.users.list(me, slug, 500, 0)
        known = {u.username for u in users if u.role == "supervisor"}
        stray = [m for m in values["members"] if m not in known]
        if stray:  # checked before anything is written
            raise ValidationFailed(f"members: no supervisor {stray[0]!r} in this domain", field="members")
        if name is None:
            saved = await services.monitoring_groups.create(me, slug, GroupCreate.model_validate(body))
        else:
            saved = await services.monitoring_groups.update(me, slug, name, GroupUpdate.model_validate(body))
        await _members(request, saved.name, name, set(values["members"]))
    except ValidationError as exc:
        return await _again(request, template, name, pydantic_errors(exc, request), values)
    except ApiError as exc:
        return await _again(request, template, name, api_errors(exc, request), values, exc.status)
    raise web.HTTPSeeOther("/admin/monitoring-groups?saved=" + quote(saved.name, safe=""))


async def _again(request: web.Request, template: str, name: str | None, errors: dict[str, str],
                 values: dict[str, Any], status: int = 400) -> web.Response:
    session: Session = request[SESSION]
    extra: dict[str, Any] = {}
    if name is not None:
        extra["group"] = await request.app[SERVICES].monitoring_groups.get(session.principal, session.domain or "",
                                                                           name)
    return await _show(request, template, status=status, errors=errors, values=values, saved=None, deleted=None,
                       **extra)


@page(ADMINS)
async def group_delete(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    name = request.match_info["name"]
    await request.app[SERVICES].monitoring_groups.delete(session.principal, session.domain or "", name)
    raise web.HTTPSeeOther("/admin/monitoring-groups?deleted=" + quote(name, safe=""))


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin/monitoring-groups", groups)
    r.add_post("/admin/monitoring-groups/new", group_save)
    r.add_get("/admin/monitoring-groups/{name}", group_edit)
    r.add_post("/admin/monitoring-groups/{name}", group_save)
    r.add_post("/admin/monitoring-groups/{name}/delete", group_delete)
