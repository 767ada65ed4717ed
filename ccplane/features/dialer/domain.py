"""Dialer rules with no I/O: calling hours, contact rows, pacing, and what
each attempt's result does to a contact.

    >>> from datetime import datetime, timezone
    >>> hours = {"mon": [["08:00", "18:00"]]}
    >>> within_hours(hours, "America/Sao_Paulo", datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
    True
    >>> within_hours(hours, "America/Sao_Paulo", datetime(2026, 11, 30, 22, 0, tzinfo=timezone.utc))
    False
    >>> calls_to_place(free_agents=2, waiting=1, ratio=1.0)
    1
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..callbacks.domain import dialable_number

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
MAX_CONTACTS = 10_000  # per upload
# a call not (or no longer) with an agent: counted against the free agents by the pacer
# ("ending": its agent is free again but its channels are still going away)
IN_FLIGHT = ("dialing", "answered", "ending")
FINAL = ("done", "failed", "skipped")


def check_hours(hours: dict[str, Any]) -> str | None:
    """None when ``hours`` is well formed, else what is wrong (with the day)."""
    for day, windows in hours.items():
        if day not in DAYS:
            return f"{day}: days are {', '.join(DAYS)}"
        if not isinstance(windows, list) or len(windows) > 8:
            return f"{day}: a list of at most 8 [start, end] windows"
        for w in windows:
            if not (isinstance(w, list) and len(w) == 2 and all(isinstance(t, str) and _HHMM.match(t) for t in w)):
                return f"{day}: each window is [\"HH:MM\", \"HH:MM\"]"
            if w[0] >= w[1]:
                return f"{day}: a window ends after it starts ({w[0]}-{w[1]})"
    return None


def check_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def within_hours(hours: dict[str, Any], tz: str, now: datetime) -> bool:
    """Whether ``now`` falls in one of the day's windows, in the campaign's time zone."""
    local = now.astimezone(ZoneInfo(tz))
    hhmm = local.strftime("%H:%M")
    return any(start <= hhmm < end for start, end in hours.get(DAYS[local.weekday()], []))


def calls_to_place(*, free_agents: int, waiting: int, ratio: float) -> int:
    """Progressive pacing: calls not yet with an agent (ringing the customer or
    answered and waiting in the queue) never outnumber the free agents
    (times ``ratio``, 1.0 = progressive; above 1 is predictive dialling)."""
    return max(0, math.floor(free_agents * ratio) - waiting)


@dataclass
class Parsed:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def parse_contacts(items: list[dict[str, Any]], first_row: int = 1) -> Parsed:
    """Validate contact rows (``number`` required, ``name`` and ``data``
    optional); every bad row is reported (row number, field, message) and a
    number given twice is an error on its second row."""
    out = Parsed()
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        row = first_row + i
        raw = item.get("number")
        if not isinstance(raw, str) or not raw.strip():
            out.errors.append({"row": row, "field": "number", "message": "number is required"})
            continue
        try:
            number = dialable_number(raw)
        except ValueError as exc:
            out.errors.append({"row": row, "field": "number", "message": str(exc)})
            continue
        if number in seen:
            out.errors.append({"row": row, "field": "number",
                               "message": f"{number} is already on row {seen[number]}"})
            continue
        seen[number] = row
        name = item.get("name") or ""
        if not isinstance(name, str) or len(name) > 120:
            out.errors.append({"row": row, "field": "name", "message": "name is text of at most 120 characters"})
            continue
        data = item.get("data") or {}
        if not isinstance(data, dict) or len(data) > 20 or not all(
                isinstance(k, str) and isinstance(v, (str, int, float)) and len(str(v)) <= 200 for k, v in data.items()):
            out.errors.append({"row": row, "field": "data",
                               "message": "data maps at most 20 names to short texts or numbers"})
            continue
        out.rows.append({"number": number, "name": name.strip(), "data": data})
    return out


def csv_rows(text: str) -> tuple[list[dict[str, Any]], str | None]:
    """CSV (comma or semicolon, as spreadsheets in pt-BR save it) with a header
    naming ``number`` (or ``numero``/``telefone``) and optionally ``name``
    (``nome``); other columns become the contact's data. Rows are numbered from
    2 (the header is row 1)."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        return [], "the CSV is empty"
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    alias = {"numero": "number", "número": "number", "telefone": "number", "phone": "number", "nome": "name"}
    names = [alias.get(h, h) for h in header]
    if "number" not in names:
        return [], "the header needs a number column (number, numero or telefone)"
    rows = []
    for record in reader:
        values = list(record.values())[:len(names)]
        row = dict(zip(names, [(v or "").strip() if isinstance(v, str) else "" for v in values]))
        data = {k: v for k, v in row.items() if k not in ("number", "name") and v}
        rows.append({"number": row.get("number", ""), "name": row.get("name", ""), "data": data})
        if len(rows) > MAX_CONTACTS:
            break
    return rows, None


# an attempt that did not reach the customer (the dialplan's DIALSTATUS)
_RESULTS = {"LOST": "lost", "NOANSWER": "no_answer", "BUSY": "busy", "CONGESTION": "failed", "CHANUNAVAIL": "failed",
            "CANCEL": "no_answer", "DONTCALL": "failed", "TORTURE": "failed", "INVALIDARGS": "failed"}


LOST_AFTER = timedelta(seconds=30)  # a contact in flight this long with no channel in Asterisk may be lost


def call_alive(campaign_id: int, contact_id: int, call_id: str | None, live: set[str]) -> bool:
    """Whether a channel of the contact's call is still up (``live``: the uniqueids
    and linkedids Asterisk lists; the call's own channels carry ``cp<c>x<contact>-``).

        >>> call_alive(3, 41, "cp3x41-aa-a", {"cp3x41-aa-a", "1733.9"})
        True
        >>> call_alive(3, 4, None, {"cp3x41-aa-b"})
        False
    """
    if call_id is not None and call_id in live:
        return True
    prefix = f"cp{campaign_id}x{contact_id}-"
    return any(i.startswith(prefix) for i in live)


def after_attempt(status: str, attempts: int, max_attempts: int, retry_interval: int,
                  now: datetime) -> tuple[str, str, datetime | None]:
    """(contact status, last result, next attempt) for an unanswered attempt:
    tried again after ``retry_interval`` until ``max_attempts``."""
    result = _RESULTS.get(status, "failed")
    if attempts < max_attempts:
        return "retry", result, now + timedelta(seconds=retry_interval)
    return "failed", result, None
