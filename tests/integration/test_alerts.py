"""Issue 5 (partial) acceptance: the alert app API, alerts, live feed, calls into
the monitoring queue by priority, escalation, audit chain, exports."""
from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Any, TypeVar

import openpyxl
from aiohttp import WSMsgType
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from ccplane.features.alerts.models import Alert, AlertAudit
from ccplane.settings import Settings
from tests.support.api import ApiCaller, assert_error
from tests.support.telephony import Scene
from tests.support.waiting import eventually

CPF = "52998224725"
ALERT_CALL = re.compile(r"alert\d+-[0-9a-f]{8}-queue")
T = TypeVar("T")
PHONE = "11987654321"


async def person(scene: Scene, cpf: str = CPF, password: str = "app-password") -> dict[str, Any]:
    return await scene.root.ok("POST", f"/domains/{scene.domain}/monitored-persons",
                               {"name": "Joana da Silva", "cpf": cpf, "phone": PHONE, "password": password}, 201)


async def app_login(scene: Scene, cpf: str = CPF, password: str = "app-password") -> ApiCaller:
    token = await scene.root.ok("POST", f"/app/{scene.domain}/login", {"cpf": cpf, "password": password})
    return ApiCaller(scene.root.client, token["access_token"])


async def feed_event(ws: Any, type_: str, timeout: float) -> dict[str, Any]:
    async def find() -> dict[str, Any]:
        while True:
            msg = await ws.receive()
            assert msg.type == WSMsgType.TEXT, msg
            event = msg.json()
            if event["type"] == type_:
                return event
    return await asyncio.wait_for(find(), timeout)


async def test_app_login_rules_and_token_revocation(scene: Scene) -> None:
    p = await person(scene)
    status, body = await scene.root.call("POST", f"/app/{scene.domain}/login",
                                         {"cpf": "529.982.247-25", "password": "app-password"})
    assert_error(status, body, 422, "cpf")
    assert "digits only" in body["error"]["message"]
    status, body = await scene.root.call("POST", f"/app/{scene.domain}/login", {"cpf": CPF, "password": "nope"})
    assert_error(status, body, 401)
    app = await app_login(scene)
    config = await app.ok("GET", f"/app/{scene.domain}/config")
    assert config["texts"]["red"]["message"] and config["app_name"]
    await scene.root.ok("PATCH", f"/domains/{scene.domain}/monitored-persons/{p['id']}", {"password": "new-password"})
    status, body = await app.call("GET", f"/app/{scene.domain}/config")
    assert_error(status, body, 401)
    status, body = await app.call("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None})
    assert_error(status, body, 401)
    # a team token is not an app token and vice versa
    status, body = await scene.root.call("GET", f"/app/{scene.domain}/config")
    assert_error(status, body, 401)


async def test_green_alert_is_stored_and_announced_at_once(scene: Scene, app_client: Any) -> None:
    await person(scene)
    app = await app_login(scene)
    ws = await app_client.ws_connect(f"/api/v1/domains/{scene.domain}/live?access_token={scene.root.token}")
    try:
        sent = time.monotonic()
        created = await app.ok("POST", f"/app/{scene.domain}/alerts",
                               {"level": "green", "location": {"lat": -23.55052, "lon": -46.633308, "accuracy": 12}},
                               201)
        event = await feed_event(ws, "alert.new", timeout=1)
        assert time.monotonic() - sent < 1
        assert event["data"]["id"] == created["id"] and event["data"]["level"] == "green"
        assert created["call_number"] is None and created["message"]
    finally:
        await ws.close()
    await asyncio.sleep(1)
    listed = await scene.root.ok("GET", f"/domains/{scene.domain}/alerts")
    alert = listed["items"][0]
    assert alert["call"] is None and alert["location"]["maps_url"] == "https://maps.google.com/?q=-23.550520,-46.633308"
    assert alert["person"] == {"name": "Joana da Silva", "cpf": CPF, "phone": PHONE}
    again = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "green", "location": None}, 201)
    assert again["id"] == created["id"] and again["duplicate"] is True  # a stuck button is one alert


async def test_red_alert_call_is_answered_before_waiting_yellow_and_ordinary_calls(scene: Scene) -> None:
    await scene.extension("8001", phone="auto")
    await scene.queue("monitor", strategy="ringall", ring_timeout=5, extensions=["8001"])
    await scene.root.ok("PUT", f"/domains/{scene.domain}/alert-app",
                        {"monitoring_queue": "monitor", "call_number": "1140040000"})
    attendant = await scene.agent(["monitor"], "8001")
    path = f"/domains/{scene.domain}/agents/{attendant.username}"  # type: ignore[attr-defined]
    await attendant.ok("POST", path + "/pause", {"reason": "busy"})
    q = scene.qname("monitor")
    ordinary = await scene.call("monitor", caller_id="1133330000")
    await person(scene)
    await person(scene, cpf="11144477735")
    yellow_app = await app_login(scene, cpf="11144477735")
    red_app = await app_login(scene)
    yellow = await yellow_app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "yellow", "location": None}, 201)
    assert yellow["call_number"] == "1140040000"
    await scene.recorder.wait_for("QueueCallerJoin", count=2, Queue=q)
    red = await red_app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
    await scene.recorder.wait_for("QueueCallerJoin", count=3, Queue=q)
    async def linked() -> dict[int, Any] | None:
        found = {a["id"]: a for a in (await scene.root.ok("GET", f"/domains/{scene.domain}/alerts"))["items"]}
        return found if found[red["id"]]["call"] and found[yellow["id"]]["call"] else None
    alerts = await eventually(linked, timeout=5, what="both alerts linked to their calls")
    red_call = alerts[red["id"]]["call"]
    entries = await scene.services.ami.action({"Action": "QueueStatus", "Queue": q})
    positions = {e["Uniqueid"]: int(e["Position"]) for e in entries if e.get("Event") == "QueueEntry"}
    assert positions[red_call] == 1 and positions[alerts[yellow["id"]]["call"]] == 2 and positions[ordinary] == 3
    await attendant.ok("POST", path + "/unpause")
    connected = await scene.recorder.wait_for("AgentConnect", Queue=q, timeout=10)
    assert connected[0][1].fields["Uniqueid"] == red_call
    assert connected[0][1].fields["CallerIDNum"] == PHONE


async def test_unacknowledged_red_alert_escalates_and_ack_stops_it(scene: Scene, app_client: Any) -> None:
    await person(scene)
    await scene.root.ok("PUT", f"/domains/{scene.domain}/alert-app", {"ack_deadlines": {"red": 5, "yellow": 60}})
    app = await app_login(scene)
    ws = await app_client.ws_connect(f"/api/v1/domains/{scene.domain}/live?access_token={scene.root.token}")
    try:
        started = time.monotonic()
        first = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
        event = await feed_event(ws, "alert.escalated", timeout=8)
        assert event["data"]["id"] == first["id"] and time.monotonic() - started >= 4.5
        await scene.root.ok("POST", f"/domains/{scene.domain}/alerts/{first['id']}/ack")
        acked = await feed_event(ws, "alert.ack", timeout=2)
        assert acked["data"]["acknowledged_by"] == scene.root.username  # type: ignore[attr-defined]
        try:
            extra = await feed_event(ws, "alert.escalated", timeout=6)
            raise AssertionError(f"escalated after the ack: {extra}")
        except asyncio.TimeoutError:
            pass
        status, body = await scene.root.call("POST", f"/domains/{scene.domain}/alerts/{first['id']}/ack")
        assert_error(status, body, 409, "id")
    finally:
        await ws.close()


async def test_no_location_reads_sem_localizacao_everywhere(scene: Scene) -> None:
    await person(scene)
    app = await app_login(scene)
    await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "yellow", "location": None}, 201)
    alert = (await scene.root.ok("GET", f"/domains/{scene.domain}/alerts"))["items"][0]
    assert alert["location"] is None and alert["location_text"] == "Sem localização"
    resp = await scene.root.client.get(f"/api/v1/domains/{scene.domain}/alerts?format=csv",
                                       headers={"Authorization": f"Bearer {scene.root.token}"})
    assert resp.status == 200 and "Sem localização" in (await resp.read()).decode("utf-8-sig")


async def test_xlsx_export_holds_exactly_the_period(scene: Scene) -> None:
    await person(scene)
    app = await app_login(scene)
    first = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "green", "location": None}, 201)
    await asyncio.sleep(1.2)
    from datetime import datetime
    cut = datetime.now(timezone.utc).isoformat()
    await asyncio.sleep(0.2)
    second = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
    resp = await scene.root.client.get(f"/api/v1/domains/{scene.domain}/alerts",
                                       params={"format": "xlsx", "from": cut},
                                       headers={"Authorization": f"Bearer {scene.root.token}"})
    assert resp.status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(await resp.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "id" and [r[0] for r in rows[1:]] == [second["id"]]
    assert first["id"] != second["id"]


async def test_audit_chain_verifies_and_names_a_tampered_row(scene: Scene, settings: Settings) -> None:
    await person(scene)
    app = await app_login(scene)
    created = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
    await scene.root.ok("POST", f"/domains/{scene.domain}/alerts/{created['id']}/ack")
    # rows are linked into the chain just after their commit: link them now, before the check
    # below (a blocking subprocess) and before tampering, so the tampered row is a linked one
    await scene.services.alerts.chain.flush()
    env = {**os.environ, "CCPLANE_DATABASE_URL": settings.database.url}
    ok = subprocess.run([sys.executable, "-m", "ccplane", "audit", "verify", "--domain", scene.domain],
                        env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "OK" in ok.stdout, ok.stdout + ok.stderr
    engine = create_async_engine(settings.database.url)
    async with async_sessionmaker(engine)() as s:
        from sqlalchemy import select
        row_id = await s.scalar(select(AlertAudit.id).where(AlertAudit.alert_id == created["id"],
                                                            AlertAudit.action == "acknowledged"))
        await s.execute(update(AlertAudit).where(AlertAudit.id == row_id).values(actor="user:someone-else"))
        await s.commit()
    await engine.dispose()
    broken = subprocess.run([sys.executable, "-m", "ccplane", "audit", "verify", "--domain", scene.domain],
                            env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1 and f"row id {row_id}" in broken.stdout, broken.stdout


async def red_alert_with_the_database_gone(scene: Scene, app: ApiCaller, tmp_path: Any) -> tuple[int, Any]:
    """POST a red alert while the alert service's database cannot be opened."""
    alerts = scene.services.alerts
    real = alerts.sessions
    dead = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/missing-dir/db.sqlite")
    alerts.sessions = async_sessionmaker(dead)
    try:
        return await app.call("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None})
    finally:
        alerts.sessions = real
        await dead.dispose()


async def test_alert_refused_with_503_when_the_database_is_gone(scene: Scene, tmp_path: Any) -> None:
    await person(scene)
    app = await app_login(scene)
    status, body = await red_alert_with_the_database_gone(scene, app, tmp_path)
    assert_error(status, body, 503)
    assert "Ligue" in body["error"]["message"]


async def test_person_calling_the_monitoring_did_is_linked_to_the_open_alert(scene: Scene) -> None:
    await scene.extension("8101")
    await scene.queue("watch", extensions=["8101"])
    await scene.root.ok("PUT", f"/domains/{scene.domain}/alert-app", {"monitoring_queue": "watch"})
    did = "3004" + str(int(scene.domain[1:], 16) % 10**6).zfill(6)
    await scene.root.ok("POST", f"/domains/{scene.domain}/routes",
                        {"did": did, "destination": {"type": "queue", "target": "watch"}}, 201)
    await person(scene)
    app = await app_login(scene)
    created = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "green", "location": None}, 201)
    from tests.support.ivr import Caller
    q = scene.qname("watch")
    stranger = await Caller(scene.services, scene.recorder, did, caller_id="11911112222").dial()
    await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=stranger.inner, Queue=q)

    async def marked() -> bool:
        out = await scene.services.ami.command(f"database show ccplane-alert/{scene.domain}")
        return f"+55{PHONE}" in out  # the last of the forms written
    await eventually(marked, timeout=5, what="the open alert known to Asterisk")
    caller = await Caller(scene.services, scene.recorder, did, caller_id="+55" + PHONE).dial()
    await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=caller.inner, Queue=q)
    await scene.recorder.wait_for("UserEvent", UserEvent="CcplaneAlertCall", Uniqueid=caller.inner)
    entries = await scene.services.ami.action({"Action": "QueueStatus", "Queue": q})
    positions = {e["Uniqueid"]: int(e["Position"]) for e in entries if e.get("Event") == "QueueEntry"}
    assert positions[caller.inner] == 1 and positions[stranger.inner] == 2  # ahead of ordinary callers

    async def linked() -> dict[str, Any] | None:
        alert = (await scene.root.ok("GET", f"/domains/{scene.domain}/alerts"))["items"][0]
        return alert if alert["person_call"] == caller.inner else None
    alert = await eventually(linked, timeout=5, what="the call linked to the alert")
    assert alert["id"] == created["id"]
    closed = await scene.root.ok("POST", f"/domains/{scene.domain}/alerts/{created['id']}/close",
                                 {"outcome": "Contato feito, tudo bem."})
    assert closed["status"] == "closed" and closed["outcome"] == "Contato feito, tudo bem."
    assert not await marked()  # a closed alert no longer jumps the queue
    await caller.hangup()
    await stranger.hangup()


async def test_dashboard_figures(scene: Scene) -> None:
    await person(scene)
    app = await app_login(scene)
    red = await app.ok("POST", f"/app/{scene.domain}/alerts",
                       {"level": "red", "location": {"lat": -23.5505, "lon": -46.6333}}, 201)
    await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "green", "location": None}, 201)
    await scene.root.ok("POST", f"/domains/{scene.domain}/alerts/{red['id']}/ack")
    figures = await scene.root.ok("GET", f"/domains/{scene.domain}/alerts/stats")
    assert figures["total"] == 2 and figures["by_level"] == {"red": 1, "green": 1}
    assert figures["top_persons"][0]["alerts"] == 2 and figures["top_persons"][0]["red"] == 1
    assert figures["areas"] == [{"lat": -23.55, "lon": -46.63, "alerts": 1, "red": 1}]
    assert figures["acknowledged_within"]["15s"] == 50.0
    agent = await scene.root.new_user(scene.domain, "agent")
    assert (await agent.ok("GET", f"/domains/{scene.domain}/alerts/stats"))["total"] == 2
    other = await scene.root.ok("POST", "/domains", {"slug": scene.domain + "x", "name": "x"}, 201)
    status, body = await agent.call("GET", f"/domains/{other['slug']}/alerts/stats")
    assert_error(status, body, 404, "domain")


async def restarted(scene: Scene, app_client: Any, aiohttp_client: Any, settings: Settings,
                    down: float = 0.0) -> tuple[Any, ApiCaller]:
    """Stop the scene's app (its whole shutdown), stay down ``down`` seconds, start
    a new app on the same database; the scene then works through the new one."""
    from ccplane.app import create_app
    from ccplane.web.keys import SERVICES
    await app_client.close()
    if down:
        await asyncio.sleep(down)  # the downtime is the scenario, not a wait for an event
    client = await aiohttp_client(create_app(settings))
    services = client.server.app[SERVICES]
    await services.ami.wait_connected(15)
    username, password = f"root-{os.urandom(4).hex()}", "restart-pass-1"
    await services.auth.create_root(username, password)
    root = await ApiCaller(client).login(username, password)
    scene.services, scene.root = services, root
    return client, root


async def short_deadlines(scene: Scene, deadlines: dict[str, int]) -> None:
    """Deadlines below the API's 5 s floor, written as the settings are stored."""
    from ccplane.features.alerts.models import AlertAppConfig
    from ccplane.features.domains.models import Domain
    await scene.root.ok("PUT", f"/domains/{scene.domain}/alert-app", {"ack_deadlines": {"red": 5}})
    async with scene.services.sessions() as s:
        domain_id = select(Domain.id).where(Domain.slug == scene.domain).scalar_subquery()
        await s.execute(update(AlertAppConfig).where(AlertAppConfig.domain_id == domain_id)
                        .values(ack_deadlines=deadlines))
        await s.commit()


async def escalation_jobs(scene: Scene) -> dict[str, Any]:
    """The scheduler's escalation jobs of the scene's domain."""
    from ccplane.features.domains.models import Domain
    async with scene.services.sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == scene.domain))
    return dict(await scene.services.scheduler.jobs(f"alerts.escalate.{domain_id}."))


async def test_escalation_scheduled_before_a_restart_fires_after_it_once(
        scene: Scene, app_client: Any, aiohttp_client: Any, settings: Settings) -> None:
    """The red's escalation job is a row of the scheduler's table: the new app
    runs it at its time (nothing re-derived at start), once."""
    await person(scene)
    await short_deadlines(scene, {"red": 4, "yellow": 60})
    app = await app_login(scene)
    started = time.monotonic()
    red = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
    before = await eventually(lambda: escalation_jobs(scene), timeout=3, what="the job stored")
    client, root = await restarted(scene, app_client, aiohttp_client, settings)
    assert await escalation_jobs(scene) == before  # the same job, same time: read, not re-made
    ws = await client.ws_connect(f"/api/v1/domains/{scene.domain}/live?access_token={root.token}")
    try:
        event = await feed_event(ws, "alert.escalated", timeout=8)
        assert event["data"]["id"] == red["id"] and time.monotonic() - started >= 3.5
        assert [a["id"] for a in event["data"]["alerts"]] == [red["id"]]
        try:
            extra = await feed_event(ws, "alert.escalated", timeout=2)
            raise AssertionError(f"escalated twice: {extra}")
        except asyncio.TimeoutError:
            pass
    finally:
        await ws.close()
    async with scene.services.sessions() as s:
        assert (await s.get(Alert, red["id"])).escalations == 1  # type: ignore[union-attr]


async def test_escalation_due_while_down_fires_once_when_back_and_spent_ones_stay_quiet(
        scene: Scene, app_client: Any, aiohttp_client: Any, settings: Settings) -> None:
    """ccplane was down past the red's deadline: back, it escalates at once, once
    (no burst for the time it was down), then waits its deadline again; an alert
    past the escalation limit stays quiet."""
    await person(scene)
    await person(scene, cpf="11144477735")
    await short_deadlines(scene, {"red": 2, "yellow": 2})
    red = await (await app_login(scene)).ok("POST", f"/app/{scene.domain}/alerts",
                                             {"level": "red", "location": None}, 201)
    spent = await (await app_login(scene, cpf="11144477735")).ok(
        "POST", f"/app/{scene.domain}/alerts", {"level": "yellow", "location": None}, 201)
    async with scene.services.sessions() as s:
        await s.execute(update(Alert).where(Alert.id == spent["id"]).values(escalations=5))
        await s.commit()
    await eventually(lambda: _count(escalation_jobs(scene), 2), timeout=3, what="both jobs stored")
    # stop before the first deadline, come back three deadlines later
    await restarted(scene, app_client, aiohttp_client, settings, down=3.0)

    async def escalations(alert_id: int) -> int:
        async with scene.services.sessions() as s:
            return int((await s.get(Alert, alert_id, populate_existing=True)).escalations)  # type: ignore[union-attr]
    # (generous waits: a loaded box takes a while to bring telephony and the scheduler back;
    # the spacing asserted below is what shows there was no burst)
    await eventually(lambda: _equals(escalations(red["id"]), 1), timeout=10, what="the overdue red escalated")
    await eventually(lambda: _equals(escalations(red["id"]), 2), timeout=10, what="the next deadline")
    async with scene.services.sessions() as s:
        times = sorted(datetime.fromisoformat(at) for at in await s.scalars(
            select(AlertAudit.at).where(AlertAudit.alert_id == red["id"], AlertAudit.action == "escalated")))
    assert (times[1] - times[0]).total_seconds() >= 1.5  # a deadline after the first, not a burst of missed ones
    assert await escalations(spent["id"]) == 5


async def _count(value: Any, expected: int) -> bool:
    return len(await value) == expected


async def _equals(value: Any, expected: Any) -> bool:
    return await value == expected


async def test_escalation_calls_the_next_group(scene: Scene) -> None:
    await scene.extension("8201")
    await scene.queue("first", extensions=["8201"])
    await scene.queue("second", extensions=["8201"])
    await scene.root.ok("PUT", f"/domains/{scene.domain}/alert-app",
                        {"monitoring_queue": "first", "escalation_queue": "second",
                         "ack_deadlines": {"red": 5}})
    await person(scene)
    app = await app_login(scene)
    await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
    await scene.recorder.wait_for("QueueCallerJoin", Queue=scene.qname("first"), timeout=5)
    joined = await scene.recorder.wait_for("QueueCallerJoin", Queue=scene.qname("second"), timeout=10)
    assert joined[0][1].fields["CallerIDNum"] == PHONE


def alert_call_hangups(scene: Scene) -> set[str]:
    """Uniqueids of alert calls (the half that waits in the queue) that hung up."""
    return {str(e.fields["Uniqueid"]) for _, e in scene.recorder.matching("Hangup")
            if ALERT_CALL.fullmatch(str(e.fields.get("Uniqueid")))}


async def queue_entries(scene: Scene, q: str) -> list[str]:
    entries = await scene.services.ami.action({"Action": "QueueStatus", "Queue": q})
    return [e["Uniqueid"] for e in entries if e.get("Event") == "QueueEntry"]


async def linked_call(scene: Scene, alert_id: int) -> str:
    async def call() -> str | None:
        items = (await scene.root.ok("GET", f"/domains/{scene.domain}/alerts"))["items"]
        return next((a["call"] for a in items if a["id"] == alert_id), None)
    return await eventually(call, timeout=5, what=f"alert {alert_id} linked to its call")


async def monitored_scene(scene: Scene, queue: str) -> tuple[dict[str, Any], ApiCaller, str]:
    """A monitoring queue nobody answers (its member is not registered): calls wait."""
    await scene.extension("8301")
    await scene.queue(queue, extensions=["8301"])
    await scene.root.ok("PUT", f"/domains/{scene.domain}/alert-app", {"monitoring_queue": queue})
    p = await person(scene)
    return p, await app_login(scene), scene.qname(queue)


async def behind_ccplanes_back(scene: Scene, person_id: int, **values: Any) -> None:
    """Change a person as another replica would: in the database, ccplane not told."""
    from ccplane.features.persons.models import MonitoredPerson
    async with scene.services.sessions() as s:
        await s.execute(update(MonitoredPerson).where(MonitoredPerson.id == person_id).values(**values))
        await s.commit()


async def test_token_revoked_behind_ccplanes_back_is_refused_and_its_call_withdrawn(scene: Scene) -> None:
    """ccplane keeps app persons in memory so a red alert rings before any row is
    read or written. A change it was not told of (another replica, a hand edit)
    is caught when the alert is stored: 401, no alert kept, the call withdrawn."""
    p, app, q = await monitored_scene(scene, "watchers")
    first = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "yellow", "location": None}, 201)
    first_call = await linked_call(scene, first["id"])
    from ccplane.features.persons.models import MonitoredPerson
    await behind_ccplanes_back(scene, p["id"], token_version=MonitoredPerson.token_version + 1)
    status, body = await app.call("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None})
    assert_error(status, body, 401)
    assert "revoked" in body["error"]["message"]
    # the red call went out before the row was checked, and was then hung up
    withdrawn = await eventually(lambda: _async(alert_call_hangups(scene)), timeout=5,
                                 what="the refused alert's call hung up")
    assert first_call not in withdrawn
    items = (await scene.root.ok("GET", f"/domains/{scene.domain}/alerts"))["items"]
    assert [a["id"] for a in items] == [first["id"]]  # the refused alert was not kept
    assert await queue_entries(scene, q) == [first_call]
    # the next request reads the row again: refused before any call
    joined = len(scene.recorder.matching("QueueCallerJoin", Queue=q))
    status, body = await app.call("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None})
    assert_error(status, body, 401)
    await asyncio.sleep(0.5)
    assert len(scene.recorder.matching("QueueCallerJoin", Queue=q)) == joined


async def _async(value: T) -> T:
    return value


async def test_phone_changed_on_another_replica_is_the_one_called(scene: Scene) -> None:
    """The call went out with the phone ccplane remembered; the row says another:
    the alert is stored with the row's phone and called again with it."""
    p, app, q = await monitored_scene(scene, "watchers")
    await app.ok("GET", f"/app/{scene.domain}/config")  # ccplane now remembers the person
    await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "green", "location": None}, 201)
    await behind_ccplanes_back(scene, p["id"], phone="11912345678", name="Joana Souza")
    red = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
    call = await linked_call(scene, red["id"])
    joined = await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=call, timeout=5)
    assert joined[0][1].fields["CallerIDNum"] == "11912345678"
    withdrawn = await eventually(lambda: _async(alert_call_hangups(scene)), timeout=5,
                                 what="the call made with the old phone hung up")
    assert call not in withdrawn
    assert await queue_entries(scene, q) == [call]
    alert = (await scene.root.ok("GET", f"/domains/{scene.domain}/alerts"))["items"][0]
    assert alert["id"] == red["id"] and alert["person"]["phone"] == "11912345678"
    assert alert["person"]["name"] == "Joana Souza"


async def test_open_alert_known_only_to_the_database_makes_a_duplicate(scene: Scene) -> None:
    """Another replica stored the first press: this process's memory does not
    know it, the database does. The second press is a duplicate, its call withdrawn."""
    _, app, q = await monitored_scene(scene, "watchers")
    first = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
    first_call = await linked_call(scene, first["id"])
    scene.services.alerts._recent.clear()  # noqa: SLF001 - what a replica that did not store it knows
    again = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
    assert again["id"] == first["id"] and again["duplicate"] is True
    withdrawn = await eventually(lambda: _async(alert_call_hangups(scene)), timeout=5,
                                 what="the duplicate's call hung up")
    assert first_call not in withdrawn
    assert await queue_entries(scene, q) == [first_call]
    # taken on another replica: the next press is a new alert, not a duplicate
    from ccplane.features.alerts.models import Alert
    async with scene.services.sessions() as s:
        await s.execute(update(Alert).where(Alert.id == first["id"]).values(status="acknowledged"))
        await s.commit()
    third = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
    assert third["id"] != first["id"] and third["duplicate"] is False


async def test_red_alert_rings_even_when_it_cannot_be_stored(scene: Scene, tmp_path: Any) -> None:
    """The database fails after the ring: the app hears 503 (call us), and the
    monitoring team's phone rings all the same."""
    _, app, q = await monitored_scene(scene, "watchers")
    await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "green", "location": None}, 201)  # remembered
    status, body = await red_alert_with_the_database_gone(scene, app, tmp_path)
    assert_error(status, body, 503)
    assert "Ligue" in body["error"]["message"]
    joined = await scene.recorder.wait_for("QueueCallerJoin", Queue=q, timeout=5)
    assert joined[0][1].fields["CallerIDNum"] == PHONE
    await asyncio.sleep(0.5)
    assert not alert_call_hangups(scene)  # not withdrawn: a human still hears it
    # the next press is a new alert (the failed one is not a duplicate of anything)
    again = await app.ok("POST", f"/app/{scene.domain}/alerts", {"level": "red", "location": None}, 201)
    assert again["duplicate"] is False
