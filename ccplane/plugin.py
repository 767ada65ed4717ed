"""Feature plugins: each feature folder exposes one ``FEATURE`` (its
``plugin.py``) and ``app.py`` lists them once, in dependency order.

A feature's ``setup(wiring)`` builds its services from the core resources and
the services of the features listed before it, adds them with
``wiring.provide(name, service)``, subscribes to events (AMI, the bus) and
registers its lifecycle hooks. Its ``api`` is its endpoint table and its
``render`` the part of the Asterisk configuration model it owns (see
``asterisk/render.py``). Adding a feature is a new folder plus one line in
``app.FEATURES``.

Example::

    def setup(w: Wiring) -> None:
        calls = CallService(w.core.sessions, w.core.ami, w.core.bus, ...)
        w.provide("calls", calls)
        w.on_start(calls.start)
        w.on_stop("calls", calls.stop)

    FEATURE = Feature("calls", setup, api=api)
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from .asterisk.ami import AmiClient
    from .asterisk.ari import AriClient
    from .asterisk.connection import AsteriskTarget
    from .asterisk.render import Contribution, Renderer
    from .asterisk.tracker import ContactTracker
    from .bus import EventBus
    from .leader import Leadership
    from .scheduler import Scheduler
    from .settings import Settings
    from .web.live import LiveHub
    from .web.routing import Api

Hook = Callable[[], Awaitable[None]]


@dataclass
class Feature:
    name: str
    setup: Callable[["Wiring"], None] | None = None
    api: "Api | None" = None
    render: "Contribution | None" = None


class Services:
    """The core resources and every feature's services, by name
    (``services.ami``, ``services.calls``...)."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    ami: "AmiClient"
    ari: "AriClient"
    contacts: "ContactTracker"
    renderer: "Renderer"
    live: "LiveHub"
    bus: "EventBus"
    leadership: "Leadership"
    scheduler: "Scheduler"

    def __init__(self, **core: Any) -> None:
        self.__dict__.update(core)
        self.telephony_started = False
        self.ready = False  # telephony fully started: the API may serve
        self.resynced = False  # the last AMI (re)connect's resync finished: state matches Asterisk
        self.exit_on_demotion = False
        self.render_error: str | None = None  # rendering refused (another deployment owns the Asterisk)
        self.start_hooks: list[Hook] = []
        self.after_start_hooks: list[Hook] = []
        self.stop_hooks: list[tuple[str, Hook]] = []
        self.resync_hooks: list[tuple[bool, Hook]] = []  # (before rendering?, hook)

    def __getattr__(self, name: str) -> Any:  # a feature's service that is not there
        raise AttributeError(f"no service {name!r}: is its feature listed in app.FEATURES?")


@dataclass
class Wiring:
    settings: "Settings"
    target: "AsteriskTarget"
    core: Services
    changed: Hook  # routing or configuration changed: re-render, then tell the followers
    followers: list[Hook] = field(default_factory=list)  # run after every re-render caused by a change
    provided: list[str] = field(default_factory=list)

    @property
    def sounds_dir(self) -> Path | None:
        return self.target.sounds_dir

    def provide(self, name: str, service: Any) -> Any:
        if name in self.core.__dict__:
            raise ValueError(f"service {name!r} provided twice")
        setattr(self.core, name, service)
        self.provided.append(name)
        return service

    def on_start(self, hook: Hook) -> None:
        """Run when this replica starts telephony (elected), before AMI connects."""
        self.core.start_hooks.append(hook)

    def on_stop(self, what: str, hook: Hook) -> None:
        """Run, bounded, when telephony stops (in reverse order of registration)."""
        self.core.stop_hooks.append((what, hook))

    def on_resync(self, hook: Hook, *, before_render: bool = False) -> None:
        """Run after every AMI (re)connect: once the configuration is rendered, or
        just before it is (what rendering does not depend on)."""
        self.core.resync_hooks.append((before_render, hook))

    def after_start(self, hook: Hook) -> None:
        """Run once AMI and ARI are started and the configuration is rendered."""
        self.core.after_start_hooks.append(hook)
