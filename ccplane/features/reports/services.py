"""Reports over the call journeys (tables ``calls`` and ``call_legs``), computed
in SQL: every aggregation runs in the database, the same expressions on SQLite
and PostgreSQL (the only dialect-specific pieces are a duration between two
times and the local hour/day of a time, both built here). Definitions: docs/reports.md.
"""
from __future__ import annotations

import asyncio
import base64
import functools
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (ColumnElement, DateTime, Integer, String, and_, bindparam, case, cast, exists, func, literal_column,
                        null, or_, select, text, type_coerce, union_all)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from ...errors import ValidationFailed
from ...web.context import READ_ROLES, Principal
from ..agents.models import AgentSession
from ..attendances.models import Attendance
from ..calls.models import CallLeg, CallRecord
from ..common import DEFAULT_ZONE, as_utc
from ..domains.services import resolve_domain
from ..recordings.models import Recording
from ..users.models import User
from . import models as _indexes  # noqa: F401 (the indexes join the metadata)
from .models import AgentStateSpan
from .schemas import ReportQuery, _names

C, L = CallRecord, CallLeg
ABANDON_BUCKETS = ((0, 10), (10, 30), (30, 60), (60, None))  # seconds waited before abandoning
UNANSWERED_OFFERS = ("no_answer", "busy", "rejected", "unavailable")
TALK_LEGS = ("agent", "extension", "external")


def _n(value: Any) -> float | None:
    return round(float(value), 3) if value is not None else None


def _pct(part: int | float | None, whole: int | float | None) -> float | None:
    return round(100.0 * float(part or 0) / float(whole), 2) if whole else None




class Report:
    """One report request: its domain, its period and filters, the SQL pieces."""

    def __init__(self, dialect: str, domain_id: int, q: ReportQuery) -> None:
        self.dialect, self.domain_id, self.q = dialect, domain_id, q
        self.slug = ""  # the domain's slug (links in the detailed report)
        # compared in UTC, as stored: SQLite's DateTime binding drops the offset
        self.start, self.end = q.from_.astimezone(timezone.utc), q.to.astimezone(timezone.utc)
        self.sl, self.short = q.service_level, q.short_abandon
        # Hours and days bucket in the domain's zone at the start of the period:
        # one offset for the whole period, so SQLite and PostgreSQL agree (a DST
        # change inside the period shifts the later buckets by an hour; the
        # default zone, America/Sao_Paulo, has had no DST since 2019).
        self.offset = int(ZoneInfo(q.timezone or DEFAULT_ZONE).utcoffset(q.from_.replace(tzinfo=None)).total_seconds())  # type: ignore[union-attr]

    # -- dialect pieces -----------------------------------------------------------------
    def seconds(self, a: Any, b: Any) -> ColumnElement[Any]:
        """Seconds from a to b."""
        if self.dialect == "sqlite":
            return (func.julianday(b) - func.julianday(a)) * 86400.0
        return func.extract("epoch", b - a)

    def overlap(self, started: Any, ended: Any, now: datetime) -> ColumnElement[Any]:
        """Seconds of [started, ended or now) inside the period."""
        pick_max, pick_min = (func.max, func.min) if self.dialect == "sqlite" else (func.greatest, func.least)
        return self.seconds(pick_max(started, self.start), pick_min(func.coalesce(ended, now), self.end))

    def local(self, col: Any, unit: str) -> ColumnElement[Any]:
        if self.dialect == "sqlite":
            # literals, not bound parameters: SQLite matches the GROUP BY to the selected expression
            # only when both are written the same (two '?' are two expressions, computed twice a row)
            fmt = "'%Y-%m-%d %H:00'" if unit == "hour" else "'%Y-%m-%d'"
            return func.strftime(literal_column(fmt), col, literal_column(f"'{self.offset:+d} seconds'"))
        # date_trunc on the local wall time (a timestamp without zone): a third cheaper than to_char
        # per row; label() formats the bucket as SQLite's strftime writes it
        return func.date_trunc(unit, func.timezone("UTC", col) + text(f"interval '{self.offset:d} seconds'"))

    @staticmethod
    def label(value: Any, unit: str | None) -> Any:
        """A local hour/day bucket as text, 'YYYY-MM-DD HH:00' / 'YYYY-MM-DD', on either database."""
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:00" if unit == "hour" else "%Y-%m-%d")
        return value

    # -- filters --------------------------------------------------------------------------
    def where(self) -> list[ColumnElement[bool]]:
        q = self.q
        w: list[ColumnElement[bool]] = [C.domain_id == self.domain_id, C.status == "ended",
                                        C.started_at >= self.start, C.started_at < self.end]
        if queues := _names(q.queues):
            w.append(C.queue.in_(queues))
        if agents := _names(q.agents):
            w.append(C.agent.in_(agents))
        if dids := _names(q.dids):
            w.append(C.did.in_(dids))
        if dispositions := _names(q.dispositions):
            w.append(C.end_reason.in_(dispositions))
        if q.direction:
            w.append(C.direction == q.direction)
        return w

    def shape(self) -> tuple[bool, ...]:
        """Which filters the query uses (the detailed statement is built once per shape: _page_statement)."""
        q = self.q
        return tuple(bool(_names(v)) for v in (q.queues, q.agents, q.dids, q.dispositions)) + (bool(q.direction),)

    def bound(self) -> dict[str, Any]:
        """The values of where()'s conditions, for the statement of the same shape built with bindparams."""
        q = self.q
        return {"domain": self.domain_id, "start": self.start, "end": self.end, "queues": _names(q.queues),
                "agents": _names(q.agents), "dids": _names(q.dids), "dispositions": _names(q.dispositions),
                "direction": q.direction}

    def group(self, by: str | None) -> Any:
        return {None: None, "queue": C.queue, "agent": C.agent, "did": C.did, "disposition": C.end_reason,
                "hour": self.local(C.started_at, "hour"), "day": self.local(C.started_at, "day")}[by]

    # -- figures ----------------------------------------------------------------------------
    def _count(self, cond: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((cond, 1), else_=0))

    def quantitative_cols(self) -> list[Any]:
        answered = C.answered_at.is_not(None)
        abandon = C.end_reason == "abandon"
        cols = [func.count().label("total"), self._count(answered).label("answered"),
                self._count(abandon).label("abandoned"),
                self._count(and_(abandon, func.coalesce(C.wait_seconds, 0) < self.short)).label("short_abandoned"),
                self._count(C.transferred).label("transferred"),
                self._count(C.end_reason == "blacklist").label("blacklisted"),
                self._count(C.end_reason == "overflow").label("overflowed"),
                self._count(C.end_reason.in_(("max_wait", "call_timeout"))).label("timed_out")]
        for lo, hi in ABANDON_BUCKETS:
            cond = and_(abandon, func.coalesce(C.wait_seconds, 0) >= lo)
            if hi is not None:
                cond = and_(cond, C.wait_seconds < hi)
            cols.append(self._count(cond).label(f"abandoned_{lo}_{hi or 'more'}"))
        return cols

    def summary_cols(self) -> list[Any]:
        answered = C.answered_at.is_not(None)
        queued = C.wait_seconds.is_not(None)
        abandon = C.end_reason == "abandon"
        counted_abandon = and_(abandon, func.coalesce(C.wait_seconds, 0) >= self.short)
        return [func.count().label("total"),
                self._count(answered).label("answered"),
                self._count(counted_abandon).label("abandoned"),
                func.avg(case((queued, C.wait_seconds))).label("wait_avg"),
                func.max(case((queued, C.wait_seconds))).label("wait_max"),
                func.avg(case((and_(answered, queued), C.wait_seconds))).label("asa"),
                func.avg(C.talk_seconds).label("talk_avg"), func.max(C.talk_seconds).label("talk_max"),
                func.sum(C.talk_seconds).label("talk_total"),
                func.avg(C.ring_seconds).label("ring_avg"),
                self._count(and_(answered, func.coalesce(C.wait_seconds, 0) <= self.sl)).label("answered_within_sl"),
                self._count(and_(counted_abandon, C.wait_seconds > self.sl)).label("abandoned_after_sl")]

    @staticmethod
    def quantitative_row(r: dict[str, Any]) -> dict[str, Any]:
        total = int(r["total"] or 0)
        out: dict[str, Any] = {k: int(v or 0) for k, v in r.items() if k != "group"}
        out["unanswered"] = total - out["answered"]
        out["callbacks"] = None  # not recorded yet (the callbacks issue adds them)
        for k in ("answered", "unanswered", "abandoned", "transferred", "blacklisted", "overflowed", "timed_out"):
            out[f"{k}_pct"] = _pct(out[k], total)
        return out

    @staticmethod
    def summary_row(r: dict[str, Any]) -> dict[str, Any]:
        answered, abandoned = int(r["answered"] or 0), int(r["abandoned"] or 0)
        within, late = int(r["answered_within_sl"] or 0), int(r["abandoned_after_sl"] or 0)
        return {"total": int(r["total"] or 0), "answered": answered, "abandoned": abandoned,
                "wait_avg": _n(r["wait_avg"]), "wait_max": _n(r["wait_max"]), "asa": _n(r["asa"]),
                "talk_avg": _n(r["talk_avg"]), "talk_max": _n(r["talk_max"]), "talk_total": _n(r["talk_total"]) or 0.0,
                "ring_avg": _n(r["ring_avg"]), "wrapup_total": None,  # wrap-up is not recorded per call yet
                "answered_within_sl": within, "service_level_pct": _pct(within, answered + late),
                "abandon_rate_pct": _pct(abandoned, answered + abandoned)}


def _cursor(started: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{as_utc(started).isoformat()}|{pk}".encode()).decode()  # type: ignore[union-attr]


def _uncursor(value: str) -> tuple[datetime, int]:
    try:
        when, pk = base64.urlsafe_b64decode(value.encode()).decode().split("|")
        return datetime.fromisoformat(when), int(pk)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("after: not a cursor this report returned", field="after") from None


class ReportService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self.sessions, self.dialect = sessions, dialect

    async def open(self, me: Principal, slug: str, q: ReportQuery) -> tuple[Report, str]:
        # Supervisors and admins read every call of the domain; an agent reads no
        # report (their own calls are at GET /calls): a report is a team figure.
        me.require(READ_ROLES, "read reports")
        if q.to <= q.from_:
            raise ValidationFailed("to: must be after from", field="to")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
        if q.timezone is None:  # hours and days bucket in the domain's zone unless asked otherwise
            q = q.model_copy(update={"timezone": domain.timezone})
        rep = Report(self.dialect, domain.id, q)
        rep.slug = domain.slug
        return rep, domain.slug

    async def aggregate(self, rep: Report, kind: str) -> list[dict[str, Any]]:
        by = "queue" if kind == "listing" else rep.q.group_by
        g = rep.group(by)
        cols = rep.quantitative_cols() if kind == "quantitative" else rep.summary_cols()
        if kind == "listing":
            cols = rep.summary_cols() + [c for c in rep.quantitative_cols() if c.name not in
                                         ("total", "answered", "abandoned")]
        stmt = select(*([g.label("group")] if g is not None else []), *cols).where(*rep.where())
        if g is not None:
            # the calls without a queue/agent/DID last on both databases (SQLite sorts NULL first)
            stmt = stmt.group_by(g).order_by(g.asc().nulls_last())
        async with self.sessions() as s:
            rows = [dict(r._mapping) for r in await s.execute(stmt)]
        out = []
        for r in rows:
            if kind == "quantitative":
                item = rep.quantitative_row(r)
            elif kind == "summary":
                item = rep.summary_row(r)
            else:
                names = {c.name for c in rep.quantitative_cols()}
                q = rep.quantitative_row({k: r[k] for k in r if k in names})
                item = q | rep.summary_row(r)
            if g is not None:
                item = {str(by): rep.label(r["group"], by)} | item
            out.append(item)
        return out

    # -- detailed -------------------------------------------------------------------------
    async def _rows(self, rep: Report, after: tuple[datetime, int] | None, limit: int, all_legs: bool) -> list[Any]:
        """One keyset page of the period's calls in one statement (_page_statement): each call's row
        with its legs, then its attendances and recordings, in call order."""
        params = rep.bound() | {"limit": limit}
        if after:
            params |= {"after_at": after[0], "after_id": after[1]}
        stmt = _page_statement(rep.shape(), after is not None, all_legs)
        async with self.sessions() as session:
            # one read statement: no transaction around it on PostgreSQL (no BEGIN/ROLLBACK round trips)
            s = await session.connection(execution_options=_AUTOCOMMIT.get(self.dialect))
            return list((await s.execute(stmt, params)).all())

    async def detailed_page(self, rep: Report, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the detailed report in JSON: the flat columns and every leg."""
        calls = _group(await self._rows(rep, _uncursor(after) if after else None, limit, True), rep.slug, _JSON_LEGS)
        rows = [_detail(c, legs, extra) for c, legs, extra in calls]
        nxt = _cursor(calls[-1][0].started_at, calls[-1][0].id) if len(calls) == limit else None
        return rows, nxt

    async def detailed_pages(self, rep: Report) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The whole period's detailed rows as tuples of DETAIL_COLUMNS (the CSV/XLSX exports, texts
        already quoted against formulas: csv_table(..., safe=True)), PAGE calls per statement (keyset):
        memory stays flat whatever the period holds. The next page's statement is sent before this
        page is formatted, and the event loop gets a turn every SLICE calls, so the database computes
        the next page while this one is written out (and other requests are served meanwhile)."""
        ahead: asyncio.Task[Any] | None = asyncio.ensure_future(self._rows(rep, None, PAGE, False))
        try:
            while ahead is not None:
                rows = await ahead
                ahead = None
                if not rows:
                    break
                last = rows[-1]  # the page's last call (its attendances and recordings carry its key too)
                ahead = asyncio.ensure_future(self._rows(rep, (last.started_at, last.id), PAGE, False))
                calls = _group(rows, rep.slug, _FLAT_LEGS)
                del rows
                for i in range(0, len(calls), SLICE):
                    await asyncio.sleep(0)  # the next page's statement goes out
                    yield [_flat(c, legs, extra, True) for c, legs, extra in calls[i:i + SLICE]]
        finally:
            if ahead is not None:  # the reader went away (a closed download): no page left running
                ahead.cancel()

    async def _no_jit(self, s: AsyncSession) -> None:
        """No JIT compilation for this transaction's statements on PostgreSQL: a list's per-row probes
        make the planner's cost high enough to compile (a third of a second on the abandoned list) for
        a statement that runs in less."""
        if self.dialect == "postgresql":
            await s.execute(text("SET LOCAL jit = off"))

    # -- abandoned -------------------------------------------------------------------------
    async def abandoned(self, rep: Report) -> list[dict[str, Any]]:
        later = aliased(CallRecord)
        ll = aliased(CallLeg)
        reached_back = or_(
            exists().where(later.domain_id == C.domain_id, later.caller == C.caller,
                           later.started_at > C.started_at, later.answered_at.is_not(None)),
            exists().where(ll.call_pk == later.id, later.domain_id == C.domain_id, later.started_at > C.started_at,
                           ll.number == C.caller, ll.kind == "external", ll.answered_at.is_not(None)))
        stmt = (select(C.call_id, C.caller, C.caller_name, C.did, C.queue,
                       type_coerce(C.started_at, DateTime(timezone=True)).label("started_at"),  # _iso: no decorator
                       C.wait_seconds, C.queue_position, reached_back.label("reached_back"))
                .where(*rep.where(), C.end_reason == literal_column("'abandon'"))  # a literal: ix_calls_abandoned
                .order_by(C.started_at, C.id))
        async with self.sessions() as s:
            await self._no_jit(s)
            conn = await s.connection()  # Core rows: no ORM loading for tens of thousands of calls
            rows = (await conn.execute(stmt)).all()
        short = rep.short
        return [{"call": call, "caller": caller, "caller_name": name, "did": did, "queue": queue,
                 "started_at": _iso(started),
                 "wait": None if wait is None else round(float(wait), 3),
                 "position": position,  # its place in line when it joined the queue
                 "short": (wait or 0) < short, "reached_back": bool(back)}
                for call, caller, name, did, queue, started, wait, position, back in rows]

    # -- agent activity ------------------------------------------------------------------
    async def agent_activity(self, rep: Report) -> list[dict[str, Any]]:
        answered_leg = and_(L.kind == "agent", L.answered_at.is_not(None))
        talk = case((answered_leg, rep.seconds(L.answered_at, L.ended_at)))
        where = [*rep.where(), L.agent.is_not(None)]  # IS NOT NULL: ix_call_legs_agent_call (partial)
        if agents := _names(rep.q.agents):
            where.append(L.agent.in_(agents))
        # The period's calls' key range, first: the legs are then read as a range of that index
        # (redundant with the join, which still decides; without it every leg of every day is read).
        bounds = select(func.min(C.id), func.max(C.id), func.count()).where(*rep.where())
        stmt = (select(L.agent, rep._count(L.kind == "offer").label("offers"),
                       rep._count(and_(L.kind == "offer", L.result.in_(UNANSWERED_OFFERS))).label("offers_unanswered"),
                       rep._count(and_(L.kind == "offer", L.result == "no_answer")).label("offers_no_answer"),
                       rep._count(answered_leg).label("calls"),
                       func.sum(talk).label("talk_total"),
                       rep._count(and_(L.kind == "transfer")).label("transfers"))
                .join(C, C.id == L.call_pk).where(*where).group_by(L.agent).order_by(L.agent))
        sessions = (select(User.username, AgentSession.logged_in_at, AgentSession.paused, AgentSession.pause_reason,
                           AgentSession.paused_at).join(AgentSession, AgentSession.user_id == User.id)
                    .where(AgentSession.domain_id == rep.domain_id))
        S = AgentStateSpan
        clock = datetime.now(timezone.utc)
        span_where = [S.domain_id == rep.domain_id, S.started_at < rep.end, func.coalesce(S.ended_at, clock) > rep.start]
        if agents := _names(rep.q.agents):
            span_where.append(S.username.in_(agents))
        spans = (select(S.username, S.state, S.reason, func.sum(rep.overlap(S.started_at, S.ended_at, clock)).label("secs"),
                        func.count().label("n"))
                 .where(*span_where).group_by(S.username, S.state, S.reason))
        async with self.sessions() as s:
            await self._no_jit(s)
            lo, hi, _n_calls = (await s.execute(bounds)).one()  # count(): min/max alone would walk the primary key
            rows = {r.agent: r for r in await s.execute(stmt.where(L.call_pk >= lo, L.call_pk <= hi))} \
                if lo is not None else {}
            now = {r.username: r for r in await s.execute(sessions)}
            times: dict[str, dict[str, float]] = {}
            pauses: dict[str, dict[str, float]] = {}
            mna: dict[str, int] = {}
            for r in await s.execute(spans):
                secs = max(0.0, float(r.secs or 0))
                by_state = times.setdefault(r.username, {})
                by_state[r.state] = by_state.get(r.state, 0.0) + secs
                if r.state == "paused":
                    reason = r.reason or "pause"
                    pauses.setdefault(r.username, {})[reason] = pauses.get(r.username, {}).get(reason, 0.0) + secs
                    if reason == "max-no-answer":
                        mna[r.username] = mna.get(r.username, 0) + int(r.n)
        out = []
        for agent in sorted(set(rows) | set(times)):
            r, sess, t = rows.get(agent), now.get(agent), times.get(agent, {})
            logged = sum(t.values())
            handling = t.get("in_call", 0.0) + t.get("wrapup", 0.0)
            workable = logged - t.get("paused", 0.0) - t.get("inactive", 0.0)
            out.append({"agent": agent, "offers": int(r.offers or 0) if r else 0,
                        "offers_unanswered": int(r.offers_unanswered or 0) if r else 0,
                        "offers_no_answer": int(r.offers_no_answer or 0) if r else 0,
                        "calls": int(r.calls or 0) if r else 0,
                        "talk_total": (_n(r.talk_total) or 0.0) if r else 0.0,
                        "wrapup_total": _n(t.get("wrapup", 0.0)), "transfers": int(r.transfers or 0) if r else 0,
                        "logged_in_total": _n(logged), "available_total": _n(t.get("available", 0.0)),
                        "ringing_total": _n(t.get("ringing", 0.0)), "in_call_total": _n(t.get("in_call", 0.0)),
                        "pause_total": _n(t.get("paused", 0.0)),
                        "pauses": {k: _n(v) for k, v in sorted(pauses.get(agent, {}).items())},
                        "max_no_answer_pauses": mna.get(agent, 0),
                        "occupancy": _pct(handling, workable) if workable > 0 else None,
                        "logged_in_since": as_utc(sess.logged_in_at).isoformat() if sess else None,  # type: ignore[union-attr]
                        "paused_now": bool(sess.paused) if sess else None,
                        "pause_reason_now": sess.pause_reason if sess else None})
        return out


    # -- call groups ---------------------------------------------------------------------
    async def call_groups(self, rep: Report) -> list[dict[str, Any]]:
        """Per call group (ring group): the calls it received and what became of them."""
        E = aliased(CallLeg)  # the extension that answered for the group
        answered = L.result == "answered"
        to_answer = case((answered, rep.seconds(L.started_at, L.answered_at)))
        talk = rep.seconds(E.answered_at, E.ended_at)
        stmt = (select(L.detail.label("group"), func.count().label("received"),
                       rep._count(answered).label("answered"),
                       rep._count(L.result.in_(("no_answer", "busy", "unavailable", "rejected", "cancel")))
                       .label("unanswered"),
                       rep._count(L.result == "hangup").label("abandoned"),
                       func.avg(to_answer).label("answer_avg"), func.max(to_answer).label("answer_max"),
                       func.sum(talk).label("talk_total"), func.avg(talk).label("talk_avg"))
                .join(C, C.id == L.call_pk)
                .outerjoin(E, and_(answered, E.call_pk == L.call_pk, E.kind == "extension",
                                   E.extension == L.extension, E.answered_at.is_not(None)))
                .where(*rep.where(), L.kind == "callgroup").group_by(L.detail).order_by(L.detail))
        by_ext = (select(L.detail, L.extension, func.count()).join(C, C.id == L.call_pk)
                  .where(*rep.where(), L.kind == "callgroup", answered)
                  .group_by(L.detail, L.extension).order_by(L.detail, L.extension))
        async with self.sessions() as s:
            rows = (await s.execute(stmt)).all()
            answered_by: dict[str, dict[str, int]] = {}
            for group, ext, n in await s.execute(by_ext):
                answered_by.setdefault(group, {})[ext or "?"] = int(n)
        return [{"group": r.group, "received": int(r.received), "answered": int(r.answered or 0),
                 "answered_pct": _pct(r.answered, r.received), "unanswered": int(r.unanswered or 0),
                 "abandoned": int(r.abandoned or 0), "answer_avg": _n(r.answer_avg), "answer_max": _n(r.answer_max),
                 "talk_total": _n(r.talk_total) or 0.0, "talk_avg": _n(r.talk_avg),
                 "answered_by": " ".join(f"{k}:{v}" for k, v in sorted(answered_by.get(r.group, {}).items())) or None}
                for r in rows]


DETAIL_COLUMNS = ("call", "started_at", "answered_at", "ended_at", "direction", "caller", "caller_name", "did",
                  "queue", "agent", "disposition", "wait", "talk", "ivr", "agents_tried", "transfers",
                  "protocols", "qualification", "recordings")
# the times as plain DateTime: _iso reads a naive SQLite value as UTC itself (no per-value decorator)
CALL_COLS = (C.id, C.call_id, *(type_coerce(col, DateTime(timezone=True)).label(col.key) for col in
                                (C.started_at, C.answered_at, C.ended_at)),
             C.direction, C.caller, C.caller_name, C.did, C.queue, C.agent, C.end_reason, C.wait_seconds,
             C.talk_seconds)
FLAT_LEG_KINDS = ("ivr", "offer", "transfer")  # the legs the flat columns summarise
PAGE = 5000  # detailed rows per statement when streaming
SLICE = 500  # calls formatted between two turns of the event loop
# A leg as the detailed statement reads it: the flat columns' four first (_flat reads them by
# position), the JSON's the rest. The export reads only _FLAT_LEGS of them, and only FLAT_LEG_KINDS.
LEG_FIELDS = ("kind", "agent", "result", "detail", "queue", "extension", "number",
              "started_at", "answered_at", "ended_at")
_FLAT_LEGS, _JSON_LEGS = 4, len(LEG_FIELDS)
_AUTOCOMMIT: dict[str, dict[str, Any]] = {"postgresql": {"isolation_level": "AUTOCOMMIT"}}
# positions in a detailed statement's row: the call (CALL_COLS), then part, seq, the leg, then at, n,
# protocol, disposition (an attendance's or a recording's)
_PART, _LEG0 = len(CALL_COLS), len(CALL_COLS) + 2


@functools.lru_cache(maxsize=128)
def _page_statement(shape: tuple[bool, ...], after: bool, all_legs: bool) -> Any:
    """A keyset page of the detailed report in one statement, built once per filter shape with bind
    parameters (Report.bound(), limit, after_at/after_id): the page's calls (a CTE) with their legs
    (part 0: one row per leg, or one row for a call without), their attendances (part 1) and their
    recordings (part 2), in call order. The same figures as reading the three apart, in one round trip."""
    queues, agents, dids, dispositions, direction = shape
    w: list[ColumnElement[bool]] = [C.domain_id == bindparam("domain"), C.status == "ended",
                                    C.started_at >= bindparam("start"), C.started_at < bindparam("end")]
    for used, col, name in ((queues, C.queue, "queues"), (agents, C.agent, "agents"), (dids, C.did, "dids"),
                            (dispositions, C.end_reason, "dispositions")):
        if used:
            w.append(col.in_(bindparam(name, expanding=True)))
    if direction:
        w.append(C.direction == bindparam("direction"))
    if after:  # the bare bound first, so the index range starts at the cursor (an OR alone scans from the start)
        w += [C.started_at >= bindparam("after_at"), or_(C.started_at > bindparam("after_at"),
                                                         C.id > bindparam("after_id"))]
    page = select(*CALL_COLS).where(*w).order_by(C.started_at, C.id).limit(bindparam("limit", type_=Integer)).cte("page")
    fields = LEG_FIELDS if all_legs else LEG_FIELDS[:_FLAT_LEGS]
    on = L.call_pk == page.c.id
    if not all_legs:
        on = and_(on, L.kind.in_(FLAT_LEG_KINDS))
    stamp = DateTime(timezone=True)  # plain DateTime, as CALL_COLS: _iso reads SQLite's naive values as UTC
    blanks = [null().label(f"blank{i}") for i in range(3, len(CALL_COLS))]
    no_leg = [null().label(f"leg_{f}") for f in fields]
    legs = select(*page.c, literal_column("0").label("part"), L.seq.label("seq"),
                  *((type_coerce(getattr(L, f), stamp) if f.endswith("_at") else getattr(L, f)).label(f"leg_{f}")
                    for f in fields),
                  type_coerce(null(), stamp).label("at"), cast(null(), Integer).label("n"),
                  cast(null(), String).label("protocol"), cast(null(), String).label("disposition")
                  ).select_from(page.outerjoin(L, on))
    A, R = Attendance, Recording
    attendances = select(page.c.id, page.c.call_id, page.c.started_at, *blanks, literal_column("1"), null(), *no_leg,
                         A.started_at, A.id, A.protocol, A.disposition
                         ).select_from(page.join(A, and_(A.call_id == page.c.call_id, A.domain_id == bindparam("domain"))))
    recordings = select(page.c.id, page.c.call_id, page.c.started_at, *blanks, literal_column("2"), null(), *no_leg,
                        R.started_at, R.id, null(), null()
                        ).select_from(page.join(R, and_(R.call_id == page.c.call_id, R.domain_id == bindparam("domain"))))
    u = union_all(legs, attendances, recordings).subquery("detail")
    return select(u).order_by(u.c.started_at, u.c.id, u.c.part, u.c.seq, u.c.at, u.c.n)


def _group(rows: list[Any], slug: str, n_leg: int) -> list[tuple[Any, list[tuple[Any, ...]], Any]]:
    """A detailed statement's rows as (call row, its legs, its extras or None) in call order; extras
    are (protocols, qualifications protocol:disposition, recording links), each in time order."""
    out: list[Any] = []
    legs: list[tuple[Any, ...]] = []
    last = None
    part, leg0, leg_end = _PART, _LEG0, _LEG0 + n_leg
    at_n = leg_end + 1  # at, n, protocol, disposition follow the leg
    for r in rows:
        if r[part] == 0:
            if r[0] != last:
                last, legs = r[0], []
                out.append([r, legs, None])
            if r[leg0] is not None:
                legs.append(r[leg0:leg_end])
            continue
        e = out[-1][2]
        if e is None:
            e = out[-1][2] = ([], [], [])
        if r[part] == 1:
            protocol, disposition = r[at_n + 1], r[at_n + 2]
            e[0].append(protocol)
            if disposition:
                e[1].append(f"{protocol}:{disposition}")
        else:
            e[2].append(f"/api/v1/domains/{slug}/recordings/{r[at_n]}/audio")
    return out


def _iso(v: datetime | None) -> str | None:
    return None if v is None else (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).isoformat()


_FORMULA = frozenset("=+-@\t\r")  # a spreadsheet would run a cell starting so (alerts.export._cell)


def _q(v: str | None) -> str | None:
    return "'" + v if v and v[0] in _FORMULA else v


def _flat(c: Any, legs: Any, extra: tuple[list[str], list[str], list[str]] | None,
          export: bool = False) -> tuple[Any, ...]:
    """A call's detailed row in DETAIL_COLUMNS order (plain values, no per-row dict); for an
    export, the texts that come from outside (caller, names, IVR input...) quoted against formulas.
    ``legs``: tuples in LEG_FIELDS order (at least the first four)."""
    ivr = tried = transfers = None
    if legs:
        i: list[str] = []
        o: list[str] = []
        t: list[str] = []
        for leg in legs:  # one pass: a call has a handful of legs (kind, agent, result, detail)
            kind = leg[0]
            if kind == "offer":
                o.append(f"{leg[1]}:{leg[2]}")
            elif kind == "ivr":
                i.append(leg[2] or "")
            elif kind == "transfer":
                t.append(f"{leg[2]}:{leg[3] or ''}")
        ivr, tried, transfers = " > ".join(i) or None, " ".join(o) or None, " ".join(t) or None
    _pk, call, started, answered, ended, direction, caller, name, did, queue, agent, reason, wait, talk = c[:14]
    if export:  # inline checks: a function call per cell costs more than the cell
        f = _FORMULA
        if caller and caller[0] in f:
            caller = "'" + caller
        if name and name[0] in f:
            name = "'" + name
        if did and did[0] in f:
            did = "'" + did
        if queue and queue[0] in f:
            queue = "'" + queue
        if agent and agent[0] in f:
            agent = "'" + agent
        if ivr or tried or transfers:
            ivr, tried, transfers = _q(ivr), _q(tried), _q(transfers)
    row = (call, _iso(started), _iso(answered), _iso(ended), direction, caller, name, did, queue, agent, reason,
           None if wait is None else round(wait, 3), None if talk is None else round(talk, 3), ivr, tried, transfers)
    if extra is None:
        return row + (None, None, None)
    # the attendances' protocols, their qualification (protocol:disposition), the recordings' audio
    q = _q if export else _same
    return row + (" ".join(extra[0]) or None, q(" ".join(extra[1]) or None), " ".join(extra[2]) or None)


def _same(v: str | None) -> str | None:
    return v


def _detail(c: Any, legs: list[tuple[Any, ...]], extra: Any = None) -> dict[str, Any]:
    row = dict(zip(DETAIL_COLUMNS, _flat(c, legs, extra)))
    row["legs"] = [{"kind": kind, "queue": queue, "agent": agent, "extension": extension, "number": number,
                    "result": result, "detail": detail, "started_at": _iso(started), "answered_at": _iso(answered),
                    "ended_at": _iso(ended)}
                   for kind, agent, result, detail, queue, extension, number, started, answered, ended in legs]
    return row
