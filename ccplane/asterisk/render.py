"""Render the database into Asterisk config files and reload only what changed.

Files land in ``<config_dir>/ccplane/`` (the base configuration includes them).
Writes are atomic (temp file + rename) and only changed files are written;
each changed file triggers the reload of its own module, nothing else. The
same database always yields the same bytes.
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
# A feature's part of the model: reads what it owns, adds its keys (and may
# complete what a feature listed before it added, e.g. mark monitoring queues).
Contribution = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]


def conf_value(value: object) -> str:
    """Refuse values that could break out of their config line (``x]\\n[evil``)."""
    text = str(value)
    if any(c in text for c in "\r\n;[]"):
        raise ValueError(f"unsafe value for Asterisk config: {text!r}")
    return text.replace('"', "'")


@functools.cache
def make_environment() -> Environment:
    """One per process: its templates are compiled once, not at every app start."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=False,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["conf"] = conf_value
    return env


async def load_model(sessions: async_sessionmaker[AsyncSession], contributions: Sequence[Contribution], *,
                     qualify_frequency: int, ari_app: str = "ccplane", unknown_did_delay: int = 2,
                     admission: AdmissionSettings | None = None) -> dict[str, Any]:
    """Everything the templates need, computed here (by each feature's
    contribution, in feature order, in one session) so templates hold no logic."""
    model: dict[str, Any] = {"ari_app": ari_app, "unknown_did_delay": unknown_did_delay,
                             "qualify_frequency": qualify_frequency, "ring_timeout": 30, "slugs": {},
                             "admission": admission_model(admission or AdmissionSettings()),
                             "domains": [], "trunks": [], "routes": [], "blacklists": [], "ivrs": [], "queues": []}
    async with sessions() as s:
        for contribute in contributions:
            await contribute(s, model)
    return model


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


OWNER_FILE = "owner.json"  # in <config_dir>/ccplane/: which deployment renders here


class NotOwner(RuntimeError):
    """Another deployment (another database) renders into this Asterisk."""


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
                 contributions: Sequence[Contribution] = (), reloader: Reloader | None = None,
                 qualify_frequency: int = 10, ari_app: str = "ccplane", unknown_did_delay: int = 2,
                 admission: AdmissionSettings | None = None) -> None:
        self.sessions = sessions
        self.admission = admission
        self.contributions = list(contributions)
        self.out_dir = Path(config_dir) / "ccplane"
        self.reloader = reloader
        self.qualify_frequency = qualify_frequency
        self.ari_app = ari_app
        self.unknown_did_delay = unknown_did_delay
        self.env = make_environment()
        self.owner: str | None = None  # this deployment's id; None: no claim (tests of rendering alone)
        self.take_over = False
        self._lock = asyncio.Lock()
        # Files written while Asterisk could not be told: reloaded on reconnect.
        self._pending_reload: set[str] = set()

    async def render(self) -> dict[str, str]:
        model = await load_model(self.sessions, self.contributions, qualify_frequency=self.qualify_frequency,
                                 ari_app=self.ari_app, unknown_did_delay=self.unknown_did_delay,
                                 admission=self.admission)
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

    def claim(self) -> None:
        """Refuse to render into an Asterisk another deployment owns (two databases
        would overwrite each other's configuration: the other one's phones would
        fail registration); write our mark where there is none."""
        if self.owner is None:
            return
        path = self.out_dir / OWNER_FILE
        try:
            current = json.loads(path.read_text()).get("deployment")
        except FileNotFoundError:
            current = None
        except (ValueError, AttributeError):
            current = "unreadable"
        if current == self.owner:
            return
        if current is not None and not self.take_over:
            raise NotOwner(f"the Asterisk configuration in {self.out_dir} belongs to another ccplane deployment "
                           f"({current}); this one is {self.owner}. Point this deployment at its own Asterisk, or "
                           "set asterisk.take_over = true (CCPLANE_ASTERISK_TAKE_OVER=1) to take it over")
        if current is not None:
            log.warning("render.taking_over from=%s to=%s", current, self.owner)
        _write_atomic(path, json.dumps({"deployment": self.owner}) + "\n")

    async def apply(self) -> RenderResult:
        async with self._lock:
            self.claim()
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
