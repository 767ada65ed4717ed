"""Issue 15, pure parts: the phone's ICE servers and TURN credentials, the MOS
estimate, the settings, and the sandbox's WSS/ICE base configuration."""
from __future__ import annotations

import base64
import doctest
import hashlib
import hmac

import jinja2
import pytest

from ccplane.asterisk import sandbox
from ccplane.asterisk.render import render_files
from ccplane.errors import SettingsError
from ccplane.features.webrtc import domain
from ccplane.features.webrtc.domain import (ice_servers, loss_percent, mos_estimate, sip_domain_of,
                                            turn_credentials)
from ccplane.settings import SandboxSettings, load_settings


def test_doctests() -> None:
    assert doctest.testmod(domain).failed == 0


def test_turn_credentials_are_coturns_rest_scheme() -> None:
    name, password = turn_credentials("k3y", "acme-1001", 1_700_000_000.9, 3600)
    assert name == "1700003600:acme-1001"
    expected = base64.b64encode(hmac.new(b"k3y", name.encode(), hashlib.sha1).digest()).decode()
    assert password == expected


def test_ice_servers_give_credentials_to_turn_only() -> None:
    servers = [s.as_dict() for s in ice_servers(" stun:s.example.com:3478, turns:t.example.com:5349 ,,",
                                                "k3y", "acme-1001", 100.0, 60)]
    assert servers[0] == {"urls": "stun:s.example.com:3478"}
    assert servers[1]["urls"] == "turns:t.example.com:5349" and servers[1]["username"] == "160:acme-1001"
    assert len(servers) == 2
    assert [s.as_dict() for s in ice_servers("turn:t.example.com", "", "u", 0, 1)] == [{"urls": "turn:t.example.com"}]
    assert ice_servers("", "k3y", "u", 0, 1) == []


def test_mos_falls_with_delay_jitter_and_loss() -> None:
    best = mos_estimate(10, 1, 0)
    assert 4.3 <= best <= 4.5
    assert mos_estimate(300, 1, 0) < best
    assert mos_estimate(10, 60, 0) < best
    assert mos_estimate(10, 1, 10) < mos_estimate(10, 1, 2) < best
    assert mos_estimate(None, 0, 0) == mos_estimate(0, 0, 0)
    assert mos_estimate(10_000, 5_000, 100) == 1.0
    assert loss_percent(1, 3) == 25.0 and loss_percent(-4, 10) == 0.0


def test_sip_domain() -> None:
    assert sip_domain_of("wss://pbx.example.com:8089/ws") == "pbx.example.com"
    assert sip_domain_of("ws://127.0.0.1:8088/ws", "example.com") == "example.com"


@pytest.mark.parametrize(("env", "key"), [
    ({"CCPLANE_WEBRTC_WSS_URL": "https://pbx/ws"}, "webrtc.wss_url"),
    ({"CCPLANE_WEBRTC_ICE_SERVERS": "stun:ok.example.com,http://bad"}, "webrtc.ice_servers"),
    ({"CCPLANE_WEBRTC_TURN_TTL": "0"}, "webrtc.turn_ttl"),
    ({"CCPLANE_SANDBOX_HTTP_PORT": "65535"}, "sandbox.http_port"),
])
def test_bad_webrtc_settings_name_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env=env)
    assert key in str(err.value)


def test_webrtc_settings_defaults_and_tls_port() -> None:
    s = load_settings(env={"CCPLANE_WEBRTC_ICE_SERVERS": "stun:a.example.com,turn:b.example.com"})
    assert s.webrtc.wss_url == "" and s.webrtc.stats_interval == 5
    assert SandboxSettings(http_port=28088).https_port == 28089


def _base_config(candidates: list[str]) -> dict[str, str]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(sandbox.TEMPLATE_DIR)), autoescape=False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    ctx = {"name": "t", "http_port": 8088, "https_port": 8089, "tls_cert": "/srv/t/etc/keys/asterisk.crt",
           "tls_key": "/srv/t/etc/keys/asterisk.key", "sip_port": 5060, "rtp_start": 10000, "rtp_end": 10999,
           "ice_host_candidates": candidates}
    return {n: env.get_template(n).render(ctx) for n in ("http.conf", "pjsip.conf", "rtp.conf")}


def test_sandbox_serves_wss_and_maps_host_candidates_to_loopback() -> None:
    conf = _base_config(["192.0.2.2", "10.1.2.3"])
    http = conf["http.conf"]
    assert "tlsenable = yes" in http and "tlsbindaddr = 127.0.0.1:8089" in http
    assert "tlscertfile = /srv/t/etc/keys/asterisk.crt" in http and "tlsprivatekey = /srv/t/etc/keys/asterisk.key" in http
    pjsip = conf["pjsip.conf"]
    assert "protocol = wss" in pjsip and "protocol = ws\n" in pjsip
    rtp = conf["rtp.conf"]
    assert "icesupport = yes" in rtp
    section = rtp.split("[ice_host_candidates]")[1]
    assert "192.0.2.2 => 127.0.0.1" in section and "10.1.2.3 => 127.0.0.1" in section
    assert "[ice_host_candidates]" not in _base_config([])["rtp.conf"]  # an empty section would be an error


def test_host_addresses_are_not_loopback() -> None:
    assert all(not a.startswith("127.") for a in sandbox.host_addresses())


def test_webrtc_endpoint_rendering() -> None:
    model = {
        "qualify_frequency": 10, "ring_timeout": 30, "ari_app": "ccplane", "unknown_did_delay": 2,
        "routes": [], "blacklists": [], "ivrs": [], "trunks": [], "queues": [],
        "domains": [{"slug": "acme", "outbound": [], "context": "ccplane-d-acme", "extensions": [
            {"number": "1002", "name": "Web", "secret": "s3cret-2", "endpoint": "acme-1002",
             "webrtc": True, "codecs": "opus,ulaw"}]}],
    }
    pjsip = render_files(model)["pjsip.conf"]
    endpoint = pjsip.split("[acme-1002]")[1]
    assert "webrtc=yes" in endpoint and "allow=opus,ulaw" in endpoint
    aor = pjsip.split("[acme-1002]")[3]
    assert "max_contacts=1" in aor and "remove_existing=yes" in aor


def test_every_text_of_the_phone_has_english() -> None:
    import re
    from pathlib import Path

    from ccplane.web.pages.i18n import EN
    from ccplane.web.pages.phone import LABEL_TEXTS, phone_labels
    template = Path(sandbox.__file__).resolve().parents[1] / "web" / "pages" / "templates" / "_phone.html"
    texts = set(re.findall(r"_\('([^']+)'\)", template.read_text())) | set(LABEL_TEXTS.values())
    assert len(texts) > 20
    assert sorted(t for t in texts if t not in EN) == []
    assert phone_labels("en")["registered"] == "Registered" and phone_labels("pt_BR")["registered"] == "Registrado"
