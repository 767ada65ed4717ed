"""Dialer rules without I/O: calling hours in the campaign's time zone, pacing,
contact rows (JSON and CSV) and retries."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ccplane.features.dialer.domain import (after_attempt, calls_to_place, check_hours, csv_rows, parse_contacts,
                                            within_hours)

HOURS = {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "sat": [["09:00", "13:00"]]}


@pytest.mark.parametrize("utc, inside", [
    (datetime(2026, 11, 30, 11, 0, tzinfo=UTC), True),    # Monday 08:00 in São Paulo (UTC-3)
    (datetime(2026, 11, 30, 10, 59, tzinfo=UTC), False),  # 07:59
    (datetime(2026, 11, 30, 15, 30, tzinfo=UTC), False),  # 12:30, the lunch gap
    (datetime(2026, 11, 30, 20, 59, tzinfo=UTC), True),   # 17:59
    (datetime(2026, 11, 30, 21, 0, tzinfo=UTC), False),   # 18:00: the window's end is outside
    (datetime(2026, 12, 1, 2, 30, tzinfo=UTC), False),    # Monday 23:30 local is Tuesday in UTC
    (datetime(2026, 12, 5, 13, 0, tzinfo=UTC), True),     # Saturday 10:00
    (datetime(2026, 12, 6, 13, 0, tzinfo=UTC), False),    # Sunday: no window
])
def test_calling_hours_are_local_to_the_campaign(utc: datetime, inside: bool) -> None:
    assert within_hours(HOURS, "America/Sao_Paulo", utc) is inside


def test_calling_hours_are_checked() -> None:
    assert check_hours(HOURS) is None
    assert check_hours({"mon": [["00:00", "24:00"]]}) is None
    assert "ends after" in (check_hours({"mon": [["18:00", "08:00"]]}) or "")
    assert "days are" in (check_hours({"monday": [["08:00", "18:00"]]}) or "")
    assert "HH:MM" in (check_hours({"mon": [["8h", "18h"]]}) or "")


def test_progressive_pacing_never_has_more_waiting_calls_than_free_agents() -> None:
    assert calls_to_place(free_agents=2, waiting=0, ratio=1.0) == 2
    assert calls_to_place(free_agents=2, waiting=2, ratio=1.0) == 0
    assert calls_to_place(free_agents=1, waiting=3, ratio=1.0) == 0
    assert calls_to_place(free_agents=0, waiting=0, ratio=1.0) == 0
    assert calls_to_place(free_agents=4, waiting=1, ratio=1.5) == 5  # predictive, later


def test_contact_rows_are_each_validated_and_duplicates_named() -> None:
    parsed = parse_contacts([{"number": "(11) 98765-4321", "name": "Ana"}, {"number": "11 8765-4321"},
                             {"number": "+55 11 98765-4321"}, {"name": "sem número"},
                             {"number": "2125551234", "data": {"plano": "gold", "valor": 10}}])
    assert [r["number"] for r in parsed.rows] == ["11987654321", "2125551234"]
    assert [(e["row"], e["field"]) for e in parsed.errors] == [(2, "number"), (3, "number"), (4, "number")]
    assert "row 1" in parsed.errors[1]["message"]


def test_csv_with_semicolons_portuguese_headers_and_extra_columns() -> None:
    rows, problem = csv_rows("\ufeffNome;Telefone;Cidade\nAna;(11) 98765-4321;São Paulo\nBeto;2125551234;\n")
    assert problem is None
    assert rows == [{"number": "(11) 98765-4321", "name": "Ana", "data": {"cidade": "São Paulo"}},
                    {"number": "2125551234", "name": "Beto", "data": {}}]
    assert csv_rows("name,city\nAna,SP\n")[1] == "the header needs a number column (number, numero or telefone)"
    assert csv_rows("")[1] == "the CSV is empty"


def test_unanswered_attempts_are_retried_until_the_limit() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert after_attempt("NOANSWER", 1, 3, 600, now) == ("retry", "no_answer", now + timedelta(seconds=600))
    assert after_attempt("BUSY", 2, 3, 60, now) == ("retry", "busy", now + timedelta(seconds=60))
    assert after_attempt("CHANUNAVAIL", 3, 3, 60, now) == ("failed", "failed", None)
