"""The history of every agent's state, kept for the agent-activity report.

The agent board publishes an agent's view at every change (``AgentRuntime.listeners``,
the same stream the live feed gets). Each change of state or pause reason closes the
agent's open span and opens the next one (offline opens none). Changes are queued in
memory, in order, and written once a second in one transaction (retried on a busy
database, never dropped). Spans a previous process left open (a crash, a kill) are
closed at this process's start: the board rebuilds every agent's state at the resync
and opens their spans again.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...background import watch
from ...db.retry import retry_write
from ..domains.models import Domain
from .models import AgentStateSpan

log = logging.getLogger("ccplane.reports")
FLUSH_INTERVAL = 1.0


@dataclass(frozen=True)
class Change:
    slug: str
    username: str
    state: str
    reason: str | None
    at: datetime


class AgentStateLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], float] = time.time) -> None:
        self.sessions = sessions
        self.clock = clock
        self._current: dict[tuple[str, str], tuple[str, str | None]] = {}  # (slug, user) -> (state, reason)
        self._open: dict[tuple[str, str], int] = {}  # (slug, user) -> id of the open span, once written
        self._pending: list[Change] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._booted_at: datetime | None = None
        self._domain_ids: dict[str, int] = {}

    # -- from the agent board (synchronous, on the event loop) ---------------------
    def on_view(self, slug: str, view: dict[str, Any]) -> None:
        username = view.get("username")
        if not username:
            return
        state = str(view.get("state") or "offline")
        reason = view.get("pause_reason") if state == "paused" else None
        key = (slug, str(username))
        if self._current.get(key, ("offline", None)) == (state, reason):
            return
        if state == "offline":
            self._current.pop(key, None)
        else:
            self._current[key] = (state, reason)
        self._pending.append(Change(slug, str(username), state, reason,
                                    datetime.fromtimestamp(self.clock(), timezone.utc)))
        self._wake.set()

    # -- lifecycle -----------------------------------------------------------------
    async def start(self) -> None:
        self._booted_at = datetime.fromtimestamp(self.clock(), timezone.utc)
        self._task = asyncio.create_task(self._loop(), name="agent-state-log")
        watch(self._task, "agent state log writer")
        self._wake.set()  # close what an earlier process left open

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._pending:
            await self.flush()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(FLUSH_INTERVAL)
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - kept for the next flush, and logged
                log.exception("reports.agent_state_write_failed pending=%d", len(self._pending))
                self._wake.set()
                await asyncio.sleep(FLUSH_INTERVAL)

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch and self._booted_at is None:
            return
        try:
            opened = await retry_write(lambda: self._write(batch), "agent state spans", changes=len(batch))
        except BaseException:
            self._pending = batch + self._pending  # in order, never dropped
            raise
        self._open = opened

    async def _write(self, batch: list[Change]) -> dict[tuple[str, str], int]:
        """The batch in a handful of statements whatever its size: the spans it closes
        (open ones of earlier batches) in one executemany UPDATE, the spans that open
        and close within it in one executemany INSERT, and the spans left open in one
        executemany INSERT ... RETURNING (one per agent, found again by domain and name)."""
        opened = dict(self._open)
        async with self.sessions() as s:
            if self._booted_at is not None:
                await s.execute(update(AgentStateSpan).where(AgentStateSpan.ended_at.is_(None),
                                                             AgentStateSpan.started_at < self._booted_at)
                                .values(ended_at=self._booted_at))
            closes: list[dict[str, Any]] = []
            done: list[dict[str, Any]] = []
            still_open: dict[tuple[str, str], dict[str, Any]] = {}
            for change in batch:
                key = (change.slug, change.username)
                pk = opened.pop(key, None)
                if pk is not None:
                    closes.append({"pk": pk, "end": change.at})
                previous = still_open.pop(key, None)
                if previous is not None:  # opened earlier in this batch: stored closed
                    done.append({**previous, "ended_at": change.at})
                if change.state == "offline":
                    continue
                domain_id = await self._domain_id(s, change.slug)
                if domain_id is None:
                    continue
                still_open[key] = {"domain_id": domain_id, "username": change.username[:64],
                                   "state": change.state[:16], "reason": change.reason[:64] if change.reason else None,
                                   "started_at": change.at, "ended_at": None}
            if closes:
                table = AgentStateSpan.__table__
                await s.execute(update(table).where(table.c.id == bindparam("pk")).values(ended_at=bindparam("end")),
                                closes)
            if done:
                await s.execute(insert(AgentStateSpan.__table__), done)  # Core: every column, one executemany
            if still_open:
                keys = {(row["domain_id"], row["username"]): key for key, row in still_open.items()}
                table = AgentStateSpan.__table__
                returned = await s.execute(insert(table).returning(table.c.id, table.c.domain_id, table.c.username),
                                           list(still_open.values()))
                for span_id, domain_id, username in returned:
                    opened[keys[(domain_id, username)]] = int(span_id)
            await s.commit()
        self._booted_at = None
        return opened

    async def _domain_id(self, s: AsyncSession, slug: str) -> int | None:
        if slug not in self._domain_ids:
            domain_id = await s.scalar(select(Domain.id).where(Domain.slug == slug))
            if domain_id is None:
                return None
            self._domain_ids[slug] = domain_id
        return self._domain_ids[slug]
