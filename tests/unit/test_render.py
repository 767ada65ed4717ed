from __future__ import annotations

import pytest

from ccplane.asterisk.render import admission_model, conf_value, render_files
from ccplane.settings import AdmissionSettings


def model() -> dict:
    return {
        "qualify_frequency": 10, "ring_timeout": 30, "ari_app": "ccplane", "unknown_did_delay": 2,
        "routes": [], "blacklists": [], "ivrs": [], "trunks": [],
        "queues": [{"monitoring": False, "slug": "acme", "asterisk_name": "acme_sales", "strategy": "linear", "ring_timeout": 3,
                    "retry": 1, "max_len": 0, "joinempty": "yes", "leavewhenempty": "no", "record": False,
                    "max_wait": 20, "options": "t", "call_timeout_backstop": 0,
                    "overflow": "Goto(ccplane-d-acme,1001,1)"}],
        "domains": [
            {"slug": "acme", "outbound": [], "context": "ccplane-d-acme", "extensions": [
                {"number": "1001", "name": "Maria", "secret": "s3cret-1", "endpoint": "acme-1001",
                 "webrtc": False, "codecs": "ulaw"},
                {"number": "1002", "name": "Web", "secret": "s3cret-2", "endpoint": "acme-1002",
                 "webrtc": True, "codecs": "opus,ulaw"}]},
            {"slug": "beta", "outbound": [], "context": "ccplane-d-beta", "extensions": [
                {"number": "1001", "name": "Bia", "secret": "s3cret-3", "endpoint": "beta-1001",
                 "webrtc": False, "codecs": "ulaw"}]},
        ],
    }


def test_render_is_deterministic_and_complete() -> None:
    a, b = render_files(model()), render_files(model())
    assert a == b
    pjsip = a["pjsip.conf"]
    for name in ("acme-1001", "acme-1002", "beta-1001"):
        assert pjsip.count(f"[{name}]") == 3  # endpoint, auth, aor
    assert pjsip.count("webrtc=yes") == 1
    assert "context=ccplane-d-beta" in pjsip
    ext = a["extensions.conf"]
    assert "[ccplane-inbound]" in ext and "[ccplane-d-acme]" in ext
    assert "Dial(PJSIP/beta-1001,30)" in ext
    assert "Queue(acme_sales,t,,,20,,ccplane-agent-connected)" in ext  # 7th argument: the gosub context (app_queue adds ,s,1)
    assert " same => n,Goto(ccplane-d-acme,1001,1)" in ext
    queues = a["queues.conf"]
    assert "[acme_sales]" in queues and "strategy=linear" in queues and "autopause=no" in queues


def test_empty_database_renders_entry_points() -> None:
    files = render_files({"qualify_frequency": 10, "ring_timeout": 30, "domains": [], "queues": [],
                          "ari_app": "ccplane", "unknown_did_delay": 2, "routes": [], "blacklists": [],
                          "ivrs": [], "trunks": []})
    assert "[ccplane-inbound]" in files["extensions.conf"]
    assert "type=endpoint" not in files["pjsip.conf"]


@pytest.mark.parametrize("bad", ["x]\n[evil", "a;b", "line\rbreak", "[x"])
def test_config_injection_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        conf_value(bad)
    m = model()
    m["domains"][0]["extensions"][0]["name"] = bad
    with pytest.raises(ValueError):
        render_files(m)


def test_missing_template_value_fails_loudly() -> None:
    m = model()
    del m["domains"][0]["extensions"][0]["secret"]
    with pytest.raises(Exception, match="secret"):
        render_files(m)


def test_tcp_trunk_keeps_its_transport_past_the_comment_sign() -> None:
    m = model()
    m["trunks"] = [{"endpoint": "trunk_acme_c", "host": "sip.example.net", "port": 5060,
                    "uri_params": "\\;transport=tcp", "username": "acct", "secret": "pw", "register": True,
                    "from_user": "acct", "slug": "acme", "match": "sip.example.net"}]
    pjsip = render_files(m)["pjsip.conf"]
    # an unescaped ";" would start a comment: Asterisk would read sip:sip.example.net:5060 (UDP)
    assert "contact=sip:sip.example.net:5060\\;transport=tcp\n" in pjsip
    assert "server_uri=sip:sip.example.net:5060\\;transport=tcp\n" in pjsip


def test_trunk_is_identified_by_address_and_by_its_registration_line() -> None:
    m = model()
    m["trunks"] = [{"endpoint": "trunk_acme_c", "host": "200.1.2.3", "port": 5060, "uri_params": "",
                    "username": "acct", "secret": "pw", "register": True, "from_user": "acct", "slug": "acme",
                    "match": "200.1.2.3,200.1.9.0/24"}]
    pjsip = render_files(m)["pjsip.conf"]
    identify = pjsip.split("type=identify\n", 1)[1]
    assert identify.startswith("endpoint=trunk_acme_c\nmatch=200.1.2.3,200.1.9.0/24\n")
    assert "identify_by=ip\n" in pjsip  # never by the user in From (the caller's number, or a forgery)
    assert "trust_id_inbound=yes\n" in pjsip
    assert "line=yes\nendpoint=trunk_acme_c\n" in pjsip


def test_admission_ceilings_render_only_when_set() -> None:
    m = model()
    m["routes"] = [{"did": "1133334444", "slug": "acme", "reject_delay": 0, "hangup": False,
                    "goto": "Goto(ccplane-queues,acme_sales,1)"}]
    assert "ccplane-admission" not in render_files(m)["extensions.conf"]
    m["admission"] = admission_model(AdmissionSettings(max_calls=40, max_calls_per_domain=10,
                                                       max_new_per_second=20))
    ext = render_files(m)["extensions.conf"]
    entry = ext.split("exten => 1133334444,1,", 1)[1].split("\nexten", 1)[0]
    assert "Gosub(ccplane-admission,s,1(acme))" in entry.split("Gosub(ccplane-blacklist-check")[0]
    assert "${GROUP_COUNT(${ARG1}@ccplane-domain)} > 10]" in ext
    assert "${GROUP_COUNT(inbound@ccplane-all)} > 40]" in ext
    assert "${count} > 20]" in ext
