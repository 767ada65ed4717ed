"""Pages polish over HTTP (both databases): names with URL-reserved characters in the
admin pages' links and routes; the callbacks, recordings and campaign pages in the
domain's own time zone; the API's refusals shown in pt-BR (English from the
catalogue) at the field the API names; uploads over the limit answered with the
page naming the limit; the supervisor's thresholds form covering their groups' queues."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from aiohttp import FormData
from yarl import URL

from tests.integration.test_pages_agent_admin import _as, _user
from tests.integration.test_web_pages import _login
from tests.support.api import ApiCaller

TOKYO = ZoneInfo("Asia/Tokyo")  # UTC+9 all year: twelve hours from São Paulo, days that differ
GROUP = "Norte/Sul & Centro?#%"


async def test_group_names_with_reserved_characters_in_links_and_routes(app_client: Any, root: ApiCaller,
                                                                        domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "q1"}, 201)
    sup, _pw = await _user(root, domain, "supervisor")
    _, csrf = await _as(app_client, root, domain, "admin")
    created = await app_client.post("/admin/monitoring-groups/new",
                                    data={"csrf": csrf, "name": GROUP, "queues": "q1", "members": sup},
                                    allow_redirects=False)
    assert created.status == 303, await created.text()
    assert URL(created.headers["Location"]).query["saved"] == GROUP
    listing = await (await app_client.get("/admin/monitoring-groups")).text()
    segment = "Norte%2FSul%20%26%20Centro%3F%23%25"  # every reserved character quoted, "/" too
    assert f'href="/admin/monitoring-groups/{segment}"' in listing
    assert f'action="/admin/monitoring-groups/{segment}/delete"' in listing
    edit = await app_client.get(f"/admin/monitoring-groups/{segment}")
    page = await edit.text()
    assert edit.status == 200 and 'value="Norte/Sul &amp; Centro?#%"' in page
    assert f'action="/admin/monitoring-groups/{segment}"' in page
    renamed = await app_client.post(f"/admin/monitoring-groups/{segment}",
                                    data={"csrf": csrf, "name": "Leste/Oeste", "queues": "q1", "members": sup},
                                    allow_redirects=False)
    assert renamed.status == 303, await renamed.text()
    group = await root.ok("GET", f"/domains/{domain}/monitoring-groups/{quote('Leste/Oeste', safe='')}")
    assert group["queues"] == ["q1"] and group["members"] == [sup]
    assert (await root.ok("GET", f"/domains/{domain}/users/{sup}"))["monitoring_groups"] == ["Leste/Oeste"]
    # the panel's group filter and its TV link keep the name whole
    panel = await (await app_client.get("/supervisor?group=" + quote("Leste/Oeste", safe=""))).text()
    assert 'href="/supervisor?kiosk=1&amp;group=Leste%2FOeste"' in panel
    deleted = await app_client.post("/admin/monitoring-groups/Leste%2FOeste/delete", data={"csrf": csrf},
                                    allow_redirects=False)
    assert deleted.status == 303
    assert (await root.ok("GET", f"/domains/{domain}/monitoring-groups"))["total"] == 0
    # a user name with "@" and "." (the API allows them) in the team page's forms
    await root.ok("POST", f"/domains/{domain}/users", {"username": "ana.lima@sac", "name": "Ana Lima",
                                                       "role": "agent", "password": "s3cret-pass"}, 201)
    team = await (await app_client.get("/admin/users")).text()
    assert 'action="/admin/users/ana.lima%40sac"' in team
    changed = await app_client.post("/admin/users/ana.lima%40sac", data={"csrf": csrf, "active": "0"},
                                    allow_redirects=False)
    assert changed.status == 303 and URL(changed.headers["Location"]).query["saved"] == "ana.lima@sac"
    assert (await root.ok("GET", f"/domains/{domain}/users/ana.lima@sac"))["active"] is False
    # signed out, the login keeps the quoted path to come back to
    app_client.session.cookie_jar.clear()
    resp = await app_client.get(f"/admin/monitoring-groups/{segment}", allow_redirects=False)
    nxt = URL(resp.headers["Location"]).query["next"]
    assert nxt.startswith("/admin/monitoring-groups/") and unquote(nxt.rsplit("/", 1)[1]) == GROUP


async def _recording(services: Any, settings: Any, domain: str, started: datetime) -> int:
    from sqlalchemy import select

    from ccplane.features.domains.models import Domain
    from ccplane.features.recordings.models import Recording
    async with services.sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == domain))
        path = Path(settings.recordings.dir) / str(domain_id) / f"{domain}-tz.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF" + bytes(200))
        row = Recording(domain_id=domain_id, file=path.name, kind="attendance", call_id=f"{domain}-tz", queue="q1",
                        agent="ana", protocol="PTZ", status="ready", started_at=started, ended_at=started,
                        size=204, duration=1.0)
        s.add(row)
        await s.commit()
        return int(row.id)


async def test_callbacks_recordings_and_campaigns_in_the_domains_zone(app_client: Any, root: ApiCaller, domain: str,
                                                                      services: Any, settings: Any) -> None:
    await root.ok("PATCH", f"/domains/{domain}", {"timezone": "Asia/Tokyo"})
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "q1"}, 201)
    _, csrf = await _as(app_client, root, domain, "supervisor")
    # a callback typed on Tokyo's wall clock is that moment
    ok = await app_client.post("/admin/callbacks/new", data={"csrf": csrf, "number": "11987654321",
                                                             "at": "2027-01-10T10:00", "queue": "q1"},
                               allow_redirects=False)
    assert ok.status == 303, await ok.text()
    (typed,) = (await root.ok("GET", f"/domains/{domain}/callbacks"))["items"]
    assert datetime.fromisoformat(typed["at"]) == datetime(2027, 1, 10, 1, 0, tzinfo=timezone.utc)
    # 20:00 UTC is the 10th in São Paulo but the 11th in Tokyo
    late = await root.ok("POST", f"/domains/{domain}/callbacks",
                         {"number": "1133334444", "at": "2027-01-10T20:00:00Z", "queue": "q1"}, 201)
    page = await (await app_client.get("/admin/callbacks")).text()
    assert "Asia/Tokyo" in page and "America/Sao_Paulo" not in page
    assert "10/01/2027 10:00" in page and "11/01/2027 05:00" in page
    assert 'value="2027-01-10T10:00"' in page  # the reschedule picker, on the same clock
    day = await (await app_client.get("/admin/callbacks?from=2027-01-10&to=2027-01-10")).text()
    assert f'data-callback="{typed["id"]}"' in day and f'data-callback="{late["id"]}"' not in day
    moved = await app_client.post(f"/admin/callbacks/{late['id']}/reschedule",
                                  data={"csrf": csrf, "at": "2027-01-12T08:30"}, allow_redirects=False)
    assert moved.status == 303
    got = await root.ok("GET", f"/domains/{domain}/callbacks/{late['id']}")
    assert datetime.fromisoformat(got["at"]) == datetime(2027, 1, 11, 23, 30, tzinfo=timezone.utc)
    # a recording at 16:30 UTC on 30/11: 01:30 of 01/12 in Tokyo (13:30 of 30/11 in São Paulo)
    rid = await _recording(services, settings, domain, datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc))
    _, csrf = await _as(app_client, root, domain, "admin")
    page = await (await app_client.get("/admin/recordings")).text()
    assert "01/12/2026 01:30:00" in page and "Asia/Tokyo" in page
    first = await (await app_client.get("/admin/recordings?from=2026-12-01&to=2026-12-01")).text()
    assert f'data-recording="{rid}"' in first
    before = await (await app_client.get("/admin/recordings?from=2026-11-30&to=2026-11-30")).text()
    assert f'data-recording="{rid}"' not in before
    # a new campaign calls in the domain's zone unless told otherwise
    form = await (await app_client.get("/admin/campaigns/new")).text()
    assert re.search(r'<option value="Asia/Tokyo"\s+selected>', form)


async def test_api_refusals_in_pt_br_at_their_field_and_english_from_the_catalogue(
        app_client: Any, root: ApiCaller, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "q1"}, 201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "Norte", "queues": ["q1"]}, 201)
    _, csrf = await _as(app_client, root, domain, "admin")
    dup = await app_client.post("/admin/monitoring-groups/new", data={"csrf": csrf, "name": "Norte"})
    text = await dup.text()
    assert dup.status == 409
    assert '<p class="error" id="e-name">Já existe um grupo de monitoramento com o nome Norte.</p>' in text
    assert "already exists" not in text
    taken = await app_client.post("/admin/monitoring-groups/new", data={"csrf": csrf, "name": "Sul", "queues": "q1"})
    assert taken.status == 409
    assert "A fila q1 já pertence ao grupo de monitoramento Norte." in await taken.text()
    bad = await app_client.post("/admin/queues/new", data={"csrf": csrf, "name": "Vendas!", "strategy": "ringall",
                                                           "wrapup_time": "5", "max_no_answer": "0",
                                                           "ring_timeout": "15", "retry": "0", "call_timeout": "0",
                                                           "reject_delay": "0", "noanswer_delay": "0",
                                                           "max_wait": "0", "max_len": "0"})
    text = await bad.text()
    assert bad.status == 400
    assert ('id="e-name">Use letras minúsculas, números e hífen, começando por letra ou número.</p>' in text), text
    assert "String should match" not in text and "should be" not in text
    user = await app_client.post("/admin/users/new", data={"csrf": csrf, "username": "ab", "name": "X",
                                                           "role": "agent", "password": "s3cret-pass"})
    assert user.status == 400 and "Use ao menos 3 caracteres." in await user.text()
    # the IVR editor's JSON: the message in pt-BR, the node's path as the API names it
    resp = await app_client.post("/admin/ivrs/menu1", json={"root": {"type": "menu", "prompt": "beep",
                                                                    "options": {"1": {"type": "queue",
                                                                                      "target": "nada"}}}},
                                 headers={"X-CSRF-Token": csrf})
    body = await resp.json()
    assert resp.status == 422, body
    assert body["error"]["message"] == "Não há fila nada neste domínio." and "options" in body["error"]["field"]
    # the same refusal in English from the catalogue
    app_client.session.cookie_jar.update_cookies({"ccplane_lang": "en"})
    dup = await app_client.post("/admin/monitoring-groups/new", data={"csrf": csrf, "name": "Norte"})
    assert "There is already a monitoring group named Norte." in await dup.text()
    resp = await app_client.post("/admin/ivrs/menu1", json={"root": {"type": "menu", "prompt": "beep",
                                                                    "options": {"1": {"type": "queue",
                                                                                      "target": "nada"}}}},
                                 headers={"X-CSRF-Token": csrf})
    assert (await resp.json())["error"]["message"] == "There is no queue nada in this domain."
    assert (await root.ok("GET", f"/domains/{domain}/monitoring-groups"))["total"] == 1  # nothing written


def _multipart(csrf: str, part: str, data: bytes, filename: str, **fields: str) -> FormData:
    form = FormData()
    form.add_field("csrf", csrf)  # first: the page checks it before the file is read
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field(part, data, filename=filename, content_type="application/octet-stream")
    return form


async def test_uploads_over_the_limit_get_the_page_naming_the_limit(app_client: Any, root: ApiCaller,
                                                                    domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "q1"}, 201)
    campaign = await root.ok("POST", f"/domains/{domain}/campaigns", {"name": "C", "queue": "q1"}, 201)
    _, csrf = await _as(app_client, root, domain, "supervisor")
    url = f"/admin/campaigns/{campaign['id']}/contacts"
    big = b"numero,nome\n" + b"11987654321,Fulano de Tal\n" * (5 * 1024 * 1024 // 26)  # 5 MB: over 4 MB
    resp = await app_client.post(url, data=_multipart(csrf, "file", big, "contatos.csv"))
    text = await resp.text()
    assert resp.status == 413 and "text/html" in resp.headers["Content-Type"]
    assert 'id="e-file">O arquivo passa do limite de 4 MB. Envie um arquivo menor.</p>' in text
    assert (await root.ok("GET", f"/domains/{domain}/campaigns/{campaign['id']}"))["contacts"] == 0
    # past the server's 1 MB form limit but under the CSV's 4 MB: read by the page (here: not UTF-8)
    latin = b"numero,nome\n" + "11987654321,Jo\u00e3o\n".encode("latin-1") * (1536 * 1024 // 17)
    resp = await app_client.post(url, data=_multipart(csrf, "file", latin, "contatos.csv"))
    assert resp.status == 400 and "O CSV precisa estar em UTF-8." in await resp.text()
    ok = await app_client.post(url, data=_multipart(csrf, "file", b"numero,nome\n11987654321,Ana\n", "c.csv"))
    assert ok.status == 200 and 'id="import-ok"' in await ok.text()
    resp = await app_client.post(url, data=_multipart("wrong", "file", b"numero\n11987654321\n", "c.csv"))
    assert resp.status == 403
    # a prompt over 20 MB (streamed to the service, which stops at the limit)
    resp = await app_client.post("/admin/prompts/new", data=_multipart(csrf, "file", b"\0" * (21 * 1024 * 1024),
                                                                       "grande.wav", name="grande"))
    text = await resp.text()
    assert resp.status == 413 and 'O arquivo passa do limite de 20 MB. Envie um arquivo menor.' in text
    assert await root.ok("GET", f"/domains/{domain}/prompts") == []
    # any other form over the server's body limit: the page's 413 names it
    resp = await app_client.post("/admin/queues/new", data={"csrf": csrf, "name": "x" * (2 * 1024 * 1024)})
    text = await resp.text()
    assert resp.status == 413 and "O arquivo passa do limite de 1 MB. Envie um arquivo menor." in text
    assert (await root.ok("GET", f"/domains/{domain}/queues"))["total"] == 1


async def test_supervisors_thresholds_form_covers_their_groups_queues(app_client: Any, root: ApiCaller,
                                                                     domain: str) -> None:
    for q in ("suporte", "vendas"):
        await root.ok("POST", f"/domains/{domain}/queues", {"name": q}, 201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "Suporte", "queues": ["suporte"]}, 201)
    await root.ok("PUT", f"/domains/{domain}/panel-thresholds",
                  {"items": [{"figure": "longest_wait", "yellow": 30, "red": 60}]})
    sup, sup_pass = await _user(root, domain, "supervisor")
    await root.ok("PATCH", f"/domains/{domain}/users/{sup}", {"monitoring_groups": ["Suporte"]})
    assert (await _login(app_client, sup, sup_pass)).status == 302
    page = await (await app_client.get("/supervisor")).text()
    assert 'id="t-suporte-waiting-yellow"' in page
    assert 'id="t--longest_wait-yellow"' not in page and 'id="t-vendas-waiting-yellow"' not in page
    assert 'id="thresholds-scope"' in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    resp = await app_client.post("/supervisor/thresholds", data={
        "csrf": csrf, "t-suporte-waiting-yellow": "2", "t-suporte-waiting-red": "4",
        "t--longest_wait-yellow": "1", "t--longest_wait-red": "2"}, allow_redirects=False)  # not theirs: ignored
    assert resp.status == 303
    items = (await root.ok("GET", f"/domains/{domain}/panel-thresholds"))["items"]
    assert sorted((i["queue"], i["figure"], i["yellow"], i["red"]) for i in items) == [
        ("", "longest_wait", 30, 60), ("suporte", "waiting", 2, 4)]
    # the tiles' markup is one macro: the panel and its TV view show the same five figures
    kiosk = await (await app_client.get("/supervisor?kiosk=1")).text()
    tiles = re.findall(r'<div class="tile" data-figure="(\w+)">', page)
    assert tiles == re.findall(r'<div class="tile" data-figure="(\w+)">', kiosk) == [
        "waiting", "longest_wait", "service_level", "in_call", "available"]
