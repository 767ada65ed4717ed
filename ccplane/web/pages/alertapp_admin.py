"""/admin/alert-app: the alert app's customisation (PUT /domains/{d}/alert-app) with a
live preview of the three buttons.

The preview is /admin/alert-app/preview in an iframe: the same markup and CSS as
/app/{domain} (templates/_alertapp_look.html, static/alertapp.css); the form's
script restyles it as the admin types, before anything is saved. A refused save
shows the API's message at the field it names (``colors.red``, ``texts.green.button``...)."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from ...errors import ApiError
from ...features.alerts.schemas import AlertAppUpdate
from ..keys import SERVICES
from . import SESSION, Session, render
from .admin import ADMINS, page
from .field_errors import api_errors, page_language, pydantic_message
from .alertapp import DEFAULT_COLORS

LEVELS = ("red", "yellow", "green")
COLOR_NAMES = ("primary", "background", "red", "yellow", "green")


def form_values(config: Any) -> dict[str, str]:
    """The stored settings as the form's flat fields (``colors.red``, ``texts.red.button``...)."""
    values: dict[str, str] = {"app_name": config.app_name, "call_number": config.call_number or "",
                              "show_logo": "on" if config.show_logo else ""}
    colors = DEFAULT_COLORS | dict(config.colors)
    for name in COLOR_NAMES:
        values[f"colors.{name}"] = colors.get(name, "")
    for key in (*LEVELS, "call_now", "unavailable"):
        for part in ("button", "message"):
            text = (config.texts.get(key) or {}).get(part)
            if text is not None:
                values[f"texts.{key}.{part}"] = text
    for level in LEVELS:
        seconds = config.ack_deadlines.get(level)
        values[f"ack_deadlines.{level}"] = "" if seconds is None else str(seconds)
    return values


def body_of(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body from the form, and the fields that are not even numbers."""
    def get(key: str) -> str:
        return str(form.get(key, "")).strip()
    texts: dict[str, dict[str, str]] = {}
    for key, parts in (*((lv, ("button", "message")) for lv in LEVELS), ("call_now", ("button",)),
                       ("unavailable", ("message",))):
        entry = {part: get(f"texts.{key}.{part}") for part in parts if get(f"texts.{key}.{part}")}
        if entry:
            texts[key] = entry
    body: dict[str, Any] = {"app_name": get("app_name"), "show_logo": form.get("show_logo") == "on",
                            "colors": {name: get(f"colors.{name}") for name in COLOR_NAMES},
                            "texts": texts, "call_number": get("call_number") or None}
    errors: dict[str, str] = {}
    deadlines: dict[str, int] = {}
    for level in LEVELS:
        raw = get(f"ack_deadlines.{level}")
        if raw == "":
            continue
        try:
            deadlines[level] = int(raw)
        except ValueError:
            errors[f"ack_deadlines.{level}"] = "Informe um número inteiro de segundos."
    body["ack_deadlines"] = deadlines
    return body, errors


def field_errors(exc: ValidationError, request: web.Request | str = "pt_BR") -> dict[str, str]:
    """pydantic's errors keyed by the form field: the whole location, dotted; the message in
    the page's language."""
    _ = page_language(request)
    out: dict[str, str] = {}
    for err in exc.errors():
        key = ".".join(str(x) for x in err.get("loc", ())) or "__all__"
        out.setdefault(key, pydantic_message(err, _))
    return out


async def _form(request: web.Request, values: dict[str, str], errors: dict[str, str], saved: bool = False,
                status: int = 200) -> web.Response:
    session: Session = request[SESSION]
    return render(request, "admin_alert_app.html", status=status, values=values, errors=errors, saved=saved,
                  levels=LEVELS, color_names=COLOR_NAMES, app_url=f"/app/{session.domain}")


@page(ADMINS)
async def alert_app(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    config = await request.app[SERVICES].alerts.get_config(session.principal, session.domain or "")
    return await _form(request, form_values(config), {}, saved=request.query.get("saved") == "1")


@page(ADMINS)
async def alert_app_save(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    form = await request.post()
    shown = {k: str(v) for k, v in form.items() if k != "csrf"}
    shown["show_logo"] = "on" if form.get("show_logo") == "on" else ""
    body, errors = body_of(form)
    if errors:
        return await _form(request, shown, errors, status=400)
    try:
        update = AlertAppUpdate.model_validate(body)
        await request.app[SERVICES].alerts.put_config(session.principal, session.domain or "", update)
    except ValidationError as exc:
        return await _form(request, shown, field_errors(exc, request), status=422)
    except ApiError as exc:
        return await _form(request, shown, api_errors(exc, request), status=exc.status)
    raise web.HTTPSeeOther("/admin/alert-app?saved=1")


@page(ADMINS)
async def preview(request: web.Request) -> web.StreamResponse:
    """The three buttons as /app/{domain} draws them, with the saved look (the form restyles it live)."""
    session: Session = request[SESSION]
    config = await request.app[SERVICES].alerts.get_config(session.principal, session.domain or "")
    look = {"app_name": config.app_name, "colors": DEFAULT_COLORS | dict(config.colors),
            "show_logo": config.show_logo}
    return render(request, "alertapp_preview.html", look=look, texts=config.texts)


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin/alert-app", alert_app)
    r.add_post("/admin/alert-app", alert_app_save)
    r.add_get("/admin/alert-app/preview", preview)
