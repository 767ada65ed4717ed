"""The demo's pure parts: its CPFs, its IVR tree, the generator's choices and
rates, the carrier instance's name and ports (no I/O)."""
from __future__ import annotations

from ccplane.demo.provision import DID_IVR, DID_SUPPORT, PERSON_CPFS, UNKNOWN_CPF, Layout, cpf_from, ivr_tree
from ccplane.demo.runner import carrier_settings
from ccplane.demo.traffic import Generator, PlacedCall
from ccplane.features.persons.domain import cpf_is_valid
from ccplane.settings import SandboxSettings


def test_cpfs_have_valid_check_digits() -> None:
    assert cpf_from("529982247") == "52998224725"  # the known valid one the IVR tests use
    assert all(cpf_is_valid(c) for c in PERSON_CPFS + [UNKNOWN_CPF])
    assert len(set(PERSON_CPFS + [UNKNOWN_CPF])) == len(PERSON_CPFS) + 1


def test_layout_numbers_agents_and_attendants_apart() -> None:
    layout = Layout.of(3)
    assert layout.agents == [("agente01", "2001"), ("agente02", "2002"), ("agente03", "2003")]
    assert [e for _, e in layout.monitors] == ["2901", "2902"]


def test_ivr_tree_ends_every_branch_in_a_queue() -> None:
    def leaves(node: dict[str, object]) -> list[dict[str, object]]:
        children = [v for k, v in node.items() if k in ("invalid", "timeout", "next", "failed")]
        children += list(dict(node.get("options", {})).values())  # type: ignore[call-overload]
        return [node] if not children else [leaf for c in children for leaf in leaves(c)]
    assert {leaf["type"] for leaf in leaves(ivr_tree())} == {"queue"}


def _generator(profile: str, rate: float = 12) -> Generator:
    return Generator(carrier=None, customer_sip_port=0, api=None, monitor=None, creds=None,  # type: ignore[arg-type]
                     rate=rate, profile=profile, seed=3)


def test_profiles_shape_the_call_rate() -> None:
    steady, spike, storm = _generator("steady"), _generator("spike"), _generator("alert-storm")
    assert [steady._rate(t, 60) for t in (0, 30, 59)] == [12, 12, 12]
    assert [spike._rate(t, 60) for t in (0, 30, 59)] == [12, 36, 12]
    assert storm._rate(30, 60) == 6


def test_scenarios_follow_the_seed_and_name_the_queue_the_keys_lead_to() -> None:
    a, b = _generator("steady"), _generator("steady")
    runs = [[g._scenario() for _ in range(200)] for g in (a, b)]
    assert runs[0] == runs[1]
    for did, keys, more, queue in runs[0]:
        assert did == (DID_SUPPORT if keys == "" else DID_IVR)
        if keys == "1":
            assert queue == "vendas"
        elif keys == "3":
            assert more.endswith("#") and len(more) == 12
            assert queue == ("suporte" if more[:-1] in PERSON_CPFS else "vendas")
        else:
            assert queue == "suporte"
    assert {s[1] for s in runs[0]} == {"", "1", "2", "3"}


def test_generator_transfers_once_and_follows_the_call_to_its_new_agent() -> None:
    g = _generator("steady")
    g.calls["11900000001"] = PlacedCall("11900000001", DID_IVR, "vendas", "1", "c1", 0.0)
    g.answered("agente01", "11900000001")
    assert g.may_transfer("11900000001") == "suporte"
    assert g.may_transfer("11999999999") is None  # not a call the generator placed
    g.transferred("11900000001", "suporte")
    assert g.may_transfer("11900000001") is None  # once at most
    g.answered("agente02", "11900000001")  # the transfer answered in suporte
    g.transferred("11900000001", None)
    report = g.report()
    assert report["answered_by"] == {"11900000001": "agente02"}
    assert report["transfers"] == {"requested": 2, "accepted": 1, "refused": 1, "to": {"11900000001": "suporte"}}
    assert report["calls"]["by_queue"]["suporte"]["answered"] == 1


def test_a_callback_request_is_neither_answered_nor_abandoned_nor_transferable() -> None:
    g = _generator("steady")
    g.calls["11900000002"] = PlacedCall("11900000002", DID_IVR, "suporte", "2", "c2", 0.0, callback=True)
    g.calls["11900000003"] = PlacedCall("11900000003", DID_SUPPORT, "suporte", "", "c3", 0.0)
    g.answered("agente01", "11900000002")  # the callback's own call, later, with the caller's number
    assert g.may_transfer("11900000002") is None
    report = g.report()
    assert report["callback_requests"] == ["11900000002"]
    assert report["calls"]["by_queue"]["suporte"] == {"placed": 2, "answered": 0, "callback_requests": 1,
                                                      "abandoned": 1}


def test_callbacks_booked_by_agents_are_listed_and_refusals_counted() -> None:
    g = _generator("steady")
    g.scheduled_callback("11900000009", True)
    g.scheduled_callback("11900000004", True)
    g.scheduled_callback("11900000005", False)
    report = g.report()
    assert report["callbacks_scheduled"] == ["11900000004", "11900000009"]
    assert report["callbacks_schedule_refused"] == 1


def test_callback_callers_choose_support_in_the_ivr() -> None:
    g = _generator("steady")
    plans = [(s, g._caller(*s[:3])) for s in (g._scenario() for _ in range(1000))]
    callers = [s for s, (_patience, callback) in plans if callback]
    assert callers and all(s == (DID_IVR, "2", "", "suporte") for s in callers)
    assert 0.04 < len(callers) / len(plans) < 0.12, len(callers)


def test_carrier_sits_beside_the_main_sandbox() -> None:
    c = carrier_settings(SandboxSettings(name="h1", ami_port=25038, http_port=28088, sip_port=25060,
                                         rtp_start=30000, rtp_end=30999))
    assert (c.name, c.ami_port, c.http_port, c.sip_port, c.rtp_start, c.rtp_end) == \
        ("h1-carrier", 25738, 28788, 25760, 35000, 35499)
