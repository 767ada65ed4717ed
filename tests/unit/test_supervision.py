"""The supervision feature's pure rules (ChanSpy options per mode, threshold levels)
and the supervisor panel's catalogue."""
from __future__ import annotations

import pytest

from ccplane.features.supervision.domain import SPY_OPTIONS, level, ordered, spy_data
from ccplane.web.pages.i18n import EN
from ccplane.web.pages.supervisor import _labels


def test_each_mode_has_its_chanspy_options() -> None:
    # q: no beep; w: whisper to the agent; B: barge (both parties); E/S: end with the spied channel
    assert SPY_OPTIONS == {"listen": "qES", "whisper": "qwES", "barge": "qBES"}
    assert spy_data("PJSIP/acme-7601-00000001", "barge") == "PJSIP/acme-7601-00000001,qBES"
    with pytest.raises(KeyError):
        spy_data("PJSIP/acme-7601-00000001", "shout")


@pytest.mark.parametrize(("figure", "value", "expected"), [
    ("waiting", 0, "ok"), ("waiting", 2, "yellow"), ("waiting", 4, "red"), ("waiting", 9, "red"),
    ("longest_wait", 29.9, "ok"), ("longest_wait", 30, "yellow"), ("longest_wait", 60, "red"),
    ("service_level", 100, "ok"), ("service_level", 80, "ok"), ("service_level", 79, "yellow"),
    ("service_level", 59, "red"), ("service_level", None, "ok")])
def test_levels_by_direction(figure: str, value: float | None, expected: str) -> None:
    yellow, red = {"waiting": (2, 4), "longest_wait": (30, 60), "service_level": (80, 60)}[figure]
    assert level(figure, value, yellow, red) == expected


def test_red_must_be_worse_than_yellow() -> None:
    assert ordered("longest_wait", 30, 60) and not ordered("longest_wait", 60, 30)
    assert ordered("service_level", 80, 60) and not ordered("service_level", 60, 80)
    assert ordered("waiting", 3, 3)


def test_every_panel_label_has_english() -> None:
    labels = _labels("pt_BR")
    assert sorted(t for t in labels.values() if t not in EN) == []
    assert _labels("en")["listen"] == "Listen" and _labels("en")["barge"] == "Barge"
