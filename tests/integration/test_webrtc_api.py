"""Issue 15 over HTTP: the agent screen gives the phone's credentials to its own
WebRTC agent only (never cached); the call-quality endpoints refuse what they
must (another agent, another domain, no call in progress, bad figures) with a
status and the field. The success paths run in tests/e2e/test_webrtc_phone.py
with a real browser call."""
from __future__ import annotations

import json
import re
import secrets
from typing import Any

from tests.integration.test_web_pages import _login
from tests.support.api import ApiCaller, assert_error


async def _user(root: ApiCaller, domain: str, role: str, **extra: Any) -> tuple[str, str]:
    username, password = f"{role[:2]}{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users", {"username": username, "name": f"{role.title()} Teste",
                                                       "role": role, "password": password, **extra}, 201)
    return username, password


def _phone(html: str) -> dict[str, Any] | None:
    m = re.search(r"window\.PHONE = (\{.*?\});", html)
    return json.loads(m.group(1)) if m else None


async def test_the_page_gives_only_the_agents_own_webrtc_phone(app_client: Any, root: ApiCaller, domain: str,
                                                               sandbox: Any) -> None:
    await root.ok("POST", f"/domains/{domain}/extensions",
                  {"number": "7801", "name": "Web", "secret": "webrtc-secret-7801", "kind": "webrtc"}, 201)
    await root.ok("POST", f"/domains/{domain}/extensions",
                  {"number": "7802", "name": "Desk", "secret": "desk-secret-7802"}, 201)
    web_user, web_pass = await _user(root, domain, "agent", webrtc_extension="7801")
    desk_user, desk_pass = await _user(root, domain, "agent")

    assert (await _login(app_client, web_user, web_pass)).status == 302
    resp = await app_client.get("/agent")
    html = await resp.text()
    phone = _phone(html)
    assert phone is not None and resp.headers["Cache-Control"] == "no-store"
    assert phone["uri"] == f"sip:{domain}-7801@127.0.0.1" and phone["authorization_user"] == f"{domain}-7801"
    assert phone["password"] == "webrtc-secret-7801" and phone["wss_url"] == sandbox.wss_url
    assert phone["wss_url"].startswith("wss://127.0.0.1:") and phone["username"] == web_user
    assert "/static/vendor/jssip/jssip.min.js" in html and "desk-secret-7802" not in html
    js = await app_client.get("/static/vendor/jssip/jssip.min.js")
    assert js.status == 200 and "3.13.8" in await js.text()

    app_client.session.cookie_jar.clear()
    assert (await _login(app_client, desk_user, desk_pass)).status == 302
    html = await (await app_client.get("/agent")).text()
    assert _phone(html) is None and "webrtc-secret-7801" not in html and "jssip" not in html


async def test_call_quality_refusals(app_client: Any, root: ApiCaller, domain: str, other_domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/extensions",
                  {"number": "7811", "name": "Web", "secret": "webrtc-secret-7811", "kind": "webrtc"}, 201)
    username, password = await _user(root, domain, "agent", webrtc_extension="7811")
    agent = await root.login(username, password)
    other_agent_name, _ = await _user(root, domain, "agent")
    sup_name, sup_pass = await _user(root, domain, "supervisor")
    supervisor = await root.login(sup_name, sup_pass)
    stranger_name, stranger_pass = await _user(root, other_domain, "supervisor")
    stranger = await root.login(stranger_name, stranger_pass)
    path = f"/domains/{domain}/agents/{username}/call-quality"
    good = {"packets_sent": 100, "packets_received": 98, "packets_lost": 2, "jitter_ms": 4.5, "rtt_ms": 30}

    status, body = await agent.call("POST", path, good)
    assert_error(status, body, 409, "call")  # no call in progress, none named
    status, body = await agent.call("POST", path, {**good, "call": "no-such-call"})
    assert status == 404, body
    status, body = await agent.call("POST", f"/domains/{domain}/agents/{other_agent_name}/call-quality", good)
    assert status == 403, body  # only the agent's own phone reports
    status, body = await stranger.call("POST", path, good)
    assert status == 404, body  # another domain
    for bad, field in (({**good, "packets_sent": -1}, "packets_sent"), ({**good, "jitter_ms": "x"}, "jitter_ms"),
                       ({**good, "rtt_ms": None}, "rtt_ms"), ({**good, "mos": 5}, "mos"),
                       ({"packets_received": 1}, "packets_sent"), ({**good, "call": "a b"}, "call")):
        status, body = await agent.call("POST", path, bad)
        assert_error(status, body, 422, field)

    status, body = await supervisor.call("GET", f"/domains/{domain}/calls/no-such-call/quality")
    assert status == 404, body
    status, body = await agent.call("GET", f"/domains/{domain}/calls/no-such-call/quality")
    assert status == 403, body  # agents do not read others' figures
    status, body = await stranger.call("GET", f"/domains/{domain}/calls/no-such-call/quality")
    assert status == 404, body
