from __future__ import annotations

from ...web.routing import Api, Req
from ..common import ListQuery, Page
from .models import Domain
from .schemas import DomainCreate, DomainOut, DomainUpdate

api = Api()
ROOT = frozenset({"root"})


def _out(d: Domain) -> DomainOut:
    return DomainOut(slug=d.slug, name=d.name, timezone=d.timezone, created_at=d.created_at)


@api.route("GET", "/domains", query=ListQuery, response=Page[DomainOut], tag="domains")
async def list_domains(req: Req) -> Page[DomainOut]:
    """Domains the caller may see (all of them for root)."""
    rows, total = await req.services.domains.list(req.me, req.query.limit, req.query.offset)
    return Page[DomainOut](items=[_out(d) for d in rows], total=total)


@api.route("POST", "/domains", body=DomainCreate, response=DomainOut, status=201, tag="domains")
async def create_domain(req: Req) -> DomainOut:
    """Create a domain (root only)."""
    req.me.require(ROOT, "create domains")
    return _out(await req.services.domains.create(req.body))


@api.route("GET", "/domains/{domain}", response=DomainOut, tag="domains")
async def get_domain(req: Req) -> DomainOut:
    """One domain."""
    return _out(await req.services.domains.get(req.me, req.params["domain"]))


@api.route("PATCH", "/domains/{domain}", body=DomainUpdate, response=DomainOut, tag="domains")
async def update_domain(req: Req) -> DomainOut:
    """Rename a domain or change its time zone (root only)."""
    req.me.require(ROOT, "change domains")
    return _out(await req.services.domains.update(req.me, req.params["domain"], req.body))


@api.route("DELETE", "/domains/{domain}", status=204, tag="domains")
async def delete_domain(req: Req) -> None:
    """Delete an empty domain (root only)."""
    req.me.require(ROOT, "delete domains")
    await req.services.domains.delete(req.me, req.params["domain"])
