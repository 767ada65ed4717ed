"""Brazilian caller numbers: normalisation, the dialplan patterns a blacklisted
number becomes, and how inbound routes and the blacklist render."""
from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from ccplane.asterisk.render import render_files
from ccplane.features.ivr.render import goto_destination
from ccplane.features.routes.domain import caller_patterns, is_brazilian_national, normalize_number
from ccplane.features.routes.schemas import BlacklistCreate, Destination, RouteCreate


def ast_match(pattern: str, exten: str) -> bool:
    """Asterisk extension matching: literal, or ``_`` + X N Z [..] . ! (what the blacklist contexts rely on)."""
    if not pattern.startswith("_"):
        return pattern == exten
    regex, i, body = "", 0, pattern[1:]
    while i < len(body):
        c = body[i]
        if c in "Xx":
            regex += "[0-9]"
        elif c in "Zz":
            regex += "[1-9]"
        elif c in "Nn":
            regex += "[2-9]"
        elif c == ".":
            regex += ".+"
        elif c == "!":
            regex += ".*"
        elif c == "[":
            end = body.index("]", i)
            regex += "[" + "".join(ch if ch == "-" else re.escape(ch) for ch in body[i + 1:end]) + "]"
            i = end
        else:
            regex += re.escape(c)
        i += 1
    return re.fullmatch(regex, exten) is not None


@pytest.mark.parametrize("pattern, exten, hit", [
    ("1133334444", "1133334444", True), ("1133334444", "11333344440", False),
    ("_0ZX1133334444", "0151133334444", True), ("_0ZX1133334444", "0x51133334444", False),
    ("_0ZX1133334444", "051133334444", False), ("_0ZX1133334444", "00151133334444", False),
    ("_NXX", "200", True), ("_NXX", "100", False), ("_ZX", "10", True), ("_ZX", "01", False),
    ("_[+0-9].", "+5511", True), ("_[+0-9].", "+", False), ("_[+0-9].", "a1", False),
    ("_[13-5]", "4", True), ("_[13-5]", "2", False), ("_1!", "1", True), ("_1.", "1", False),
])
def test_the_pattern_matcher_itself(pattern: str, exten: str, hit: bool) -> None:
    assert ast_match(pattern, exten) is hit


# --- normalize_number ----------------------------------------------------------------------

@pytest.mark.parametrize("raw, canonical", [
    # mobile (11 digits)
    ("11987654321", "11987654321"),
    ("+5511987654321", "11987654321"),
    ("5511987654321", "11987654321"),
    ("+55 (11) 98765-4321", "11987654321"),
    ("011987654321", "11987654321"),          # 0 + DDD
    ("01511987654321", "11987654321"),        # 0 + carrier + DDD
    ("0 21 11 98765-4321", "11987654321"),
    ("(11) 98765.4321", "11987654321"),
    ("  11 98765 4321\n", "11987654321"),
    # landline (10 digits)
    ("1133334444", "1133334444"),
    ("+551133334444", "1133334444"),
    ("551133334444", "1133334444"),
    ("01133334444", "1133334444"),
    ("0151133334444", "1133334444"),
    ("(11) 3333-4444", "1133334444"),
    ("+55 11 3333 4444", "1133334444"),
    # DDD 55 (Rio Grande do Sul) is not the country code
    ("55987654321", "55987654321"),
    ("5533334444", "5533334444"),
    ("+555533334444", "5533334444"),
    ("05533334444", "5533334444"),
    ("0215533334444", "5533334444"),
    # short numbers kept
    ("190", "190"),
    ("10315", "10315"),
    ("4004-0001", "40040001"),
    # international kept, with their +
    ("+14155552671", "+14155552671"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+351 912 345 678", "+351912345678"),
    ("+5512345", "+5512345"),                # +55 but not a national number
    ("1234567890123456", "1234567890123456"),
])
def test_normalize_number(raw: str, canonical: str) -> None:
    assert normalize_number(raw) == canonical


@pytest.mark.parametrize("raw", ["", "   ", "+", "12", "+12", "abc", "11-9876-abcd", "++5511987654321",
                                 "55+11987654321", "12345678901234567", "+12345678901234567", "1133334444#",
                                 "*190", "1133334444;x", "x]\n[evil", "1133334444\n[evil]", "11_3333_4444",
                                 "1133334444/1"])
def test_junk_is_not_a_number(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_number(raw)


@pytest.mark.parametrize("raw", ["²³⁴", "١١٩٨٧٦٥٤٣٢١", "+５５１１９８７６５４３２１"])
def test_non_ascii_digits_are_refused_or_folded(raw: str) -> None:
    try:
        out = normalize_number(raw)
    except ValueError:
        return
    assert re.fullmatch(r"\+?[0-9]+", out), out


def test_international_00_prefix_is_not_a_carrier_code() -> None:
    out = normalize_number("0014155552671")
    assert not is_brazilian_national(out.lstrip("+"))
    assert out.endswith("14155552671")


def test_normalize_is_idempotent() -> None:
    for raw in ("+55 (11) 98765-4321", "0151133334444", "190", "+14155552671", "05533334444"):
        once = normalize_number(raw)
        assert normalize_number(once) == once


# --- caller_patterns -----------------------------------------------------------------------

def test_patterns_of_a_landline() -> None:
    assert caller_patterns("1133334444") == [
        "1133334444", "01133334444", "551133334444", "+551133334444", "_0ZX1133334444"]


def test_patterns_of_a_mobile() -> None:
    assert caller_patterns("11987654321") == [
        "11987654321", "011987654321", "5511987654321", "+5511987654321", "_0ZX11987654321"]


@pytest.mark.parametrize("canonical", ["190", "10315", "40040001", "+14155552671", "+5512345", "123456789012"])
def test_non_national_numbers_match_only_themselves(canonical: str) -> None:
    assert caller_patterns(canonical) == [canonical]


CANONICAL = ["1133334444", "11987654321", "2125550000", "21999990000", "5533334444", "55987654321",
             "8432221111", "99981234567"]


@pytest.mark.parametrize("canonical", CANONICAL)
def test_every_literal_pattern_normalises_back(canonical: str) -> None:
    literals = [p for p in caller_patterns(canonical) if not p.startswith("_")]
    assert len(literals) == 4 and canonical in literals
    for p in literals:
        assert normalize_number(p) == canonical, p


@pytest.mark.parametrize("canonical", CANONICAL)
def test_carrier_pattern_matches_zero_any_two_digits_canonical(canonical: str) -> None:
    [wild] = [p for p in caller_patterns(canonical) if p.startswith("_")]
    assert wild == f"_0ZX{canonical}"
    for xx in range(10, 100):
        caller = f"0{xx:02d}{canonical}"
        assert ast_match(wild, caller), caller
        assert normalize_number(caller) == canonical, caller
    for xx in range(10):  # 00 is the international prefix, not a carrier code
        assert not ast_match(wild, f"0{xx:02d}{canonical}")
    assert not ast_match(wild, canonical)
    assert not ast_match(wild, f"0{canonical}")
    assert not ast_match(wild, f"01{canonical}")
    assert not ast_match(wild, f"1{canonical[:2]}{canonical}")
    assert not ast_match(wild, f"0155{canonical}")


@pytest.mark.parametrize("canonical", CANONICAL)
def test_every_digit_form_of_a_caller_hits_a_pattern(canonical: str) -> None:
    forms = [canonical, f"0{canonical}", f"55{canonical}", f"+55{canonical}", f"015{canonical}",
             f"021{canonical}"]
    patterns = caller_patterns(canonical)
    for form in forms:
        assert normalize_number(form) == canonical
        assert any(ast_match(p, form) for p in patterns), form


@pytest.mark.parametrize("canonical", CANONICAL)
def test_patterns_do_not_catch_other_numbers(canonical: str) -> None:
    patterns = caller_patterns(canonical)
    other = canonical[:-1] + str((int(canonical[-1]) + 1) % 10)
    for form in (other, f"0{other}", f"55{other}", f"+55{other}", f"015{other}", canonical + "0",
                 canonical[1:]):
        assert not any(ast_match(p, form) for p in patterns), form


# --- rendering: blacklist and inbound routes ----------------------------------------------

def base_model(**over: Any) -> dict[str, Any]:
    model: dict[str, Any] = {"qualify_frequency": 10, "ring_timeout": 30, "ari_app": "ccplane",
                             "unknown_did_delay": 2, "routes": [], "blacklists": [], "ivrs": [], "queues": [], "trunks": [],
                             "domains": []}
    model.update(over)
    return model


def blacklist(slug: str, numbers: list[str]) -> dict[str, Any]:
    """As load_model builds it from the stored canonical numbers."""
    patterns = [p for n in numbers for p in caller_patterns(n)]
    return {"slug": slug, "context": f"ccplane-bl-{slug}", "patterns": sorted(set(patterns))}


def route(did: str, slug: str, kind: str, target: str | None = None, reject_delay: int = 0) -> dict[str, Any]:
    return {"did": did, "slug": slug, "reject_delay": reject_delay, "hangup": kind == "hangup",
            "goto": goto_destination(slug, kind, target)}


def section(text: str, name: str) -> list[str]:
    """Non-blank, non-comment lines of one [context]; fails if it is missing or rendered twice."""
    assert text.count(f"\n[{name}]\n") == 1, name
    body = text.split(f"\n[{name}]\n", 1)[1]
    out = []
    for line in body.splitlines():
        if line.startswith("["):
            break
        if line.strip() and not line.startswith(";"):
            out.append(line)
    return out


def exten(lines: list[str], ext: str) -> list[str]:
    start = lines.index(next(line for line in lines if line.startswith(f"exten => {ext},1,")))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if line.startswith("exten =>"):
            break
        block.append(line)
    return block


def test_blacklist_renders_every_pattern_in_its_domain_context() -> None:
    model = base_model(blacklists=[blacklist("acme", ["1133334444", "11987654321", "190"]),
                                   blacklist("beta", ["+14155552671"])])
    text = render_files(model)["extensions.conf"]
    acme = section(text, "ccplane-bl-acme")
    expected = sorted(set(caller_patterns("1133334444") + caller_patterns("11987654321") + ["190"]))
    assert acme == [f"exten => {p},1,Return()" for p in expected]
    assert len(acme) == 11
    assert section(text, "ccplane-bl-beta") == ["exten => +14155552671,1,Return()"]


def test_blacklist_check_looks_in_the_context_the_blacklist_renders() -> None:
    text = render_files(base_model(blacklists=[blacklist("acme", ["1133334444"])]))["extensions.conf"]
    check = section(text, "ccplane-blacklist-check")
    assert any("DIALPLAN_EXISTS(ccplane-bl-${ARG1},${CALLERID(num)},1)" in line and "?blocked" in line
               for line in check)
    blocked = check[[i for i, line in enumerate(check) if "n(blocked)" in line][0]:]
    assert any("UserEvent(CcplaneBlacklisted," in line for line in blocked)
    assert blocked[-1] == " same => n,Hangup(21)"


@pytest.mark.parametrize("kind, target, goto", [
    ("queue", "sales", "Goto(ccplane-queues,acme_sales,1)"),
    ("ivr", "main", "Goto(ccplane-ivr-acme_main,s,1)"),
    ("extension", "1001", "Goto(ccplane-d-acme,1001,1)"),
])
def test_route_checks_the_blacklist_before_its_destination(kind: str, target: str, goto: str) -> None:
    text = render_files(base_model(routes=[route("551140041234", "acme", kind, target)]))["extensions.conf"]
    block = exten(section(text, "ccplane-inbound"), "551140041234")
    assert block == [
        "exten => 551140041234,1,NoOp(ccplane: DID 551140041234 of acme)",
        " same => n,Set(__CCPLANE_DOMAIN=acme)",
        " same => n,Set(__CCPLANE_DID=551140041234)",
        " same => n,Gosub(ccplane-caller-number,s,1)",  # canonical form first: the blacklist stores it
        " same => n,Gosub(ccplane-blacklist-check,s,1(acme))",
        " same => n,Gosub(ccplane-journey,s,1(acme,inbound))",
        f" same => n,{goto}",
    ]


def test_hangup_route_rings_then_rejects() -> None:
    routes = [route("+551140040000", "beta", "hangup", reject_delay=7), route("1140041111", "acme", "queue", "x")]
    text = render_files(base_model(routes=routes))["extensions.conf"]
    inbound = section(text, "ccplane-inbound")
    block = exten(inbound, "+551140040000")
    assert block[3:] == [" same => n,Gosub(ccplane-caller-number,s,1)",
                         " same => n,Gosub(ccplane-blacklist-check,s,1(beta))",
                         " same => n,Gosub(ccplane-journey,s,1(beta,inbound))", " same => n,Ringing()",
                         " same => n,Wait(7)", " same => n,Hangup(21)"]
    assert not any("Goto(" in line for line in block)
    assert exten(inbound, "1140041111")[-1] == " same => n,Goto(ccplane-queues,acme_x,1)"


def test_unknown_did_falls_through_to_the_catch_all() -> None:
    text = render_files(base_model(routes=[route("1140041111", "acme", "queue", "x")], unknown_did_delay=4))
    inbound = section(text["extensions.conf"], "ccplane-inbound")
    catch_all = exten(inbound, "_[+0-9].")
    assert " same => n,Wait(4)" in catch_all and catch_all[-1] == " same => n,Hangup(1)"
    assert ast_match("_[+0-9].", "+5511999990000") and ast_match("_[+0-9].", "190")


def test_rendering_routes_and_blacklists_is_deterministic() -> None:
    def model() -> dict[str, Any]:
        return base_model(routes=[route("1140041111", "acme", "queue", "sales"),
                                  route("1140042222", "acme", "hangup", reject_delay=3)],
                          blacklists=[blacklist("acme", ["11987654321", "1133334444"])])
    assert render_files(model()) == render_files(model())


# --- config injection is refused before rendering -----------------------------------------

INJECTIONS = ["x]\n[evil", "a;b", "1140041111\r", "[x", "1140041111\n"]


@pytest.mark.parametrize("bad", INJECTIONS)
def test_injected_did_or_target_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        RouteCreate(did=bad, destination={"type": "hangup"})
    with pytest.raises(ValidationError):
        Destination(type="queue", target=bad)
    try:
        out = normalize_number(bad)
    except ValueError:
        return
    assert out.isdigit() and out.isascii()  # whitespace around a number is dropped, never kept


def test_injected_blacklist_reason_is_refused() -> None:
    with pytest.raises(ValidationError):
        BlacklistCreate(number="1133334444", reason="spam\n[evil]")
    assert BlacklistCreate(number="1133334444", reason="spam; again").reason == "spam; again"


def test_valid_route_schema_values() -> None:
    r = RouteCreate(did="+551140041234", destination={"type": "queue", "target": "sales"}, reject_delay=60)
    assert (r.did, r.destination.target, r.reject_delay) == ("+551140041234", "sales", 60)
    with pytest.raises(ValidationError):
        RouteCreate(did="1140041234", destination={"type": "hangup", "target": "sales"})
    with pytest.raises(ValidationError):
        RouteCreate(did="1140041234", destination={"type": "queue"})
