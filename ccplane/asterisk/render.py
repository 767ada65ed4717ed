"""Render the database into Asterisk config files and reload only what changed.

Files land in ``<config_dir>/ccplane/`` (the base configuration includes them).
Writes are atomic (temp file + rename) and only changed files are written;
each changed file triggers the reload of its own module, nothing else. The
same database always yields the same bytes.
"""
from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..features.alerts.models import AlertAppConfig
from ..features.domains.models import Domain
from ..features.extensions.domain import domain_context, endpoint_name
from ..features.extensions.models import Extension
from ..features.ivr.models import IvrTree, Prompt
from ..features.ivr.render import goto_destination, tree_model
from ..features.queues.domain import asterisk_queue_name
from ..features.queues.models import Queue
from ..features.routes.domain import caller_patterns
from ..features.routes.models import BlacklistEntry, InboundRoute
from ..features.trunks.models import OutboundRoute, Trunk
from ..features.trunks.services import trunk_endpoint
from ..settings import PROJECT_ROOT, AdmissionSettings

log = logging.getLogger("ccplane.render")

TEMPLATES = PROJECT_ROOT / "dialplan_templates"
# rendered file -> the AMI action that reloads exactly its module
RELOADS: dict[str, dict[str, str]] = {
    "pjsip.conf": {"Action": "Reload", "Module": "res_pjsip.so"},
    "extensions.conf": {"Action": "Reload", "Module": "pbx_config.so"},
    "queues.conf": {"Action": "QueueReload", "Parameters": "yes", "Members": "no", "Rules": "yes"},
}
FILES = tuple(RELOADS)

Reloader = Callable[[dict[str, str]], Awaitable[Any]]


def conf_value(value: object) -> str:
    """Refuse values that could break out of their config line (``x]\\n[evil``)."""
    text = str(value)
    if any(c in text for c in "\r\n;[]"):
        raise ValueError(f"unsafe value for Asterisk config: {text!r}")
    return text.replace('"', "'")


def make_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=False,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["conf"] = conf_value
    return env


async def load_model(sessions: async_sessionmaker[AsyncSession], *, qualify_frequency: int,
                     ari_app: str = "ccplane", unknown_did_delay: int = 2,
                     admission: AdmissionSettings | None = None) -> dict[str, Any]:
    """Everything the templates need, computed here so templates hold no logic."""
    async with sessions() as s:
        domains = (await s.scalars(select(Domain).order_by(Domain.slug))).all()
        exts = (await s.scalars(select(Extension).order_by(Extension.domain_id, Extension.number))).all()
        queues = (await s.scalars(select(Queue))).all()
        routes = (await s.scalars(select(InboundRoute).order_by(InboundRoute.did))).all()
        blacklist = (await s.scalars(select(BlacklistEntry).order_by(BlacklistEntry.number))).all()
        trees = (await s.scalars(select(IvrTree))).all()
        prompts = (await s.execute(select(Prompt.domain_id, Prompt.name))).all()
        trunks = (await s.scalars(select(Trunk).order_by(Trunk.domain_id, Trunk.name))).all()
        outbound = (await s.scalars(select(OutboundRoute).order_by(OutboundRoute.domain_id,
                                                                    OutboundRoute.name))).all()
        monitoring = set((await s.execute(select(AlertAppConfig.domain_id, AlertAppConfig.monitoring_queue)
                                          .where(AlertAppConfig.monitoring_queue.is_not(None)))).all())
    by_domain: dict[int, list[Extension]] = {}
    for e in exts:
        by_domain.setdefault(e.domain_id, []).append(e)
    slugs = {d.id: d.slug for d in domains}
    uploaded: dict[int, set[str]] = {}
    for domain_id, prompt in prompts:
        uploaded.setdefault(domain_id, set()).add(prompt)
    blocked: dict[int, list[str]] = {}
    for entry in blacklist:
        blocked.setdefault(entry.domain_id, []).extend(caller_patterns(entry.number))
    trunk_names = {(t.domain_id, t.name): trunk_endpoint(slugs[t.domain_id], t.name) for t in trunks}
    routes_by_domain: dict[int, list[dict[str, Any]]] = {}
    for r in outbound:
        routes_by_domain.setdefault(r.domain_id, []).append({
            "name": r.name, "patterns": list(r.patterns), "strip": r.strip, "prefix": r.prefix,
            "trunks": [trunk_names[(r.domain_id, t)] for t in r.trunks if (r.domain_id, t) in trunk_names]})
    return {
        "trunks": [{"endpoint": trunk_names[(t.domain_id, t.name)], "host": t.host, "port": t.port,
                    # "\;": an unescaped ";" starts a comment in Asterisk's config files
                    "uri_params": "\\;transport=tcp" if t.transport == "tcp" else "",
                    "username": t.username, "secret": t.secret, "register": t.register,
                    "from_user": t.caller_id or t.username or "", "slug": slugs[t.domain_id],
                    "match": ",".join(dict.fromkeys([t.host, *(t.match or [])]))} for t in trunks],
        "ari_app": ari_app,
        "unknown_did_delay": unknown_did_delay,
        "admission": admission_model(admission or AdmissionSettings()),
        "routes": [{"did": r.did, "slug": slugs[r.domain_id], "reject_delay": r.reject_delay,
                    "hangup": r.destination_type == "hangup",
                    "goto": goto_destination(slugs[r.domain_id], r.destination_type, r.destination_target)}
                   for r in routes],
        "blacklists": [{"slug": slugs[d], "context": f"ccplane-bl-{slugs[d]}", "patterns": sorted(set(p))}
                       for d, p in sorted(blocked.items(), key=lambda kv: slugs[kv[0]])],
        "ivrs": sorted((tree_model(slugs[t.domain_id], t.name, t.root, uploaded.get(t.domain_id, set()))
                        for t in trees), key=lambda m: str(m["entry"])),
        "queues": sorted((queue_model(slugs[q.domain_id], q, (q.domain_id, q.name) in monitoring) for q in queues),
                         key=lambda m: str(m["asterisk_name"])),
        "qualify_frequency": qualify_frequency,
        "ring_timeout": 30,
        "domains": [{
            "outbound": routes_by_domain.get(d.id, []),
            "slug": d.slug,
            "context": domain_context(d.slug),
            "extensions": [{
                "number": e.number, "name": e.name, "secret": e.secret,
                "endpoint": endpoint_name(d.slug, e.number),
                "webrtc": e.kind == "webrtc",
                "codecs": "opus,ulaw,alaw" if e.kind == "webrtc" else "ulaw,alaw,g722,opus",
            } for e in by_domain.get(d.id, [])],
        } for d in domains],
    }


# Asterisk's joinempty/leavewhenempty: conditions under which members do not count.
_NOBODY = "invalid,unavailable"


def queue_model(slug: str, q: Queue, monitoring: bool = False) -> dict[str, object]:
    return {
        "monitoring": monitoring,
        "slug": slug,
        "asterisk_name": asterisk_queue_name(slug, q.name),
        "strategy": q.strategy,
        "ring_timeout": q.ring_timeout,
        "retry": q.retry,
        "max_len": q.max_len,
        "joinempty": "yes" if q.join_empty else _NOBODY,
        "leavewhenempty": _NOBODY if q.leave_empty else "no",
        "record": q.record,
        "max_wait": q.max_wait or "",
        # Queue() option t: the agent may transfer with DTMF (never the caller: T).
        "options": "t",
        # ccplane hangs up at call_timeout itself (and records why); this fires
        # a little later only if ccplane could not.
        "call_timeout_backstop": q.call_timeout + 2 if q.call_timeout else 0,
        "overflow": goto_destination(slug, str(q.overflow.get("type")), q.overflow.get("target")),  # type: ignore[arg-type]
    }


def render_files(model: dict[str, Any], env: Environment | None = None) -> dict[str, str]:
    env = env or make_environment()
    model = {"admission": admission_model(AdmissionSettings()), **model}  # no ceilings unless given
    return {name: env.get_template(name + ".j2").render(**model) for name in FILES}


def _write_atomic(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Owned like Asterisk's own config dir (the asterisk user), readable by it only:
    # pjsip.conf carries the extensions' secrets.
    st = path.parent.parent.stat()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o640)
        if os.geteuid() == 0:
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class RenderResult:
    changed: list[str]
    reloaded: list[str] = field(default_factory=list)
    reload_pending: list[str] = field(default_factory=list)


def admission_model(a: AdmissionSettings) -> dict[str, Any]:
    return {"enabled": bool(a.max_calls or a.max_calls_per_domain or a.max_new_per_second),
            "max_calls": a.max_calls, "max_calls_per_domain": a.max_calls_per_domain,
            "max_new_per_second": a.max_new_per_second}


class Renderer:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], config_dir: Path, *,
                 reloader: Reloader | None = None, qualify_frequency: int = 10, ari_app: str = "ccplane",
                 unknown_did_delay: int = 2, admission: AdmissionSettings | None = None) -> None:
        self.sessions = sessions
        self.admission = admission
        self.out_dir = Path(config_dir) / "ccplane"
        self.reloader = reloader
        self.qualify_frequency = qualify_frequency
        self.ari_app = ari_app
        self.unknown_did_delay = unknown_did_delay
        self.env = make_environment()
        self._lock = asyncio.Lock()
        # Files written while Asterisk could not be told: reloaded on reconnect.
        self._pending_reload: set[str] = set()

    async def render(self) -> dict[str, str]:
        model = await load_model(self.sessions, qualify_frequency=self.qualify_frequency, ari_app=self.ari_app,
                                 unknown_did_delay=self.unknown_did_delay, admission=self.admission)
        return render_files(model, self.env)

    def diff(self, files: dict[str, str]) -> list[str]:
        changed = []
        for name, content in files.items():
            path = self.out_dir / name
            try:
                current = path.read_text()
            except FileNotFoundError:
                current = None
            if current != content:
                changed.append(name)
        return changed

    async def check(self) -> list[str]:
        return self.diff(await self.render())

    async def apply(self) -> RenderResult:
        async with self._lock:
            files = await self.render()
            changed = self.diff(files)
            for name in changed:
                _write_atomic(self.out_dir / name, files[name])
                log.info("render.wrote %s", name, extra={"file": name})
            self._pending_reload.update(changed)
            result = RenderResult(changed=changed)
            await self._reload(result)
            return result

    async def _reload(self, result: RenderResult) -> None:
        for name in sorted(self._pending_reload):
            if self.reloader is None:
                result.reload_pending.append(name)
                continue
            try:
                await self.reloader(RELOADS[name])
            except Exception as exc:  # noqa: BLE001 - Asterisk down: reload on reconnect
                log.warning("render.reload_deferred %s: %s", name, exc)
                result.reload_pending.append(name)
            else:
                result.reloaded.append(name)
                self._pending_reload.discard(name)
