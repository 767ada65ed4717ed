"""Pure rules of transfers and attendances: outbound patterns a transfer may
dial, protocol numbers, who may qualify."""
from __future__ import annotations

import pytest

from ccplane.features.attendances.domain import may_qualify, protocol_day, protocol_number
from ccplane.features.calls.transfers import pattern_matches


@pytest.mark.parametrize(("pattern", "number", "matches"), [
    ("_0XX9XXXXXXXX", "011987654321", True),
    ("_0XX9XXXXXXXX", "01198765432", False),
    ("_0ZX.", "0119", True),
    ("_0ZX.", "0019", False),
    ("_[2-5]XXX", "3123", True),
    ("_[2-5]XXX", "6123", False),
    ("_NXX", "199", False),
    ("_9!", "9", True),
    ("_9.", "9", False),
    ("1234", "1234", True),
    ("1234", "12345", False),
    ("_[2-", "2", False),
])
def test_outbound_patterns(pattern: str, number: str, matches: bool) -> None:
    assert pattern_matches(pattern, number) is matches


def test_protocols_sort_in_the_order_they_are_handed_out() -> None:
    day = protocol_day(1_796_601_600.0)  # 2026-12-07 00:00 UTC
    assert day == "20261207"
    numbers = [protocol_number(day, n) for n in (1, 2, 10, 999, 123456)]
    assert numbers == sorted(numbers) and numbers[0] == "20261207000001"
    assert protocol_number("20261206", 999999) < protocol_number("20261207", 1)


def test_who_may_qualify() -> None:
    supervising = frozenset({"root", "superuser", "admin", "supervisor"})
    assert may_qualify("agent", "ana", "ana", supervising)
    assert not may_qualify("agent", "bia", "ana", supervising)
    assert not may_qualify("agent", "bia", None, supervising)
    assert all(may_qualify(role, "x", "ana", supervising) for role in supervising)
