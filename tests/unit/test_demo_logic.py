"""The demo's pure parts: its CPFs, its IVR tree, the generator's choices and
rates, the carrier instance's name and ports (no I/O)."""
from __future__ import annotations

from ccplane.demo.provision import DID_IVR, DID_SUPPORT, PERSON_CPFS, UNKNOWN_CPF, Layout, cpf_from, ivr_tree
from ccplane.demo.runner import carrier_settings
from ccplane.demo.traffic import Generator
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


def test_carrier_sits_beside_the_main_sandbox() -> None:
    c = carrier_settings(SandboxSettings(name="h1", ami_port=25038, http_port=28088, sip_port=25060,
                                         rtp_start=30000, rtp_end=30999))
    assert (c.name, c.ami_port, c.http_port, c.sip_port, c.rtp_start, c.rtp_end) == \
        ("h1-carrier", 25738, 28788, 25760, 35000, 35499)
