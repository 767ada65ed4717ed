"""Call groups' pure pieces: Dial() steps per strategy and the dialplan names."""
from __future__ import annotations

import doctest

from ccplane.features.callgroups import domain
from ccplane.features.ivr.render import goto_destination


def test_dial_steps_per_strategy() -> None:
    assert domain.dial_steps("ringall", ["a-1", "a-2", "a-3"], 20) == ["PJSIP/a-1&PJSIP/a-2&PJSIP/a-3,20"]
    assert domain.dial_steps("sequential", ["a-1", "a-2"], 7) == ["PJSIP/a-1,7", "PJSIP/a-2,7"]
    assert domain.dial_steps("ringall", [], 20) == []  # every extension deleted: straight to no-answer


def test_callgroup_is_a_destination() -> None:
    assert goto_destination("acme", "callgroup", "vendas") == "Goto(ccplane-callgroups,acme_vendas,1)"


def test_doctests() -> None:
    assert doctest.testmod(domain).failed == 0
