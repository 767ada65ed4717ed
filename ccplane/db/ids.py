"""Row ids handed out before the row is written.

An alert's call must ring before its row is committed (the ring must never wait
on the database), yet the call carries the alert's id. So ids are reserved a
block at a time, ahead of need, and the row is then inserted with its id.

PostgreSQL: the table's own sequence (``nextval``), so ids are unique across
every process and any other writer. SQLite has no sequences: the reservation's
high-water mark is a row of ``id_marks``, written in the same transaction that
reads it, so an id reserved once is never handed out again, even after a
restart (an alert whose row failed may still have a call ringing under its id).
Reserved ids that are never used leave gaps, as a sequence does.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque

from sqlalchemy import BigInteger, String, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from ..aio import cancel_and_wait
from .base import Base

log = logging.getLogger("ccplane.db")


class IdMark(Base):
    """The highest id reserved so far, per table (databases without sequences)."""
    __tablename__ = "id_marks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    high: Mapped[int] = mapped_column(BigInteger)


class IdReserve:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], table: str, *, block: int = 16) -> None:
        if not table.isidentifier():
            raise ValueError(f"not a table name: {table!r}")
        self.sessions = sessions
        self.table = table
        self.block = block
        self._free: deque[int] = deque()
        self._high = 0            # the highest id handed out or reserved by this process
        self._lock = asyncio.Lock()
        self._refill: asyncio.Task[None] | None = None

    async def take(self) -> int:
        """The next id; reads the database only when no reserved id is left."""
        if not self._free:
            await self._reserve()
        value = self._free.popleft()
        if len(self._free) < self.block // 2 and (self._refill is None or self._refill.done()):
            self._refill = asyncio.ensure_future(self._quiet_reserve())
        return value

    async def prime(self) -> None:
        """Reserve a block now (at start), so the first id costs no query."""
        await self._reserve()

    async def stop(self) -> None:
        await cancel_and_wait([self._refill], "ids")

    async def _quiet_reserve(self) -> None:
        try:
            await self._reserve()
        except Exception:  # noqa: BLE001 - the next take() reserves again and reports
            log.warning("ids.reserve_failed", extra={"table": self.table})

    async def _reserve(self) -> None:
        async with self._lock:
            if len(self._free) >= self.block // 2:
                return
            async with self.sessions() as s:
                if s.bind.dialect.name == "postgresql":
                    ids = list(await s.scalars(text(
                        f"SELECT nextval(pg_get_serial_sequence('{self.table}', 'id')) "
                        "FROM generate_series(1, :n)"), {"n": self.block}))
                else:
                    # The write comes first, so this transaction holds SQLite's write
                    # lock before it reads: two processes cannot reserve the same ids.
                    await s.execute(text("INSERT INTO id_marks (name, high) VALUES (:t, 0) "
                                         "ON CONFLICT (name) DO NOTHING"), {"t": self.table})
                    mark = await s.scalar(text("SELECT high FROM id_marks WHERE name = :t"), {"t": self.table})
                    top = await s.scalar(text(f"SELECT max(id) FROM {self.table}")) or 0
                    start = max(int(top), int(mark or 0), self._high) + 1
                    ids = list(range(start, start + self.block))
                    await s.execute(text("UPDATE id_marks SET high = :h WHERE name = :t"),
                                    {"h": ids[-1], "t": self.table})
                    await s.commit()
            ids = sorted(int(i) for i in ids)
            self._high = max(self._high, ids[-1])
            self._free.extend(ids)
