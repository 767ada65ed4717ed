from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...errors import AsteriskError
from ...plugin import Feature, Wiring
from .http import api
from .models import OutboundRoute, Trunk
from .services import TrunkService, trunk_endpoint

log = logging.getLogger("ccplane.trunks")


def setup(w: Wiring) -> None:
    core = w.core
    trunks = w.provide("trunks", TrunkService(core.sessions, w.changed, core.contacts))
    core.ami.on_event(trunks.on_registry, names=("Registry",))

    async def resync() -> None:
        asked_after = trunks.registry_events
        try:
            registrations = await core.ami.action({"Action": "PJSIPShowRegistrationsOutbound"})
        except AsteriskError as exc:  # e.g. the module is not loaded: the rest of the resync still runs
            if not core.ami.connected:
                raise
            log.warning("ami.registrations_unavailable: %s", exc)
        else:
            trunks.reset_registrations(registrations, asked_after)
    w.on_resync(resync, before_render=True)


async def contribute(s: AsyncSession, model: dict[str, Any]) -> None:
    slugs = model["slugs"]
    trunks = [t for t in (await s.scalars(select(Trunk).order_by(Trunk.domain_id, Trunk.name))).all()
              if t.domain_id in slugs]
    outbound = (await s.scalars(select(OutboundRoute).order_by(OutboundRoute.domain_id,
                                                                OutboundRoute.name))).all()
    names = {(t.domain_id, t.name): trunk_endpoint(slugs[t.domain_id], t.name) for t in trunks}
    model["trunks"] = [{"endpoint": names[(t.domain_id, t.name)], "host": t.host, "port": t.port,
                        # "\;": an unescaped ";" starts a comment in Asterisk's config files
                        "uri_params": "\\;transport=tcp" if t.transport == "tcp" else "",
                        "username": t.username, "secret": t.secret, "register": t.register,
                        "from_user": t.caller_id or t.username or "", "slug": slugs[t.domain_id],
                        "match": ",".join(dict.fromkeys([t.host, *(t.match or [])]))} for t in trunks]
    domains = {d["id"]: d for d in model["domains"]}
    for r in outbound:
        if r.domain_id in domains:
            domains[r.domain_id]["outbound"].append({
                "name": r.name, "patterns": list(r.patterns), "strip": r.strip, "prefix": r.prefix, "record": r.record,
                "trunks": [names[(r.domain_id, t)] for t in r.trunks if (r.domain_id, t) in names]})


FEATURE = Feature("trunks", setup, api=api, render=contribute)
