"""Pages hardening and role homes (issue 13): ``next=`` never leaves the site, an unknown
username costs a password verify and counts in the throttle, the cookie feed checks Origin,
each role's home, the role matrix of the admin pages, the Secure cookie behind a TLS proxy,
the superuser's domain switcher."""
from __future__ import annotations

import re
import secrets
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from ccplane.settings import Settings, load_settings
from tests.support.api import ApiCaller

WALL = "https://wall.example.com"  # a configured extra origin (server.allowed_origins)

# Each must land on the role's home, never on another host.
VECTORS = ["/\\evil.example", "/\\/evil.example", "//evil.example", "//evil.example/x", "https://evil.example",
           "http:evil.example", "javascript:alert(1)", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example",
           "/\r\n//evil.example", " //evil.example", "/\x00/evil.example", "evil.example", ""]


@pytest.fixture
def settings(migrated_url: str, base_env: dict[str, str]) -> Settings:
    return load_settings(env={**base_env, "CCPLANE_DATABASE_URL": migrated_url,
                              "CCPLANE_SERVER_ALLOWED_ORIGINS": WALL + "/"})


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


async def _login(client: Any, username: str, password: str, nxt: str | None = "/",
                 headers: dict[str, str] | None = None) -> Any:
    page = await client.get("/login")
    assert page.status == 200
    data = {"csrf": _csrf(await page.text()), "username": username, "password": password}
    if nxt is not None:
        data["next"] = nxt
    return await client.post("/login", data=data, allow_redirects=False, headers=headers or {})


async def _user(root: ApiCaller, domain: str, role: str, name: str = "Pessoa Teste") -> tuple[str, str]:
    username, password = f"{role[:2]}{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": name, "role": role, "password": password}, 201)
    return username, password


async def _root_user(services: Any) -> tuple[str, str]:
    username, password = f"r{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await services.auth.create_root(username, password)
    return username, password


def _off_site(location: str) -> bool:
    return not location.startswith("/") or location.startswith("//") or "\\" in location \
        or "evil" in location


# -- 1. next= and the switcher's next ---------------------------------------------

async def test_login_next_never_leaves_the_site(app_client: Any, root: ApiCaller, domain: str) -> None:
    username, password = await _user(root, domain, "agent")
    for vector in VECTORS:
        resp = await _login(app_client, username, password, vector)
        assert resp.status == 302, (vector, resp.status)
        assert resp.headers["Location"] == "/agent", (vector, resp.headers["Location"])  # the agent's home
        form = await app_client.get("/login", params={"next": vector})
        assert 'name="next" value=""' in await form.text(), vector  # the form does not carry it either
    kept = await _login(app_client, username, password, "/alerts?page=2")
    assert kept.headers["Location"] == "/alerts?page=2"  # a path of the site is kept as it is
    assert (await _login(app_client, username, password, "/")).headers["Location"] == "/"


async def test_login_without_next_goes_to_each_roles_home(app_client: Any, root: ApiCaller, domain: str,
                                                           services: Any) -> None:
    for role, home in (("agent", "/agent"), ("supervisor", "/supervisor"), ("admin", "/")):
        username, password = await _user(root, domain, role)
        resp = await _login(app_client, username, password, None)
        assert resp.status == 302 and resp.headers["Location"] == home, (role, resp.headers["Location"])
    username, password = await _root_user(services)
    resp = await _login(app_client, username, password, "//evil.example")
    assert resp.headers["Location"] == "/"


async def test_domain_switcher_next_never_leaves_the_site(app_client: Any, root: ApiCaller, domain: str,
                                                          other_domain: str, services: Any) -> None:
    username, password = await _root_user(services)
    await _login(app_client, username, password)
    token = _csrf(await (await app_client.get("/")).text())
    for vector in VECTORS:
        resp = await app_client.post("/domain", data={"csrf": token, "domain": other_domain, "next": vector},
                                     allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == "/", (vector, resp.headers["Location"])
    stay = await app_client.post("/domain", data={"csrf": token, "domain": domain, "next": "/admin/queues"},
                                 allow_redirects=False)
    assert stay.headers["Location"] == "/admin/queues"


async def test_language_switch_goes_back_only_to_this_site(app_client: Any, root: ApiCaller, domain: str) -> None:
    off = await app_client.get("/lang/en", headers={"Referer": "https://evil.example/phish"}, allow_redirects=False)
    assert off.status == 302 and off.headers["Location"] == "/"
    host = f"{app_client.server.host}:{app_client.server.port}"
    back = await app_client.get("/lang/en", headers={"Referer": f"http://{host}/alerts?x=1"}, allow_redirects=False)
    assert back.headers["Location"] == "/alerts?x=1"
    sneaky = await app_client.get("/lang/en", headers={"Referer": f"http://{host}//evil.example"},
                                  allow_redirects=False)
    assert not _off_site(sneaky.headers["Location"]) and sneaky.headers["Location"] == "/"


# -- 2. an unknown username costs a verify and is throttled -------------------------

class _SpyHasher:
    def __init__(self, real: Any) -> None:
        self.real, self.hashes = real, []  # type: ignore[var-annotated]

    def verify(self, stored: str, password: str) -> bool:
        self.hashes.append(stored)
        return bool(self.real.verify(stored, password))

    def hash(self, password: str) -> str:
        return str(self.real.hash(password))


async def test_unknown_user_goes_through_the_password_verify(app_client: Any, root: ApiCaller, domain: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from ccplane.features.auth import domain as auth_domain
    username, password = await _user(root, domain, "agent")
    spy = _SpyHasher(auth_domain._hasher)
    monkeypatch.setattr(auth_domain, "_hasher", spy)
    unknown = await _login(app_client, f"nobody-{secrets.token_hex(3)}", "whatever-pass")
    assert unknown.status == 401 and "Usuário ou senha" in await unknown.text()
    assert spy.hashes == [auth_domain._DUMMY_HASH]  # one real argon2 verify, against the dummy hash
    wrong = await _login(app_client, username, "wrong-pass")
    assert wrong.status == 401 and len(spy.hashes) == 2 and spy.hashes[1] != auth_domain._DUMMY_HASH
    assert (await unknown.text()).count("Usuário ou senha") == (await wrong.text()).count("Usuário ou senha")


async def test_throttle_counts_unknown_users(app_client: Any, services: Any) -> None:
    name = f"ghost-{secrets.token_hex(3)}"
    statuses = [(await _login(app_client, name, "x-password")).status for _ in range(7)]
    assert statuses[0] == 401 and statuses[-1] == 429, statuses  # per account, existing or not
    services.auth.throttle.address_free = 3
    app_client.session.cookie_jar.clear()
    per_address = [(await _login(app_client, f"ghost-{i}-{secrets.token_hex(2)}", "x")).status for i in range(6)]
    assert 429 in per_address and per_address[0] == 401, per_address  # every name from one address counts


# -- 3. the cookie feed checks Origin; the bearer feed does not need one ------------

async def test_cookie_feed_refuses_another_sites_origin(app_client: Any, root: ApiCaller, domain: str) -> None:
    username, password = await _user(root, domain, "supervisor")
    await _login(app_client, username, password)
    for origin in ("https://evil.example", "null", f"http://{app_client.server.host}.evil.example"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await app_client.ws_connect("/live", headers={"Origin": origin})
        assert refused.value.status == 403, origin
    host = f"{app_client.server.host}:{app_client.server.port}"
    for origin in (f"http://{host}", WALL, None):  # the site itself, a configured origin, no browser
        ws = await app_client.ws_connect("/live", headers={"Origin": origin} if origin else {})
        first = await ws.receive_json(timeout=5)
        assert first["type"] == "snapshot", origin
        await ws.close()


async def test_bearer_feed_works_without_origin(app_client: Any, root: ApiCaller, domain: str) -> None:
    app_client.session.cookie_jar.clear()
    ws = await app_client.ws_connect(f"/api/v1/domains/{domain}/live", headers={"Authorization": f"Bearer {root.token}"})
    first = await ws.receive_json(timeout=5)
    assert first["type"] == "snapshot" and set(first["data"]) >= {"agents", "queues", "calls"}
    await ws.close()


def test_origin_rules_on_recorded_requests(settings: Settings) -> None:
    from ccplane.web.keys import SETTINGS
    from ccplane.web.live import origin_allowed
    app = web.Application()
    app[SETTINGS] = settings

    def req(origin: str | None, host: str = "pabx.example.com:8443") -> web.Request:
        headers = {"Host": host} | ({"Origin": origin} if origin is not None else {})
        return make_mocked_request("GET", "/live", headers=headers, app=app)
    assert origin_allowed(req("https://pabx.example.com:8443")) and origin_allowed(req("http://PABX.example.com:8443/"))
    assert origin_allowed(req(WALL)) and origin_allowed(req(None))
    assert not origin_allowed(req("https://pabx.example.com"))  # another port is another origin
    assert not origin_allowed(req("https://pabx.example.com:8443.evil.example"))
    assert not origin_allowed(req("null"))

    def proxied(peer: str) -> web.Request:
        from unittest import mock
        transport = mock.Mock()
        transport.get_extra_info.side_effect = lambda key, default=None: (peer, 40000) if key == "peername" else default
        return make_mocked_request("GET", "/live", app=app, transport=transport, headers={
            "Host": "127.0.0.1:8080", "X-Forwarded-Host": "pabx.example.com", "Origin": "https://pabx.example.com"})
    assert origin_allowed(proxied("127.0.0.1"))  # a trusted proxy's X-Forwarded-Host is the site
    assert not origin_allowed(proxied("203.0.113.9"))  # anyone else's is not believed


# -- 4. homes ---------------------------------------------------------------------

async def test_admin_home_is_the_domains_dashboard(app_client: Any, root: ApiCaller, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "vendas"}, 201)
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "suporte"}, 201)
    await _user(root, domain, "agent")
    username, password = await _user(root, domain, "admin", "Alice Admin")
    resp = await _login(app_client, username, password)
    assert resp.headers["Location"] == "/"
    home = await app_client.get("/")
    html = await home.text()
    assert home.status == 200 and "Bem-vindo, Alice Admin" in html and "Resumo do domínio" in html
    tiles = dict(re.findall(r'<a class="tile" href="([^"]+)"><span class="tile-value">(\d+)</span>', html))
    assert tiles["/admin/queues"] == "2" and tiles["/admin/users"] == "2"  # the agent and the admin
    assert set(tiles) >= {"/admin/extensions", "/admin/ivrs", "/admin/routes", "/admin/trunks", "/admin/campaigns"}
    assert "1 atendentes ativos" in html and 'href="/supervisor"' in html
    assert 'action="/domain"' not in html  # an administrator has one domain: no switcher
    en = await (await app_client.get("/?lang=en")).text()
    assert "Domain overview" in en and "1 active agents" in en


async def test_superuser_home_has_the_switcher_and_the_dashboard(app_client: Any, root: ApiCaller, domain: str,
                                                                  other_domain: str, services: Any) -> None:
    from sqlalchemy import select

    from ccplane.features.domains.models import Domain
    from ccplane.features.users.models import Membership, User
    await root.ok("POST", f"/domains/{other_domain}/queues", {"name": "outra"}, 201)
    username, password = await _user(root, domain, "superuser", "Sergio Super")
    third = f"x{secrets.token_hex(4)}"
    await root.ok("POST", "/domains", {"slug": third, "name": "Not theirs"}, 201)
    async with services.sessions() as s:  # a superuser of two domains (memberships, as the product has them)
        uid = await s.scalar(select(User.id).where(User.username == username))
        did = await s.scalar(select(Domain.id).where(Domain.slug == other_domain))
        s.add(Membership(user_id=uid, domain_id=did))
        await s.commit()
    resp = await _login(app_client, username, password)
    assert resp.headers["Location"] == "/"
    html = await (await app_client.get("/")).text()
    assert 'id="home-domain"' in html and f'value="{other_domain}"' in html and f'value="{third}"' not in html
    assert "Resumo do domínio" in html
    for slug, queues in ((other_domain, "1"), (domain, "0")):
        switched = await app_client.post("/domain", data={"csrf": _csrf(html), "domain": slug, "next": "/"})
        after = await switched.text()
        assert switched.status == 200 and f'data-domain="{slug}"' in after
        tiles = dict(re.findall(r'<a class="tile" href="([^"]+)"><span class="tile-value">(\d+)</span>', after))
        assert tiles["/admin/queues"] == queues, slug  # the chosen domain's figures
    refused = await app_client.post("/domain", data={"csrf": _csrf(after), "domain": third, "next": "/"})
    assert refused.status == 403  # not one of theirs


async def test_root_home_has_the_switcher_and_the_dashboard(app_client: Any, domain: str, other_domain: str,
                                                            services: Any) -> None:
    username, password = await _root_user(services)
    await _login(app_client, username, password)
    html = await (await app_client.get("/")).text()
    assert 'id="home-domain"' in html and f'value="{domain}"' in html and f'value="{other_domain}"' in html
    assert '<ul class="tiles"' in html and "Administrador(a) geral" in html


async def test_agent_and_supervisor_homes_open_their_screens(app_client: Any, root: ApiCaller, domain: str) -> None:
    for role, target in (("agent", "/agent"), ("supervisor", "/supervisor")):
        app_client.session.cookie_jar.clear()
        username, password = await _user(root, domain, role)
        await _login(app_client, username, password)
        html = await (await app_client.get("/")).text()
        assert f'class="button primary" href="{target}"' in html and '<ul class="tiles"' not in html, role


# -- 5. the role matrix of the admin pages, the Secure cookie ------------------------

async def test_admin_pages_role_matrix(app_client: Any, root: ApiCaller, domain: str) -> None:
    # docs/pages.md: routes root/superuser/admin/supervisor; trunks and users root/superuser/admin
    matrix = {"agent": {"/admin/routes": 403, "/admin/trunks": 403, "/admin/users": 403},
              "supervisor": {"/admin/routes": 200, "/admin/trunks": 403, "/admin/users": 403},
              "admin": {"/admin/routes": 200, "/admin/trunks": 200, "/admin/users": 200}}
    for role, pages in matrix.items():
        app_client.session.cookie_jar.clear()
        username, password = await _user(root, domain, role)
        await _login(app_client, username, password)
        for path, status in pages.items():
            resp = await app_client.get(path, allow_redirects=False)
            assert resp.status == status, (role, path, resp.status)
            if status == 403:
                assert "permissão" in (await resp.text()).lower(), (role, path)


async def test_session_cookie_is_secure_behind_a_tls_proxy(app_client: Any, root: ApiCaller, domain: str) -> None:
    username, password = await _user(root, domain, "agent")
    resp = await _login(app_client, username, password, headers={"X-Forwarded-Proto": "https"})
    session = next(c for c in resp.headers.getall("Set-Cookie") if c.startswith("ccplane_session="))
    assert "Secure" in session and "HttpOnly" in session  # the test client is 127.0.0.1, a trusted proxy
    plain = await _login(app_client, username, password)
    session = next(c for c in plain.headers.getall("Set-Cookie") if c.startswith("ccplane_session="))
    assert "Secure" not in session


def test_forwarded_proto_only_from_a_trusted_proxy(settings: Settings) -> None:
    from unittest import mock

    from ccplane.web.keys import SETTINGS
    from ccplane.web.pages import _is_tls
    app = web.Application()
    app[SETTINGS] = settings

    def req(peer: str, proto: str) -> web.Request:
        transport = mock.Mock()
        transport.get_extra_info.side_effect = lambda key, default=None: (peer, 40000) if key == "peername" else default
        return make_mocked_request("GET", "/login", headers={"X-Forwarded-Proto": proto}, app=app,
                                   transport=transport)
    assert _is_tls(req("127.0.0.1", "https")) and _is_tls(req("::1", "HTTPS"))
    assert not _is_tls(req("203.0.113.9", "https"))  # anyone else's header is not believed
    assert not _is_tls(req("127.0.0.1", "http"))
