"""The alert audit log: rows stored with what they record, chained right after.

Each domain's rows form a hash chain (domain.py). Giving a row its place in the
chain (seq, previous hash) while it is stored would serialise every alert of a
domain behind one lock: a storm of 100 alerts would commit one at a time. So a
row is committed with its alert, unlinked (seq, prev_hash and hash empty), and
one chain writer per process links the domain's unlinked rows in id order, in
batches, right after the commit wakes it. An unlinked row is only ever the
newest part of the log; ``verify`` reports how many there are.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from ...aio import cancel_and_wait
from ..domains.models import Domain
from . import domain as rules
from .models import AlertAudit

log = logging.getLogger("ccplane.alerts")
_PENDING = "ccplane.audit_domains"
_BATCH = 500
LINGER = 0.05  # seconds
_WAKERS: list[Callable[[set[int]], None]] = []


async def append_audit(s: AsyncSession, domain_id: int, alert_id: int | None, actor: str, action: str,
                 data: dict[str, Any]) -> None:
    """Add one row to the domain's log, in the caller's transaction; once that
    commits, the chain writer links it (no lock held meanwhile)."""
    s.add(AlertAudit(**audit_values(domain_id, alert_id, actor, action, data)))
    _chain_after_commit(s, domain_id)


def audit_values(domain_id: int, alert_id: int | None, actor: str, action: str,
                 data: dict[str, Any]) -> dict[str, Any]:
    """One unlinked row of the log, as the values of an INSERT."""
    return {"domain_id": domain_id, "seq": None, "alert_id": alert_id, "actor": actor, "action": action,
            "data": rules.canonical(data), "at": datetime.now(UTC).isoformat(), "prev_hash": None, "hash": None}


async def insert_audits(s: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Many rows (``audit_values``) in one executemany, in the caller's transaction,
    in list order (the chain links them in id order): a storm's batch builds no
    ORM object per row."""
    if not rows:
        return
    await s.execute(insert(AlertAudit.__table__), rows)
    for domain_id in {row["domain_id"] for row in rows}:
        _chain_after_commit(s, domain_id)


def _chain_after_commit(s: AsyncSession, domain_id: int) -> None:
    domains = s.sync_session.info.get(_PENDING)
    if domains is None:
        domains = s.sync_session.info[_PENDING] = set()
        event.listen(s.sync_session, "after_commit", _committed, once=True)
    domains.add(domain_id)


def _committed(session: Session) -> None:
    domains = session.info.pop(_PENDING, None)
    if domains:
        for wake in _WAKERS:
            wake(domains)


class AuditChain:
    """The one writer that links committed audit rows into their domain's chain."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._wanted: set[int] = set()
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.linked = 0  # rows linked by this writer (the bench counts them)

    async def start(self) -> None:
        async with self.sessions() as s:  # rows left unlinked by a process that stopped
            self._wanted |= set(await s.scalars(select(AlertAudit.domain_id).where(AlertAudit.seq.is_(None))
                                                .distinct()))
        _WAKERS.append(self.want)
        self._task = asyncio.create_task(self._run(), name="alert-audit-chain")
        if self._wanted:
            self._event.set()

    async def stop(self) -> None:
        if self.want in _WAKERS:
            _WAKERS.remove(self.want)
        await cancel_and_wait([self._task], "audit chain")
        self._task = None
        for domain_id in sorted(self._wanted):  # what is committed is linked before the process goes
            try:
                await self.link(domain_id)
            except SQLAlchemyError:
                log.exception("alert.audit_link_failed", extra={"domain_id": domain_id})

    def want(self, domains: set[int]) -> None:
        self._wanted |= domains
        self._event.set()

    async def _run(self) -> None:
        while True:
            await self._event.wait()
            # Gather a burst into one chaining transaction, and leave the write lock
            # (SQLite) to the alerts being stored meanwhile.
            await asyncio.sleep(LINGER)
            self._event.clear()
            domains, self._wanted = self._wanted, set()
            for domain_id in sorted(domains):
                try:
                    if await self.link(domain_id) >= _BATCH:
                        self.want({domain_id})  # more are waiting
                except SQLAlchemyError:
                    log.exception("alert.audit_link_failed", extra={"domain_id": domain_id})
                    self._wanted.add(domain_id)
                    await asyncio.sleep(1)  # the database is unwell: try again, not in a tight loop
                    self._event.set()

    async def link(self, domain_id: int) -> int:
        """Link the domain's unlinked rows (a batch of them); returns how many."""
        async with self.sessions() as s:
            last = await s.scalar(select(AlertAudit).where(AlertAudit.domain_id == domain_id,
                                                           AlertAudit.seq.is_not(None))
                                  .order_by(AlertAudit.seq.desc()).limit(1).with_for_update())
            rows = list(await s.scalars(select(AlertAudit).where(AlertAudit.domain_id == domain_id,
                                                                 AlertAudit.seq.is_(None))
                                        .order_by(AlertAudit.id).limit(_BATCH)))
            if not rows:
                return 0
            seq = (last.seq or 0) if last else 0
            prev = (last.hash or rules.GENESIS) if last else rules.GENESIS
            for row in rows:
                seq += 1
                row.seq, row.prev_hash = seq, prev
                row.hash = prev = rules.chain_hash(prev, seq, row.alert_id, row.actor, row.action, row.data, row.at)
            await s.commit()
        self.linked += len(rows)
        return len(rows)

    async def flush(self) -> None:
        """Link everything committed so far (tests, the bench, shutdown)."""
        async with self.sessions() as s:
            domains = set(await s.scalars(select(AlertAudit.domain_id).where(AlertAudit.seq.is_(None)).distinct()))
        for domain_id in sorted(domains):
            while await self.link(domain_id) >= _BATCH:
                pass


async def verify_domain_chain(sessions: async_sessionmaker[AsyncSession], slug: str) -> tuple[bool, str]:
    async with sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == slug))
        if domain_id is None:
            return False, f"no domain {slug}"
        rows = await s.scalars(select(AlertAudit).where(AlertAudit.domain_id == domain_id,
                                                        AlertAudit.seq.is_not(None))
                               .order_by(AlertAudit.seq))
        ok, message = rules.verify_chain(rules.AuditRow(r.id, r.seq or 0, r.alert_id, r.actor, r.action, r.data,
                                                        r.at, r.prev_hash or "", r.hash or "") for r in rows)
        pending = len(list(await s.scalars(select(AlertAudit.id).where(AlertAudit.domain_id == domain_id,
                                                                       AlertAudit.seq.is_(None)))))
        return ok, message + (f"; {pending} newer row(s) not linked yet" if pending else "")
