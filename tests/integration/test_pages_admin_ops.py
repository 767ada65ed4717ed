"""Administration pages of issue 13 over HTTP (both databases): the queue form's
later settings (dispositions, transfer_fail, callbacks), monitoring groups,
campaigns (hours, CSV upload with per-row errors and nothing imported, actions,
blacklist), callbacks (create, filter, reschedule in the domain's zone, cancel)
and recordings (the monitoring groups' rule, the audio with byte ranges through
the page session). Every change goes through the services; a refused one shows
at its field and writes nothing; an agent gets 403; a POST without CSRF gets 403."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from tests.integration.test_pages_agent_admin import _as, _user
from tests.integration.test_web_pages import _login
from tests.support.api import ApiCaller

SP = ZoneInfo("America/Sao_Paulo")
QUEUE_FORM = {"strategy": "ringall", "wrapup_time": "5", "max_no_answer": "0", "ring_timeout": "15", "retry": "5",
              "call_timeout": "0", "reject_delay": "0", "noanswer_delay": "0", "busy_delay": "", "max_wait": "0",
              "max_len": "0", "join_empty": "on"}
PAGES = ("/admin/monitoring-groups", "/admin/campaigns", "/admin/campaigns/new", "/admin/callbacks",
         "/admin/recordings", "/admin/recordings/1/audio")


async def test_agent_gets_403_and_posts_need_csrf(app_client: Any, root: ApiCaller, domain: str) -> None:
    await _as(app_client, root, domain, "agent")
    for url in PAGES:
        resp = await app_client.get(url, allow_redirects=False)
        assert resp.status == 403, url
    await _as(app_client, root, domain, "admin")
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "q1"}, 201)
    for url, data in (("/admin/monitoring-groups/new", {"name": "G"}),
                      ("/admin/campaigns/new", {"name": "C", "queue": "q1"}),
                      ("/admin/callbacks/new", {"number": "11987654321"})):
        resp = await app_client.post(url, data=data, allow_redirects=False)
        assert resp.status == 403, url
    assert (await root.ok("GET", f"/domains/{domain}/monitoring-groups"))["total"] == 0
    assert (await root.ok("GET", f"/domains/{domain}/campaigns"))["total"] == 0
    menu = await (await app_client.get("/admin/queues")).text()
    for href in ("/admin/monitoring-groups", "/admin/campaigns", "/admin/callbacks", "/admin/recordings"):
        assert f'href="{href}"' in menu


async def test_queue_form_dispositions_transfer_fail_and_callbacks(app_client: Any, root: ApiCaller,
                                                                     domain: str) -> None:
    _, csrf = await _as(app_client, root, domain, "supervisor")
    form = await (await app_client.get("/admin/queues/new")).text()
    for help_text in ("qualifica o protocolo que atendeu", "o chamador volta para esta fila ou para o agente",
                      "pressiona para pedir que a central ligue de volta"):
        assert help_text in form
    bad = await app_client.post("/admin/queues/new", data={
        **QUEUE_FORM, "csrf": csrf, "name": "vendas", "dispositions": "Venda\nSem interesse", "transfer_fail": "agent",
        "callback_key": "55", "callback_retries": "2", "callback_retry_delay": "120", "callback_expiry": "3600"})
    assert bad.status == 400 and 'id="e-callback_key"' in await bad.text()
    assert (await root.ok("GET", f"/domains/{domain}/queues"))["total"] == 0  # nothing half-written
    ok = await app_client.post("/admin/queues/new", data={
        **QUEUE_FORM, "csrf": csrf, "name": "vendas", "dispositions": "Venda\n Sem interesse \n\nVenda\nRetornar",
        "transfer_fail": "agent", "callback_key": "#", "callback_retries": "3", "callback_retry_delay": "60",
        "callback_expiry": "1800"}, allow_redirects=False)
    assert ok.status == 303, await ok.text()
    q = await root.ok("GET", f"/domains/{domain}/queues/vendas")
    assert q["dispositions"] == ["Venda", "Sem interesse", "Retornar"]
    assert (q["transfer_fail"], q["callback_key"], q["callback_retries"], q["callback_retry_delay"],
            q["callback_expiry"]) == ("agent", "#", 3, 60, 1800)
    edit = await (await app_client.get("/admin/queues/vendas")).text()
    assert "Venda\nSem interesse\nRetornar</textarea>" in edit
    assert re.search(r'<option value="agent"\s+selected>', edit)
    # clearing the callback key and the list; a form without the new fields keeps them
    ok = await app_client.post("/admin/queues/vendas", data={
        **QUEUE_FORM, "csrf": csrf, "dispositions": "Venda", "transfer_fail": "queue", "callback_key": "",
        "callback_retries": "3", "callback_retry_delay": "60", "callback_expiry": "1800"}, allow_redirects=False)
    assert ok.status == 303
    q = await root.ok("GET", f"/domains/{domain}/queues/vendas")
    assert (q["dispositions"], q["transfer_fail"], q["callback_key"]) == (["Venda"], "queue", None)
    ok = await app_client.post("/admin/queues/vendas", data={**QUEUE_FORM, "csrf": csrf}, allow_redirects=False)
    assert ok.status == 303
    assert (await root.ok("GET", f"/domains/{domain}/queues/vendas"))["dispositions"] == ["Venda"]
    # the monitoring group is chosen among the domain's groups
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "Grupo Vendas", "queues": []}, 201)
    form = await (await app_client.get("/admin/queues/vendas")).text()
    assert '<option value="Grupo Vendas"' in form
    ok = await app_client.post("/admin/queues/vendas", data={**QUEUE_FORM, "csrf": csrf,
                                                              "monitoring_group": "Grupo Vendas"}, allow_redirects=False)
    assert ok.status == 303
    assert (await root.ok("GET", f"/domains/{domain}/monitoring-groups/Grupo Vendas"))["queues"] == ["vendas"]


async def test_monitoring_groups_page(app_client: Any, root: ApiCaller, domain: str) -> None:
    for q in ("q1", "q2", "q3"):
        await root.ok("POST", f"/domains/{domain}/queues", {"name": q}, 201)
    sup1, _ = await _user(root, domain, "supervisor")
    sup2, _ = await _user(root, domain, "supervisor")
    _, csrf = await _as(app_client, root, domain, "admin")
    created = await app_client.post("/admin/monitoring-groups/new", data=[
        ("csrf", csrf), ("name", "Grupo Norte"), ("queues", "q1"), ("queues", "q2"), ("members", sup1)],
        allow_redirects=False)
    assert created.status == 303, await created.text()
    g = await root.ok("GET", f"/domains/{domain}/monitoring-groups/Grupo Norte")
    assert (g["queues"], g["members"]) == (["q1", "q2"], [sup1])
    # a queue of another group: 409 at the field, nothing written (neither the group nor its members)
    refused = await app_client.post("/admin/monitoring-groups/new", data=[
        ("csrf", csrf), ("name", "Grupo Sul"), ("queues", "q2"), ("members", sup2)])
    text = await refused.text()
    assert refused.status == 409 and 'id="e-queues"' in text and "Grupo Norte" in text
    assert (await root.ok("GET", f"/domains/{domain}/monitoring-groups"))["total"] == 1
    assert (await root.ok("GET", f"/domains/{domain}/users/{sup2}"))["monitoring_groups"] == []
    stray = await app_client.post("/admin/monitoring-groups/new", data=[
        ("csrf", csrf), ("name", "Grupo Sul"), ("queues", "q3"), ("members", "nobody")])
    assert stray.status == 422 and 'id="e-members"' in await stray.text()
    assert (await root.ok("GET", f"/domains/{domain}/monitoring-groups"))["total"] == 1
    # edit: rename, other queues, other members
    page = await (await app_client.get("/admin/monitoring-groups/Grupo%20Norte")).text()
    assert 'value="q1" checked' in page and f'value="{sup1}" checked' in page
    edited = await app_client.post("/admin/monitoring-groups/Grupo%20Norte", data=[
        ("csrf", csrf), ("name", "Grupo Leste"), ("queues", "q3"), ("members", sup2)], allow_redirects=False)
    assert edited.status == 303, await edited.text()
    g = await root.ok("GET", f"/domains/{domain}/monitoring-groups/Grupo Leste")
    assert (g["queues"], g["members"]) == (["q3"], [sup2])
    assert (await root.ok("GET", f"/domains/{domain}/users/{sup1}"))["monitoring_groups"] == []
    assert (await root.ok("GET", f"/domains/{domain}/queues/q3"))["monitoring_group"] == "Grupo Leste"
    listing = await (await app_client.get("/admin/monitoring-groups")).text()
    assert 'data-group="Grupo Leste"' in listing
    deleted = await app_client.post("/admin/monitoring-groups/Grupo%20Leste/delete", data={"csrf": csrf},
                                    allow_redirects=False)
    assert deleted.status == 303
    assert (await root.ok("GET", f"/domains/{domain}/monitoring-groups"))["total"] == 0
    assert (await root.ok("GET", f"/domains/{domain}/queues/q3"))["monitoring_group"] is None
    # a supervisor reads the page, changes nothing
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "G2", "queues": ["q1"]}, 201)
    _, csrf = await _as(app_client, root, domain, "supervisor")
    page = await (await app_client.get("/admin/monitoring-groups")).text()
    assert 'data-group="G2"' in page and 'action="/admin/monitoring-groups/new"' not in page
    resp = await app_client.post("/admin/monitoring-groups/G2/delete", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 403
    assert (await root.ok("GET", f"/domains/{domain}/monitoring-groups"))["total"] == 1


def _campaign_form(csrf: str, **extra: str) -> dict[str, str]:
    return {"csrf": csrf, "name": "Cobrança", "queue": "q1", "timezone": "America/Sao_Paulo", "ratio": "1,5",
            "max_attempts": "3", "retry_interval": "600", "hours_mon": "08:00-12:00, 13:00-18:00",
            "hours_tue": "9:00-17:00", "hours_sat": "", **extra}


async def test_campaigns_page(app_client: Any, root: ApiCaller, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "q1"}, 201)
    _, csrf = await _as(app_client, root, domain, "supervisor")
    bad = await app_client.post("/admin/campaigns/new", data=_campaign_form(csrf, hours_wed="10:00-09:00"))
    text = await bad.text()
    assert bad.status == 400 and 'id="e-hours_wed"' in text and 'href="#f-hours_wed"' in text
    assert 'id="e-hours_wed">Uma janela termina depois de começar (10:00-09:00).</p>' in text  # pt-BR
    bad = await app_client.post("/admin/campaigns/new", data=_campaign_form(csrf, hours_thu="manhã"))
    assert bad.status == 400 and 'id="e-hours_thu"' in await bad.text()
    bad = await app_client.post("/admin/campaigns/new", data=_campaign_form(csrf, ratio="5"))
    assert bad.status == 400 and 'id="e-ratio"' in await bad.text()
    bad = await app_client.post("/admin/campaigns/new", data=_campaign_form(csrf, queue="nope"))
    assert bad.status == 422 and 'id="e-queue"' in await bad.text()
    assert (await root.ok("GET", f"/domains/{domain}/campaigns"))["total"] == 0
    ok = await app_client.post("/admin/campaigns/new", data=_campaign_form(csrf), allow_redirects=False)
    assert ok.status == 303, await ok.text()
    (c,) = (await root.ok("GET", f"/domains/{domain}/campaigns"))["items"]
    assert (c["name"], c["ratio"], c["status"]) == ("Cobrança", 1.5, "draft")
    assert c["calling_hours"] == {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "tue": [["09:00", "17:00"]]}
    cid = c["id"]
    edit = await app_client.post(f"/admin/campaigns/{cid}", data=_campaign_form(csrf, ratio="2", hours_tue=""),
                                 allow_redirects=False)
    assert edit.status == 303
    c = await root.ok("GET", f"/domains/{domain}/campaigns/{cid}")
    assert (c["ratio"], sorted(c["calling_hours"])) == (2.0, ["mon"])

    # CSV: every bad row listed (row, field, message); nothing imported
    csv_bad = "numero;nome;plano\n11987654321;Ana;ouro\n123;Bruno;prata\n11987654321;Ana de novo;ouro\n;Sem;x\n"
    resp = await app_client.post(f"/admin/campaigns/{cid}/contacts", data={"csrf": csrf, "file": _file(csv_bad)})
    text = await resp.text()
    assert resp.status == 422
    rows = re.findall(r'<tr data-row="(\d+)"><td>\d+</td><td><code>(\w+)</code></td><td>([^<]+)</td>', text)
    assert [(r, f) for r, f, _m in rows] == [("3", "number"), ("4", "number"), ("5", "number")], rows
    assert "already on row 2" in rows[1][2]
    assert (await root.ok("GET", f"/domains/{domain}/campaigns/{cid}"))["contacts"] == 0
    resp = await app_client.post(f"/admin/campaigns/{cid}/contacts", data={"csrf": csrf, "file": _file("")})
    assert resp.status == 400 and 'id="e-file"' in await resp.text()
    csv_ok = "numero,nome,plano\n11987654321,Ana,ouro\n1133334444,Bruno,prata\n"
    resp = await app_client.post(f"/admin/campaigns/{cid}/contacts", data={"csrf": csrf, "file": _file(csv_ok)})
    text = await resp.text()
    assert resp.status == 200 and 'id="import-ok"' in text and 'data-contact="11987654321"' in text
    assert (await root.ok("GET", f"/domains/{domain}/campaigns/{cid}"))["contacts"] == 2

    # blacklist
    resp = await app_client.post(f"/admin/campaigns/{cid}/blacklist/add", data={"csrf": csrf, "number": "12"})
    assert resp.status == 400 and 'id="e-b-number"' in await resp.text()
    resp = await app_client.post(f"/admin/campaigns/{cid}/blacklist/add",
                                 data={"csrf": csrf, "number": "11987654321", "reason": "pediu"}, allow_redirects=False)
    assert resp.status == 303
    blocked = await root.ok("GET", f"/domains/{domain}/campaigns/{cid}/blacklist")
    assert [b["number"] for b in blocked["items"]] == ["11987654321"]
    page = await (await app_client.get(f"/admin/campaigns/{cid}")).text()
    assert 'data-blocked="11987654321"' in page
    resp = await app_client.post(f"/admin/campaigns/{cid}/blacklist/remove",
                                 data={"csrf": csrf, "number": "11987654321"}, allow_redirects=False)
    assert resp.status == 303
    assert (await root.ok("GET", f"/domains/{domain}/campaigns/{cid}/blacklist"))["total"] == 0

    # actions: start → pause → resume → stop; a refused one is shown, the state unchanged
    listing = await (await app_client.get("/admin/campaigns")).text()
    assert f'action="/admin/campaigns/{cid}/start"' in listing and f'action="/admin/campaigns/{cid}/pause"' not in listing
    for action, status in (("start", "running"), ("pause", "paused"), ("resume", "running"), ("stop", "stopped")):
        resp = await app_client.post(f"/admin/campaigns/{cid}/{action}", data={"csrf": csrf}, allow_redirects=False)
        assert resp.status == 303, action
        assert (await root.ok("GET", f"/domains/{domain}/campaigns/{cid}"))["status"] == status
    resp = await app_client.post(f"/admin/campaigns/{cid}/pause", data={"csrf": csrf})
    assert resp.status == 409 and "não permite esta ação no estado atual" in await resp.text()
    assert (await root.ok("GET", f"/domains/{domain}/campaigns/{cid}"))["status"] == "stopped"
    resp = await app_client.get("/admin/campaigns/999999")
    assert resp.status == 404


def _file(text: str) -> Any:
    """A file-like value: aiohttp posts it as a multipart file field."""
    import io
    buf = io.BytesIO(text.encode("utf-8"))
    buf.name = "contatos.csv"
    return buf


async def test_callbacks_page(app_client: Any, root: ApiCaller, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "q1"}, 201)
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "q2"}, 201)
    _, csrf = await _as(app_client, root, domain, "supervisor")
    when = (datetime.now(SP) + timedelta(days=2)).replace(hour=14, minute=30, second=0, microsecond=0)
    bad = await app_client.post("/admin/callbacks/new", data={
        "csrf": csrf, "number": "00000000", "at": when.strftime("%Y-%m-%dT%H:%M"), "queue": "q1"})
    assert bad.status == 422 and 'id="e-number"' in await bad.text()
    bad = await app_client.post("/admin/callbacks/new", data={"csrf": csrf, "number": "11987654321", "at": "amanhã",
                                                               "queue": "q1"})
    assert bad.status == 400 and 'id="e-at"' in await bad.text()
    bad = await app_client.post("/admin/callbacks/new", data={
        "csrf": csrf, "number": "11987654321", "at": when.strftime("%Y-%m-%dT%H:%M")})
    assert bad.status == 422 and 'id="e-queue"' in await bad.text()
    assert (await root.ok("GET", f"/domains/{domain}/callbacks"))["total"] == 0
    ok = await app_client.post("/admin/callbacks/new", data={
        "csrf": csrf, "number": "11987654321", "at": when.strftime("%Y-%m-%dT%H:%M"), "queue": "q1",
        "note": "cliente pediu à tarde", "offline_to_queue": "on"}, allow_redirects=False)
    assert ok.status == 303, await ok.text()
    later = when + timedelta(days=3)
    await root.ok("POST", f"/domains/{domain}/callbacks", {"number": "1133334444", "at": later.isoformat(),
                                                           "queue": "q2"}, 201)
    (first, second) = (await root.ok("GET", f"/domains/{domain}/callbacks"))["items"]
    # the time typed in São Paulo's wall clock is that moment
    assert datetime.fromisoformat(first["at"]) == when
    page = await (await app_client.get("/admin/callbacks")).text()
    assert when.strftime("%d/%m/%Y %H:%M") in page and f'data-callback="{second["id"]}"' in page
    filtered = await (await app_client.get("/admin/callbacks?queue=q2")).text()
    assert f'data-callback="{second["id"]}"' in filtered and f'data-callback="{first["id"]}"' not in filtered
    day = when.date().isoformat()
    filtered = await (await app_client.get(f"/admin/callbacks?from={day}&to={day}")).text()
    assert f'data-callback="{first["id"]}"' in filtered and f'data-callback="{second["id"]}"' not in filtered
    bad = await app_client.get("/admin/callbacks?from=ontem")
    assert 'id="e-q-from"' in await bad.text()
    # the same filters on the API the page calls
    api = f"/domains/{domain}/callbacks"
    assert [c["id"] for c in (await root.ok("GET", f"{api}?queue=q2"))["items"]] == [second["id"]]
    start = datetime.combine(when.date(), datetime.min.time(), SP)
    window = f"from={quote(start.isoformat())}&to={quote((start + timedelta(days=1)).isoformat())}"
    assert [c["id"] for c in (await root.ok("GET", f"{api}?{window}"))["items"]] == [first["id"]]
    assert (await root.ok("GET", f"{api}?kind=in_queue"))["total"] == 0
    assert (await root.ok("GET", f"{api}?kind=scheduled&agent=nobody"))["total"] == 0
    status, body = await root.call("GET", f"{api}?from=yesterday")
    assert status == 422 and "from" in str(body), body
    # reschedule in the domain's zone; the past is refused at the row and changes nothing
    moved = when.replace(hour=9, minute=15)
    resp = await app_client.post(f"/admin/callbacks/{first['id']}/reschedule",
                                 data={"csrf": csrf, "at": moved.strftime("%Y-%m-%dT%H:%M")}, allow_redirects=False)
    assert resp.status == 303
    got = await root.ok("GET", f"/domains/{domain}/callbacks/{first['id']}")
    assert datetime.fromisoformat(got["at"]) == moved
    resp = await app_client.post(f"/admin/callbacks/{first['id']}/reschedule",
                                 data={"csrf": csrf, "at": "2020-01-01T10:00"})
    assert resp.status == 422 and "A data e a hora já passaram." in await resp.text()  # pt-BR, not the API's
    assert datetime.fromisoformat((await root.ok("GET", f"/domains/{domain}/callbacks/{first['id']}"))["at"]) == moved
    resp = await app_client.post(f"/admin/callbacks/{first['id']}/cancel", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert (await root.ok("GET", f"/domains/{domain}/callbacks/{first['id']}"))["status"] == "cancelled"
    resp = await app_client.post(f"/admin/callbacks/{first['id']}/cancel", data={"csrf": csrf})
    assert resp.status == 409 and f"#{first['id']}" in await resp.text()
    cancelled = await (await app_client.get("/admin/callbacks?status=cancelled")).text()
    assert f'data-callback="{first["id"]}"' in cancelled and f'data-callback="{second["id"]}"' not in cancelled


async def test_recordings_page_follows_monitoring_groups(app_client: Any, root: ApiCaller, domain: str,
                                                          services: Any, settings: Any) -> None:
    from sqlalchemy import select

    from ccplane.features.domains.models import Domain
    from ccplane.features.recordings.models import Recording
    for q in ("rin", "rout"):
        await root.ok("POST", f"/domains/{domain}/queues", {"name": q}, 201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "Dentro", "queues": ["rin"]}, 201)
    store = Path(settings.recordings.dir)
    data = b"RIFF" + bytes(range(256)) * 40
    now = datetime.now(timezone.utc)
    ids = {}
    async with services.sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == domain))
        for q in ("rin", "rout"):
            path = store / str(domain_id) / f"{domain}-{q}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            row = Recording(domain_id=domain_id, file=path.name, kind="attendance", call_id=f"{domain}-{q}",
                            queue=q, agent="ana", protocol=f"P{q}", status="ready", started_at=now,
                            ended_at=now, size=len(data), duration=1.5)
            s.add(row)
            await s.flush()
            ids[q] = row.id
        await s.commit()
    sup, sup_pass = await _user(root, domain, "supervisor")
    await root.ok("PATCH", f"/domains/{domain}/users/{sup}", {"monitoring_groups": ["Dentro"]})
    outsider, out_pass = await _user(root, domain, "supervisor")

    assert (await _login(app_client, sup, sup_pass)).status == 302
    page = await (await app_client.get("/admin/recordings")).text()
    assert f'data-recording="{ids["rin"]}"' in page and f'data-recording="{ids["rout"]}"' not in page
    assert f'src="/admin/recordings/{ids["rin"]}/audio"' in page
    resp = await app_client.get(f"/admin/recordings/{ids['rin']}/audio")
    assert resp.status == 200 and await resp.read() == data and resp.headers["Accept-Ranges"] == "bytes"
    resp = await app_client.get(f"/admin/recordings/{ids['rin']}/audio", headers={"Range": "bytes=100-199"})
    assert resp.status == 206 and await resp.read() == data[100:200]
    assert resp.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    resp = await app_client.get(f"/admin/recordings/{ids['rin']}/audio", headers={"Range": "bytes=0-1,4-5"})
    assert resp.status == 416 and resp.headers["Content-Range"] == f"bytes */{len(data)}"
    resp = await app_client.get(f"/admin/recordings/{ids['rin']}/audio?download=1")
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert (await app_client.get(f"/admin/recordings/{ids['rout']}/audio")).status == 404
    filtered = await (await app_client.get("/admin/recordings?protocol=Pnone")).text()
    assert 'id="no-recordings"' in filtered
    assert 'id="e-q-from"' in await (await app_client.get("/admin/recordings?from=x")).text()

    assert (await _login(app_client, outsider, out_pass)).status == 302  # no group: nothing
    page = await (await app_client.get("/admin/recordings")).text()
    assert 'id="no-recordings"' in page and "data-recording=" not in page
    assert (await app_client.get(f"/admin/recordings/{ids['rin']}/audio")).status == 404

    await _as(app_client, root, domain, "admin")  # an administrator: every recording
    page = await (await app_client.get("/admin/recordings")).text()
    assert f'data-recording="{ids["rin"]}"' in page and f'data-recording="{ids["rout"]}"' in page
    page = await (await app_client.get("/admin/recordings?queue=rout")).text()
    assert f'data-recording="{ids["rin"]}"' not in page and f'data-recording="{ids["rout"]}"' in page


async def test_pages_in_english_from_the_catalogue(app_client: Any, root: ApiCaller, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "q1"}, 201)
    await _as(app_client, root, domain, "admin")
    for url, pt, en in (("/admin/monitoring-groups", "Filas cobertas", "Queues covered"),
                        ("/admin/campaigns/new", "Horário de discagem", "Calling hours"),
                        ("/admin/callbacks", "Agendar retorno", "Schedule a callback"),
                        ("/admin/recordings", "Nenhuma gravação com estes filtros.", "No recording with these filters."),
                        ("/admin/queues/q1", "Tecla de retorno", "Callback key")):
        assert pt in await (await app_client.get(url)).text(), url
        english = await (await app_client.get(url + "?lang=en")).text()
        assert en in english and pt not in english, url


async def test_another_domains_objects_are_404(app_client: Any, root: ApiCaller, domain: str,
                                               other_domain: str) -> None:
    o = other_domain
    await root.ok("POST", f"/domains/{o}/queues", {"name": "q1"}, 201)
    await root.ok("POST", f"/domains/{o}/monitoring-groups", {"name": "Alheio", "queues": ["q1"]}, 201)
    c = await root.ok("POST", f"/domains/{o}/campaigns", {"name": "Alheia", "queue": "q1"}, 201)
    at = (datetime.now(SP) + timedelta(days=1)).isoformat()
    cb = await root.ok("POST", f"/domains/{o}/callbacks", {"number": "11987654321", "queue": "q1", "at": at}, 201)
    _, csrf = await _as(app_client, root, domain, "admin")
    assert (await app_client.get("/admin/monitoring-groups/Alheio")).status == 404
    assert (await app_client.post("/admin/monitoring-groups/Alheio/delete", data={"csrf": csrf})).status == 404
    assert (await app_client.get(f"/admin/campaigns/{c['id']}")).status == 404
    assert (await app_client.post(f"/admin/campaigns/{c['id']}/start", data={"csrf": csrf})).status == 404
    assert (await app_client.post(f"/admin/campaigns/{c['id']}/contacts",
                                  data={"csrf": csrf, "file": _file("numero\n11987654321\n")})).status == 404
    assert (await app_client.post(f"/admin/callbacks/{cb['id']}/cancel", data={"csrf": csrf})).status == 404
    soon = (datetime.now(SP) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert (await app_client.post(f"/admin/callbacks/{cb['id']}/reschedule",
                                  data={"csrf": csrf, "at": soon})).status == 404
    assert "data-callback" not in await (await app_client.get("/admin/callbacks")).text()
    assert (await root.ok("GET", f"/domains/{o}/campaigns/{c['id']}"))["status"] == "draft"
    assert (await root.ok("GET", f"/domains/{o}/callbacks/{cb['id']}"))["status"] == "scheduled"
    assert (await root.ok("GET", f"/domains/{o}/monitoring-groups"))["total"] == 1
