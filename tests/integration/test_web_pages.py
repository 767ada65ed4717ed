"""Web pages machinery (issue 13, item 1): login with CSRF and the throttle,
cookie flags, role home, password change, logout, domain switcher, role checks."""
from __future__ import annotations

import re
import secrets
from typing import Any

from tests.support.api import ApiCaller


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


async def _login(client: Any, username: str, password: str, nxt: str = "/") -> Any:
    page = await client.get("/login")
    assert page.status == 200
    token = _csrf(await page.text())
    return await client.post("/login", data={"csrf": token, "username": username, "password": password, "next": nxt},
                             allow_redirects=False)


async def _agent(root: ApiCaller, domain: str) -> tuple[str, str]:
    username, password = f"ag{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": "Ana Agente", "role": "agent", "password": password}, 201)
    return username, password


async def test_login_sets_a_safe_cookie_and_the_role_home(app_client: Any, root: ApiCaller, domain: str) -> None:
    username, password = await _agent(root, domain)
    resp = await _login(app_client, username, password)
    assert resp.status == 302 and resp.headers["Location"] == "/"
    cookie = resp.headers.getall("Set-Cookie")
    session = next(c for c in cookie if c.startswith("ccplane_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session  # plain HTTP here
    home = await app_client.get("/")
    text = await home.text()
    assert home.status == 200 and "Ana Agente" in text and 'href="/agent"' in text
    assert domain in text


async def test_wrong_password_then_throttle(app_client: Any, root: ApiCaller, domain: str) -> None:
    username, _ = await _agent(root, domain)
    statuses = [(await _login(app_client, username, "wrong")).status for _ in range(7)]
    assert statuses[0] == 401 and statuses[-1] == 429, statuses


async def test_form_without_csrf_is_403(app_client: Any, root: ApiCaller, domain: str) -> None:
    username, password = await _agent(root, domain)
    bad = await app_client.post("/login", data={"username": username, "password": password}, allow_redirects=False)
    assert bad.status == 403
    assert (await _login(app_client, username, password)).status == 302
    out = await app_client.post("/logout", data={}, allow_redirects=False)
    assert out.status == 403
    assert (await app_client.get("/", allow_redirects=False)).status == 200  # still logged in


async def test_password_change_and_logout(app_client: Any, root: ApiCaller, domain: str) -> None:
    username, password = await _agent(root, domain)
    await _login(app_client, username, password)
    form = await app_client.get("/password")
    token = _csrf(await form.text())
    wrong = await app_client.post("/password", data={"csrf": token, "current": "nope", "new": "abcdefgh1", "again": "abcdefgh1"})
    assert wrong.status == 400 and "A senha atual está errada." in await wrong.text()
    done = await app_client.post("/password", data={"csrf": token, "current": password, "new": "abcdefgh1", "again": "abcdefgh1"})
    assert done.status == 200 and "Senha alterada." in await done.text()
    assert (await app_client.get("/", allow_redirects=False)).status == 200  # the new cookie works
    await root.ok("POST", "/auth/token", {"username": username, "password": "abcdefgh1"})  # API sees the new password
    out = await app_client.post("/logout", data={"csrf": token}, allow_redirects=False)
    assert out.status == 302
    after = await app_client.get("/", allow_redirects=False)
    assert after.status == 302 and after.headers["Location"].startswith("/login")


async def test_domain_switcher_root_only(app_client: Any, root: ApiCaller, domain: str, other_domain: str,
                                        services: Any) -> None:
    username, password = f"r{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await services.auth.create_root(username, password)
    await _login(app_client, username, password)
    home = await (await app_client.get("/")).text()
    assert 'action="/domain"' in home and other_domain in home
    switched = await app_client.post("/domain", data={"csrf": _csrf(home), "domain": other_domain, "next": "/"})
    assert switched.status == 200 and f"{other_domain}" in (await switched.text()).split("Domínio: ")[1][:40]


async def test_agent_has_no_switcher_and_english_catalogue(app_client: Any, root: ApiCaller, domain: str) -> None:
    username, password = await _agent(root, domain)
    await _login(app_client, username, password)
    home = await app_client.get("/")
    text = await home.text()
    assert 'action="/domain"' not in text
    refused = await app_client.post("/domain", data={"csrf": _csrf(text), "domain": domain})
    assert refused.status == 403
    en = await app_client.get("/?lang=en")
    assert "Sign out" in await en.text()


async def test_supervisor_panel_live_feed_and_actions(app_client: Any, root: ApiCaller, domain: str) -> None:
    username, password = f"sv{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": "Sara Supervisora", "role": "supervisor", "password": password}, 201)
    await _login(app_client, username, password)
    panel = await app_client.get("/supervisor")
    html = await panel.text()
    assert panel.status == 200 and 'id="agents"' in html and "Maior espera" in html
    ws = await app_client.ws_connect("/live")  # the session cookie authenticates the feed
    first = await ws.receive_json(timeout=5)
    assert first["type"] == "snapshot" and set(first["data"]) >= {"agents", "queues", "calls"}
    await ws.close()
    missing = await app_client.post("/supervisor/hangup", data={"csrf": _csrf(html), "call": "nope"})
    assert missing.status == 404 and (await missing.json())["error"]["code"]
    assert (await app_client.post("/supervisor/hangup", data={"call": "nope"})).status == 403  # no CSRF token


async def test_agent_may_not_open_the_supervisor_panel(app_client: Any, root: ApiCaller, domain: str) -> None:
    username, password = await _agent(root, domain)
    await _login(app_client, username, password)
    assert (await app_client.get("/supervisor")).status == 403
    anonymous_ws = await app_client.get("/live", allow_redirects=False)
    assert anonymous_ws.status in (400, 403)  # not a websocket handshake, or no domain


async def test_live_feed_refuses_without_a_session(aiohttp_client: Any, app_client: Any) -> None:
    app_client.session.cookie_jar.clear()
    assert (await app_client.get("/live")).status == 403


async def test_supervisor_feed_follows_a_real_call(app_client: Any, root: ApiCaller, scene: Any) -> None:
    """The panel's feed over /live: ringing, in call, then wrap-up with seconds left (real sandbox call)."""
    username, password = f"sv{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await scene.extension("7301", phone="auto")
    await scene.queue("wq", strategy="ringall", ring_timeout=5, wrapup_time=5, extensions=["7301"])
    # a supervisor's feed (the page's as the API's) covers the queues of their monitoring groups
    await root.ok("POST", f"/domains/{scene.domain}/monitoring-groups", {"name": "g-wq", "queues": ["wq"]}, 201)
    await root.ok("POST", f"/domains/{scene.domain}/users",
                  {"username": username, "name": "Sara", "role": "supervisor", "password": password,
                   "monitoring_groups": ["g-wq"]}, 201)
    await _login(app_client, username, password)
    agent = await scene.agent(["wq"], "7301")
    ws = await app_client.ws_connect("/live")
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    caller = await scene.call("wq")
    seen: list[str] = []
    types: set[str] = set()
    while "in_call" not in seen:
        m = await ws.receive_json(timeout=10)
        types.add(m["type"])
        if m["type"] == "agent.state" and m["data"]["username"] == agent.username:  # type: ignore[attr-defined]
            seen.append(m["data"]["state"])
    await scene.hangup(caller)
    while True:
        m = await ws.receive_json(timeout=10)
        if m["type"] == "agent.state" and m["data"]["state"] == "wrapup":
            assert m["data"]["wrapup_left"] > 0
            break
    assert "call.new" in types and "queue.caller_joined" in types
    await ws.close()
