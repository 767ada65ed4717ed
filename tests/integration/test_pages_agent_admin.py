"""Agent screen and administration pages (issue 13, items 1-2) over HTTP: the
forms post to the same services the API uses; refused input shows at its field
and changes nothing; an agent gets 403 on admin pages; a form without its CSRF
token gets 403."""
from __future__ import annotations

import re
import secrets
from typing import Any

from tests.integration.test_web_pages import _csrf, _login
from tests.support.api import ApiCaller


async def _user(root: ApiCaller, domain: str, role: str) -> tuple[str, str]:
    username, password = f"{role[:2]}{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": f"{role.title()} Teste", "role": role, "password": password}, 201)
    return username, password


async def _as(client: Any, root: ApiCaller, domain: str, role: str) -> tuple[str, str]:
    username, password = await _user(root, domain, role)
    assert (await _login(client, username, password)).status == 302
    return username, _csrf(await (await client.get("/password")).text())


async def test_agent_gets_403_on_every_admin_page(app_client: Any, root: ApiCaller, domain: str) -> None:
    await _as(app_client, root, domain, "agent")
    for url in ("/admin/queues", "/admin/queues/new", "/admin/users", "/admin/extensions", "/admin/ivrs",
                "/admin/ivrs/new"):
        resp = await app_client.get(url, allow_redirects=False)
        assert resp.status == 403, url
        assert "Acesso negado" in await resp.text()
    home = await (await app_client.get("/")).text()
    assert 'href="/admin/users"' not in home and 'href="/admin/queues"' not in home  # no Team menu for agents


async def test_supervisor_creates_a_queue_and_bad_fields_show_at_the_field(app_client: Any, root: ApiCaller,
                                                                        domain: str) -> None:
    _, csrf = await _as(app_client, root, domain, "supervisor")
    form = (await (await app_client.get("/admin/queues/new")).text())
    assert "Segundos entre o fim de uma chamada e a próxima oferta" in form  # the product's definition as help
    bad = await app_client.post("/admin/queues/new", data={
        "csrf": csrf, "name": "Bad Name", "strategy": "ringall", "wrapup_time": "dez", "max_no_answer": "3"})
    text = await bad.text()
    assert bad.status == 400
    assert 'id="e-wrapup_time"' in text and 'href="#f-wrapup_time"' in text  # summary links to the field
    bad = await app_client.post("/admin/queues/new", data={
        "csrf": csrf, "name": "Bad Name", "strategy": "ringall", "wrapup_time": "10", "max_no_answer": "3",
        "ring_timeout": "15", "retry": "5", "call_timeout": "0", "reject_delay": "0", "noanswer_delay": "0",
        "max_wait": "0", "max_len": "0"})
    assert bad.status == 400 and 'id="e-name"' in await bad.text()
    assert (await root.ok("GET", f"/domains/{domain}/queues"))["total"] == 0  # nothing half-written
    ok = await app_client.post("/admin/queues/new", data={
        "csrf": csrf, "name": "suporte", "strategy": "linear", "wrapup_time": "12", "max_no_answer": "3",
        "ring_timeout": "20", "retry": "5", "call_timeout": "600", "reject_delay": "4", "noanswer_delay": "0",
        "busy_delay": "", "max_wait": "0", "max_len": "0", "join_empty": "on", "extensions": ""},
        allow_redirects=False)
    assert ok.status == 303, await ok.text()
    q = await root.ok("GET", f"/domains/{domain}/queues/suporte")
    assert (q["strategy"], q["wrapup_time"], q["max_no_answer"], q["call_timeout"], q["reject_delay"]) == \
        ("linear", 12, 3, 600, 4)
    assert q["join_empty"] is True and q["record"] is False
    edit = await app_client.post("/admin/queues/suporte", data={
        "csrf": csrf, "strategy": "ringall", "wrapup_time": "30", "max_no_answer": "0", "ring_timeout": "20",
        "retry": "5", "call_timeout": "600", "reject_delay": "4", "noanswer_delay": "0", "busy_delay": "",
        "max_wait": "0", "max_len": "0", "extensions": "99"}, allow_redirects=False)
    assert edit.status == 422, edit.status  # no extension 99
    assert 'id="e-extensions"' in await edit.text()
    assert (await root.ok("GET", f"/domains/{domain}/queues/suporte"))["wrapup_time"] == 12  # unchanged
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "reserva"}, 201)
    overflow = await app_client.post("/admin/queues/suporte", data={
        "csrf": csrf, "strategy": "ringall", "wrapup_time": "30", "max_no_answer": "0", "ring_timeout": "20",
        "retry": "5", "call_timeout": "600", "reject_delay": "4", "noanswer_delay": "0", "busy_delay": "",
        "max_wait": "60", "max_len": "0", "overflow_type": "queue", "overflow_target": "reserva"},
        allow_redirects=False)
    assert overflow.status == 303, await overflow.text()
    q = await root.ok("GET", f"/domains/{domain}/queues/suporte")
    assert (q["overflow"], q["max_wait"], q["wrapup_time"]) == ({"type": "queue", "target": "reserva"}, 60, 30)
    form = await (await app_client.get("/admin/queues/suporte")).text()
    assert 'value="reserva"' in form and '<option value="queue" selected>' in form
    no_csrf = await app_client.post("/admin/queues/suporte", data={"strategy": "random"}, allow_redirects=False)
    assert no_csrf.status == 403


async def test_ivr_save_names_the_node_path(app_client: Any, root: ApiCaller, domain: str) -> None:
    _, csrf = await _as(app_client, root, domain, "supervisor")
    tree = {"type": "menu", "prompt": "demo-congrats", "options": {"1": {"type": "queue", "target": "nope"}}}
    resp = await app_client.post("/admin/ivrs/menu1", json={"root": tree}, headers={"X-CSRF-Token": csrf})
    body = await resp.json()
    assert resp.status == 422 and body["error"]["field"] == "root.options.1.target", body
    assert (await root.ok("GET", f"/domains/{domain}/ivrs"))["items"] == []  # nothing half-written
    no_token = await app_client.post("/admin/ivrs/menu1", json={"root": tree})
    assert no_token.status == 403
    tree["options"]["1"] = {"type": "hangup"}
    resp = await app_client.post("/admin/ivrs/menu1", json={"root": tree}, headers={"X-CSRF-Token": csrf})
    assert resp.status == 200, await resp.text()
    editor = await (await app_client.get("/admin/ivrs/menu1")).text()
    assert '"demo-congrats"' in editor


async def test_team_and_extensions_pages(app_client: Any, root: ApiCaller, domain: str) -> None:
    _, csrf = await _as(app_client, root, domain, "admin")
    bad = await app_client.post("/admin/users/new", data={"csrf": csrf, "username": "x", "name": "X",
                                                          "role": "agent", "password": "short"})
    assert bad.status == 400 and 'id="e-username"' in await bad.text()
    ok = await app_client.post("/admin/users/new", data={"csrf": csrf, "username": "bia.agente", "name": "Bia",
                                                         "role": "agent", "password": "s3cret-pass-1"},
                               allow_redirects=False)
    assert ok.status == 303
    promoted = await app_client.post("/admin/users/bia.agente", data={"csrf": csrf, "role": "supervisor"},
                                     allow_redirects=False)
    assert promoted.status == 303
    assert (await root.ok("GET", f"/domains/{domain}/users/bia.agente"))["role"] == "supervisor"
    off = await app_client.post("/admin/users/bia.agente", data={"csrf": csrf, "active": "0"}, allow_redirects=False)
    assert off.status == 303
    assert (await root.ok("GET", f"/domains/{domain}/users/bia.agente"))["active"] is False
    page = await (await app_client.get("/admin/users")).text()
    assert re.search(r'data-user="bia.agente".*?Inativo', page, re.S)
    ext = await app_client.post("/admin/extensions/new", data={"csrf": csrf, "number": "7501", "name": "Recepção",
                                                               "kind": "sip", "secret": "secret-7501"},
                                allow_redirects=False)
    assert ext.status == 303
    state = await (await app_client.get("/admin/extensions/state")).json()
    assert state["items"] == [{"number": "7501", "registered": False, "in_use_by": None}]


async def test_another_domains_object_is_404_on_the_pages(app_client: Any, root: ApiCaller, domain: str,
                                                            other_domain: str) -> None:
    await root.ok("POST", f"/domains/{other_domain}/queues", {"name": "alheia"}, 201)
    await root.ok("POST", f"/domains/{other_domain}/ivrs",
                  {"name": "alheia", "root": {"type": "hangup"}}, 201)
    _, csrf = await _as(app_client, root, domain, "admin")
    for url in ("/admin/queues/alheia", "/admin/ivrs/alheia"):
        resp = await app_client.get(url)
        assert resp.status == 404, url
        assert "Não encontrado." in await resp.text()
    post = await app_client.post("/admin/queues/alheia", data={
        "csrf": csrf, "strategy": "random", "wrapup_time": "1", "max_no_answer": "0", "ring_timeout": "20",
        "retry": "5", "call_timeout": "0", "reject_delay": "0", "noanswer_delay": "0", "max_wait": "0", "max_len": "0"})
    assert post.status == 404  # never a change in another domain
    assert (await root.ok("GET", f"/domains/{other_domain}/queues/alheia"))["strategy"] == "ringall"


async def test_agent_screen_without_an_offered_extension_explains_why(app_client: Any, root: ApiCaller,
                                                                      domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "vendas"}, 201)
    _, csrf = await _as(app_client, root, domain, "agent")
    page = await (await app_client.get("/agent?queues=vendas")).text()
    assert 'id="no-extension"' in page and "registrados no servidor" in page
    refused = await app_client.post("/agent/session", data={"csrf": csrf, "queues": "vendas", "extension": "7777"})
    assert refused.status == 409 and "O ramal 7777 não existe neste domínio." in await refused.text()
    nothing = await app_client.post("/agent/session", data={"csrf": csrf, "extension": "7777"})
    assert nothing.status == 400 and 'href="#queues-fieldset"' in await nothing.text()


async def test_the_api_takes_the_page_session_with_its_csrf_header(app_client: Any, root: ApiCaller,
                                                                   domain: str) -> None:
    """What the agent screen's transfer and qualification controls rely on."""
    username, csrf = await _as(app_client, root, domain, "supervisor")
    url = f"/api/v1/domains/{domain}/queues"
    ok = await app_client.post(url, json={"name": "via-pagina"}, headers={"X-CSRF-Token": csrf})
    assert ok.status == 201, await ok.text()
    wrong = await app_client.post(url, json={"name": "outra"}, headers={"X-CSRF-Token": "x" + csrf})
    assert wrong.status == 401
    cookie_only = await app_client.post(url, json={"name": "outra"})
    assert cookie_only.status == 401  # a cookie alone is never enough
    listed = await app_client.get(url, headers={"X-CSRF-Token": csrf})
    assert [q["name"] for q in (await listed.json())["items"]] == ["via-pagina"]
    agent_user, agent_csrf = await _as(app_client, root, domain, "agent")
    denied = await app_client.post(url, json={"name": "outra"}, headers={"X-CSRF-Token": agent_csrf})
    assert denied.status == 403  # the session's role, as with a token
    assert username != agent_user


async def test_inbound_routes_blacklist_trunks_and_outbound_routes(app_client: Any, root: ApiCaller,
                                                                   domain: str) -> None:
    _, csrf = await _as(app_client, root, domain, "admin")
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "atendimento"}, 201)
    did = "11" + str(secrets.randbelow(10**8)).zfill(8)  # DIDs are unique across domains
    bad = await app_client.post("/admin/routes/new", data={"csrf": csrf, "did": did, "type": "queue",
                                                           "target": "nenhuma", "reject_delay": "0"})
    assert bad.status == 422 and 'id="e-target"' in await bad.text()
    assert await root.ok("GET", f"/domains/{domain}/routes") in ([], {"items": [], "total": 0})
    ok = await app_client.post("/admin/routes/new", data={"csrf": csrf, "did": did, "type": "queue",
                                                          "target": "atendimento", "reject_delay": "3"},
                               allow_redirects=False)
    assert ok.status == 303
    page = await (await app_client.get("/admin/routes")).text()
    assert f'data-did="{did}"' in page and "atendimento" in page
    blocked = await app_client.post("/admin/routes/block", data={"csrf": csrf, "number": "11987654321",
                                                                 "reason": "trote"}, allow_redirects=False)
    assert blocked.status == 303
    assert 'data-number="11987654321"' in await (await app_client.get("/admin/routes")).text()
    short = await app_client.post("/admin/routes/block", data={"csrf": csrf, "number": "1"})
    assert short.status == 400 and 'id="e-number"' in await short.text()

    trunk = await app_client.post("/admin/trunks/new", data={
        "csrf": csrf, "name": "operadora", "host": "127.0.0.1", "port": "5999", "transport": "udp"},
        allow_redirects=False)
    assert trunk.status == 303, await trunk.text()
    bad_port = await app_client.post("/admin/trunks/new", data={"csrf": csrf, "name": "outra", "host": "127.0.0.1",
                                                                "port": "porta"})
    assert bad_port.status == 400 and 'id="e-port"' in await bad_port.text()
    route = await app_client.post("/admin/trunks/route", data={
        "csrf": csrf, "route_name": "celulares", "patterns": "_0XX9XXXXXXXX, _0XXXXXXXXXX", "trunks": "operadora",
        "strip": "1", "prefix": "55"}, allow_redirects=False)
    assert route.status == 303, await route.text()
    out = await root.ok("GET", f"/domains/{domain}/outbound-routes")
    items = out["items"] if isinstance(out, dict) else out
    assert [(r["name"], r["patterns"], r["trunks"], r["strip"], r["prefix"]) for r in items] == \
        [("celulares", ["_0XX9XXXXXXXX", "_0XXXXXXXXXX"], ["operadora"], 1, "55")]
    state = await (await app_client.get("/admin/trunks/state")).json()
    assert [t["name"] for t in state["items"]] == ["operadora"] and state["items"][0]["status"]
    page = await (await app_client.get("/admin/trunks")).text()
    assert 'data-trunk="operadora"' in page and 'data-route="celulares"' in page


async def test_root_on_the_agent_screen_gets_an_explanation(app_client: Any, services: Any, domain: str) -> None:
    username, password = f"root-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    await services.auth.create_root(username, password)
    assert (await _login(app_client, username, password)).status == 302
    page = await app_client.get("/agent")
    text = await page.text()
    assert page.status == 200 and "não é membro deste domínio" in text and 'id="choose-queues"' not in text


async def test_a_queue_named_new_is_refused_at_its_field_in_portuguese(app_client: Any, root: ApiCaller,
                                                                       domain: str) -> None:
    _, csrf = await _as(app_client, root, domain, "supervisor")
    bad = await app_client.post("/admin/queues/new", data={
        "csrf": csrf, "name": "new", "strategy": "ringall", "wrapup_time": "10", "max_no_answer": "3",
        "ring_timeout": "15", "retry": "5", "call_timeout": "0", "reject_delay": "0", "noanswer_delay": "0",
        "max_wait": "0", "max_len": "0"})
    text = await bad.text()
    assert bad.status == 400 and 'id="e-name"' in text
    assert "O nome new é reservado: é o endereço da página de criação." in text, text[-2000:]
    assert (await root.ok("GET", f"/domains/{domain}/queues"))["total"] == 0
