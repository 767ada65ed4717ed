"""The alert monitoring page, the alert app page and the reports page over
HTTP (issue 13, alert/report slice): what each page shows from the services,
forms with CSRF, errors naming the field, role and domain checks, downloads.
The browser behaviour (live board, geolocation, sound) is in tests/e2e."""
from __future__ import annotations

import io
import re
import secrets
from typing import Any

import aiohttp
import openpyxl

from tests.integration.test_web_pages import _csrf, _login
from tests.support.api import ApiCaller

CPF = "52998224725"


async def _user(root: ApiCaller, domain: str, role: str) -> tuple[str, str]:
    username, password = f"u{secrets.token_hex(4)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": f"Ana {role}", "role": role, "password": password}, 201)
    return username, password


async def _person_and_alert(root: ApiCaller, domain: str, level: str = "green", cpf: str = CPF,
                            location: dict[str, float] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    person = await root.ok("POST", f"/domains/{domain}/monitored-persons",
                           {"name": "Joana da Silva", "cpf": cpf, "phone": "11987654321", "password": "app-password",
                            "notes": "Medida protetiva 123/2026"}, 201)
    token = await root.ok("POST", f"/app/{domain}/login", {"cpf": cpf, "password": "app-password"})
    app = ApiCaller(root.client, token["access_token"])
    created = await app.ok("POST", f"/app/{domain}/alerts", {"level": level, "location": location}, 201)
    return person, created


async def test_alert_board_detail_notes_ack_close(app_client: Any, root: ApiCaller, domain: str) -> None:
    person, created = await _person_and_alert(root, domain, "red", location={"lat": -23.55, "lon": -46.63})
    form = aiohttp.FormData()
    form.add_field("file", b"%PDF-1.7\nboletim", filename="boletim.pdf", content_type="application/pdf")
    status, _ = await root.call("POST", f"/domains/{domain}/monitored-persons/{person['id']}/attachments",
                                raw=None, json=None)  # no file: refused, nothing stored
    assert status in (400, 415, 422)
    resp = await app_client.post(f"/api/v1/domains/{domain}/monitored-persons/{person['id']}/attachments",
                                 data=form, headers={"Authorization": f"Bearer {root.token}"})
    assert resp.status == 201, await resp.text()
    attachment = await resp.json()

    username, password = await _user(root, domain, "agent")
    assert (await _login(app_client, username, password, "/alerts")).status == 302
    board = await app_client.get("/alerts")
    html = await board.text()
    assert board.status == 200 and "Monitoramento de alertas" in html and "Joana da Silva" in html
    assert '<svg' in html and "Alertas por hora" in html  # the dashboard figures, drawn on the server
    opened = (await (await app_client.get("/alerts/open.json")).json())["items"]
    assert [(a["id"], a["status"], a["level"]) for a in opened] == [(created["id"], "new", "red")]

    page = await app_client.get(f"/alerts/{created['id']}")
    text = await page.text()
    assert page.status == 200 and "Medida protetiva 123/2026" in text and "boletim.pdf" in text
    assert "maps.google.com/?q=-23.550000,-46.630000" in text
    csrf = _csrf(text)
    got = await app_client.get(f"/alerts/persons/{person['id']}/attachments/{attachment['id']}")
    assert got.status == 200 and (await got.read()).endswith(b"boletim")

    # a note: empty is refused naming the field, nothing stored; then stored and listed (also by the API)
    bad = await app_client.post(f"/alerts/{created['id']}/notes", data={"csrf": csrf, "text": "  "})
    assert bad.status == 422 and "text" in await bad.text()
    assert await root.ok("GET", f"/domains/{domain}/alerts/{created['id']}/notes") == []
    ok = await app_client.post(f"/alerts/{created['id']}/notes", data={"csrf": csrf, "text": "Liguei; sem resposta."},
                               allow_redirects=False)
    assert ok.status == 303
    notes = await root.ok("GET", f"/domains/{domain}/alerts/{created['id']}/notes")
    assert [(n["author"], n["text"]) for n in notes] == [(username, "Liguei; sem resposta.")]
    assert "Liguei; sem resposta." in await (await app_client.get(f"/alerts/{created['id']}")).text()

    no_csrf = await app_client.post(f"/alerts/{created['id']}/ack", data={})
    assert no_csrf.status == 403
    took = await app_client.post(f"/alerts/{created['id']}/ack", data={"csrf": csrf}, headers={"Accept": "application/json"})
    assert took.status == 200 and (await took.json())["acknowledged_by"] == username
    again = await app_client.post(f"/alerts/{created['id']}/ack", data={"csrf": csrf}, headers={"Accept": "application/json"})
    assert again.status == 409 and username in (await again.json())["error"]["message"]
    closed = await app_client.post(f"/alerts/{created['id']}/close", data={"csrf": csrf, "outcome": "Viatura enviada."},
                                   allow_redirects=False)
    assert closed.status == 303
    alert = (await root.ok("GET", f"/domains/{domain}/alerts"))["items"][0]
    assert (alert["status"], alert["outcome"], alert["person_id"]) == ("closed", "Viatura enviada.", person["id"])
    assert (await (await app_client.get("/alerts/open.json")).json())["items"] == []


async def test_alert_table_filters_and_spreadsheet(app_client: Any, root: ApiCaller, domain: str) -> None:
    await _person_and_alert(root, domain, "yellow")
    username, password = await _user(root, domain, "supervisor")
    await _login(app_client, username, password)
    bad = await app_client.get("/alerts?from=31/12/2026")
    assert bad.status == 400 and 'href="#f-from"' in await bad.text()
    english = await (await app_client.get("/alerts?lang=en")).text()
    assert "Alert monitoring" in english and "Latest alerts" in english and "Monitoramento" not in english
    none = await app_client.get("/alerts?level=red")
    assert "Nenhum alerta no período" in await none.text()
    sheet = await app_client.get("/alerts/export?format=xlsx&level=yellow")
    assert sheet.status == 200 and "attachment" in sheet.headers["Content-Disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(await sheet.read())).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "created_at", "level") and [r[2] for r in rows[1:]] == ["yellow"]
    assert rows[1][7] == "Sem localização"
    csv = await (await app_client.get("/alerts/export?format=csv&level=red")).text()
    assert csv.strip().splitlines() == ["\ufeffid,created_at,level,status,name,cpf,phone,location,acknowledged_by,"
                                        "acknowledged_at,seconds_to_ack,call"]


async def test_alert_pages_stay_in_their_domain(app_client: Any, root: ApiCaller, domain: str, other_domain: str) -> None:
    _, created = await _person_and_alert(root, other_domain)
    username, password = await _user(root, domain, "admin")
    await _login(app_client, username, password)
    assert (await app_client.get(f"/alerts/{created['id']}")).status == 404
    csrf = _csrf(await (await app_client.get("/alerts")).text())
    took = await app_client.post(f"/alerts/{created['id']}/ack", data={"csrf": csrf}, headers={"Accept": "application/json"})
    assert took.status == 404
    status, _ = await root.call("GET", f"/domains/{other_domain}/alerts/{created['id']}/notes")
    assert status == 200


async def test_alert_app_page_manifest_and_worker(app_client: Any, root: ApiCaller, domain: str) -> None:
    await root.ok("PUT", f"/domains/{domain}/alert-app", {"app_name": "Vigia Mulher", "show_logo": False,
                                                           "colors": {"primary": "#5a1f68", "bogus": "#000000"}})
    page = await app_client.get(f"/app/{domain}")
    html = await page.text()
    assert page.status == 200 and "<title>Vigia Mulher</title>" in html and "--primary:#5a1f68" in html
    assert 'class="logo"' not in html and f'/app/{domain}/manifest.webmanifest' in html
    manifest = await (await app_client.get(f"/app/{domain}/manifest.webmanifest")).json(content_type=None)
    assert manifest["name"] == "Vigia Mulher" and manifest["start_url"] == f"/app/{domain}"
    assert manifest["display"] == "standalone" and {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        got = await app_client.get(icon["src"])
        assert got.status == 200 and (await got.read())[:8] == b"\x89PNG\r\n\x1a\n"
    sw = await app_client.get(f"/app/{domain}/sw.js")
    assert sw.status == 200 and sw.headers["Service-Worker-Allowed"] == f"/app/{domain}"
    assert f'"/app/{domain}"' in await sw.text()
    assert (await app_client.get("/app/no-such-domain")).status == 404
    assert "monitoring_queue" not in html and "call_number" not in html  # routing is not shown before login


async def test_reports_page_roles_errors_and_downloads(app_client: Any, root: ApiCaller, domain: str) -> None:
    agent, password = await _user(root, domain, "agent")
    await _login(app_client, agent, password)
    assert (await app_client.get("/reports")).status == 403
    assert (await app_client.get("/reports/export?format=csv")).status == 403
    app_client.session.cookie_jar.clear()
    sup, password = await _user(root, domain, "supervisor")
    await _login(app_client, sup, password)
    page = await app_client.get("/reports")
    html = await page.text()
    assert page.status == 200 and "Quantitativo" in html and 'data-col="total"' in html
    assert re.search(r'data-col="total">0<', html)  # no call in this fresh domain
    bad = await app_client.get("/reports?from=2026-12-10&to=2026-12-01")
    assert bad.status == 422 and 'href="#r-to"' in await bad.text()
    bad = await app_client.get("/reports?service_level=0")
    assert bad.status == 422 and 'href="#r-service_level"' in await bad.text()
    for kind in ("quantitative", "summary", "detailed", "listing", "abandoned", "agent-activity"):
        for group in ("", "hour", "queue"):
            shown = await app_client.get(f"/reports?kind={kind}&group_by={group}&queues=a,b&agents=x")
            assert shown.status == 200, (kind, group, await shown.text())
    csv = await app_client.get("/reports/export?format=csv&kind=listing")
    body = (await csv.read()).decode("utf-8-sig")
    assert csv.status == 200 and body.startswith("report,listing\r\ndomain," + domain)
    sheet = await app_client.get("/reports/export?format=xlsx&kind=summary")
    book = openpyxl.load_workbook(io.BytesIO(await sheet.read()))
    assert book.active.cell(1, 2).value == "summary"


async def test_the_alert_tables_are_drawn_once_for_every_open_page(app_client: Any, root: ApiCaller, domain: str,
                                                                    services: Any) -> None:
    await _person_and_alert(root, domain, "yellow")
    username, password = await _user(root, domain, "agent")
    await _login(app_client, username, password)
    reads = 0
    real = services.alerts.list

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await real(*args, **kwargs)
    services.alerts.list = counted
    try:
        import asyncio
        pages = await asyncio.gather(*(app_client.get("/alerts/tables?level=yellow") for _ in range(20)))
        bodies = {await p.text() for p in pages}
    finally:
        services.alerts.list = real
    assert reads == 1 and len(bodies) == 1  # twenty pages, one query, one drawing
    body = bodies.pop()
    assert 'id="dash-body"' in body and 'id="latest-body"' in body and "Joana da Silva" in body
    assert re.search(r'id="latest-count">1 alertas', body)
    assert (await app_client.get("/alerts/tables?from=x")).status == 400
