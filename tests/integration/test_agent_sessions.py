"""Issue 3 acceptance: which extensions an agent may log in on, logout rules,
and logins/pauses surviving a ccplane kill while a caller waits."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from typing import Any

import aiohttp

from ccplane.asterisk.sandbox import SandboxState
from ccplane.settings import Settings
from tests.support.api import assert_error
from tests.support.telephony import Scene
from tests.support.waiting import eventually


async def test_available_extensions_are_linked_registered_and_free(scene: Scene) -> None:
    await scene.extension("4001", phone="auto")   # linked to A, registered, free
    await scene.extension("4002")                  # linked to A, never registered
    await scene.extension("4003", phone="auto")   # registered but linked to B only
    await scene.extension("4004", phone="auto")   # linked to A, used by another agent
    await scene.queue("qa", extensions=["4001", "4002", "4004"])
    await scene.queue("qb", extensions=["4003"])
    other = await scene.agent(["qa"], "4004")
    me = await scene.root.new_user(scene.domain, "agent")
    path = f"/domains/{scene.domain}/agents/{me.username}"  # type: ignore[attr-defined]
    offered = await me.ok("GET", path + "/available-extensions?queues=qa")
    assert [e["number"] for e in offered["items"]] == ["4001"]
    ext = await scene.root.ok("GET", f"/domains/{scene.domain}/extensions/4004")
    assert ext["in_use_by"] == other.username  # type: ignore[attr-defined]
    for number, why in (("4002", "not registered"), ("4003", "not linked"), ("4004", "in use")):
        status, body = await me.call("POST", path + "/session", {"queues": ["qa"], "extension": number})
        assert_error(status, body, 409, "extension")
        assert why in body["error"]["message"]
    status, body = await me.call("POST", path + "/session", {"queues": ["nope"], "extension": "4001"})
    assert_error(status, body, 422, "queues")
    assert (await scene.agent_state(me))["state"] == "offline"
    await me.ok("POST", path + "/session", {"queues": ["qa"], "extension": "4001"}, 201)
    member = await scene.member_status("qa", "4001")
    assert member is not None and member["Paused"] == "0"


async def test_a_login_on_a_phone_asterisk_has_just_registered_is_accepted(scene: Scene) -> None:
    """The phone's REGISTER was answered but its ContactStatus event has not reached
    ccplane yet (a WebRTC page that just connected): the login asks Asterisk instead
    of refusing, and the agent is available, not inactive."""
    await scene.extension("4101", phone="auto")
    await scene.extension("4102")  # never registered: still refused
    await scene.queue("qr", extensions=["4101", "4102"])
    me = await scene.root.new_user(scene.domain, "agent")
    path = f"/domains/{scene.domain}/agents/{me.username}"  # type: ignore[attr-defined]
    endpoint = f"{scene.domain}-4101"
    scene.services.contacts.reset([])  # ccplane's view: nobody registered
    assert not scene.services.contacts.registered(endpoint)
    status, body = await me.call("POST", path + "/session", {"queues": ["qr"], "extension": "4102"})
    assert_error(status, body, 409, "extension")
    assert "not registered" in body["error"]["message"]
    await me.ok("POST", path + "/session", {"queues": ["qr"], "extension": "4101"}, 201)
    assert scene.services.contacts.registered(endpoint)  # what Asterisk said is kept
    assert (await scene.agent_state(me))["state"] == "available"
    member = await scene.member_status("qr", "4101")
    assert member is not None and member["Paused"] == "0"


async def test_webrtc_agent_is_offered_their_webrtc_extension_only(scene: Scene) -> None:
    await scene.extension("4501", phone="auto")                 # linked to the queue, registered
    await scene.extension("4502", phone="auto", kind="webrtc")  # the agent's browser phone, not linked
    await scene.extension("4503", phone="auto", kind="webrtc")  # another WebRTC extension
    await scene.queue("qw", extensions=["4501"])
    users = f"/domains/{scene.domain}/users"
    base = {"name": "Web Agent", "role": "agent", "password": "agent-pass-1"}
    for number, why in (("4501", "not a WebRTC"), ("4999", "does not exist")):
        status, body = await scene.root.call("POST", users, {**base, "username": f"w{number}",
                                                             "webrtc_extension": number})
        assert_error(status, body, 422, "webrtc_extension")
        assert why in body["error"]["message"]
    assert all(u["username"] not in ("w4501", "w4999") for u in (await scene.root.ok("GET", users))["items"])
    created = await scene.root.ok("POST", users, {**base, "username": f"web-{scene.domain}",
                                                  "webrtc_extension": "4502", "wrapup_time": 7}, 201)
    assert created["webrtc_extension"] == "4502" and created["wrapup_time"] == 7
    me = await scene.root.login(f"web-{scene.domain}", "agent-pass-1")
    path = f"/domains/{scene.domain}/agents/web-{scene.domain}"
    offered = await me.ok("GET", path + "/available-extensions?queues=qw")
    assert [e["number"] for e in offered["items"]] == ["4502"]
    for number, why in (("4501", "logs in on extension 4502 only"), ("4503", "logs in on extension 4502 only")):
        status, body = await me.call("POST", path + "/session", {"queues": ["qw"], "extension": number})
        assert_error(status, body, 409, "extension")
        assert why in body["error"]["message"]
    await me.ok("POST", path + "/session", {"queues": ["qw"], "extension": "4502"}, 201)
    member = await scene.member_status("qw", "4502")
    assert member is not None and member["Paused"] == "0"
    # an ordinary agent is not offered someone's WebRTC extension, nor is it theirs to take
    other = await scene.root.new_user(scene.domain, "agent")
    opath = f"/domains/{scene.domain}/agents/{other.username}"  # type: ignore[attr-defined]
    assert [e["number"] for e in (await other.ok("GET", opath + "/available-extensions?queues=qw"))["items"]] == ["4501"]
    # clearing the setting makes them an ordinary agent again
    await me.ok("DELETE", path + "/session", status=204)
    cleared = await scene.root.ok("PATCH", f"{users}/web-{scene.domain}", {"webrtc_extension": None})
    assert cleared["webrtc_extension"] is None and cleared["wrapup_time"] == 7
    assert [e["number"] for e in (await me.ok("GET", path + "/available-extensions?queues=qw"))["items"]] == ["4501"]


async def test_agents_cannot_touch_other_agents(scene: Scene) -> None:
    await scene.extension("4101", phone="auto")
    await scene.queue("qc", extensions=["4101"])
    one = await scene.agent(["qc"], "4101")
    two = await scene.root.new_user(scene.domain, "agent")
    status, body = await two.call("POST", f"/domains/{scene.domain}/agents/{one.username}/pause",  # type: ignore[attr-defined]
                                  {"reason": "x"})
    assert_error(status, body, 403)
    status, body = await two.call("GET", f"/domains/{scene.domain}/agents")
    assert_error(status, body, 403)


async def test_logout_refused_during_a_call(scene: Scene) -> None:
    await scene.extension("4201", phone="auto")
    await scene.queue("qd", strategy="ringall", ring_timeout=3, extensions=["4201"])
    agent = await scene.agent(["qd"], "4201")
    session = f"/domains/{scene.domain}/agents/{agent.username}/session"  # type: ignore[attr-defined]
    caller = await scene.call("qd")
    await scene.recorder.wait_for("AgentConnect", Queue=scene.qname("qd"))
    status, body = await agent.call("DELETE", session)
    assert_error(status, body, 409, "username")
    assert "call in progress" in body["error"]["message"]
    await scene.hangup(caller)
    await scene.recorder.wait_for("AgentComplete", Queue=scene.qname("qd"))
    await agent.ok("DELETE", session, status=204)
    assert await scene.member_status("qd", "4201") is None
    assert (await scene.agent_state(agent))["state"] == "offline"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _start_serve(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CCPLANE_DATABASE_URL": settings.database.url,
           "CCPLANE_AUTH_SECRET_KEY": settings.auth.secret_key, "CCPLANE_LOG_FORMAT": "text",
           # a second ccplane beside the test's own, on purpose: it must act, not stand by
           "CCPLANE_CLUSTER_LEADER_ELECTION": "false", "CCPLANE_ASTERISK_TAKE_OVER": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ccplane", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def healthy() -> bool:
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/api/v1/health") as resp:
                    return (await resp.json())["ami"] is True
        except aiohttp.ClientError:
            return False
    try:
        await eventually(healthy, timeout=20, what="ccplane serve healthy")
    except BaseException:
        proc.kill()  # never leave a second ccplane acting on the sandbox
        proc.wait(10)
        raise
    return proc


async def test_logins_and_pauses_survive_a_ccplane_kill(scene: Scene, settings: Settings,
                                                        sandbox: SandboxState, services: Any) -> None:
    await scene.extension("4301", phone="auto")
    await scene.queue("qe", strategy="ringall", ring_timeout=3, extensions=["4301"])
    agent = await scene.agent(["qe"], "4301")
    path = f"/domains/{scene.domain}/agents/{agent.username}"  # type: ignore[attr-defined]
    await agent.ok("POST", path + "/pause", {"reason": "lunch"})
    caller = await scene.call("qe")  # waits: the only agent is paused

    port = _free_port()
    first = await _start_serve(settings, port)
    os.kill(first.pid, signal.SIGKILL)  # ccplane dies without any goodbye
    first.wait(10)
    await asyncio.sleep(1)
    proc = await _start_serve(settings, port)
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {scene.root.token}"}) as http:
            async with http.get(f"http://127.0.0.1:{port}/api/v1{path}") as resp:
                state = await resp.json()
        assert state["state"] == "paused" and state["pause_reason"] == "lunch"
        assert state["queues"] == ["qe"] and state["extension"] == "4301"
        entries = await services.ami.action({"Action": "QueueStatus", "Queue": scene.qname("qe")})
        waiting = [e for e in entries if e.get("Event") == "QueueEntry" and e.get("Uniqueid") == caller]
        assert waiting, "the caller was dropped"
        member = await scene.member_status("qe", "4301")
        assert member and member["Paused"] == "1" and member["PausedReason"] == "lunch"
    finally:
        proc.kill()
        proc.wait(10)


async def test_agent_list_pages_and_costs_the_same_queries_for_more_agents(scene: Scene) -> None:
    from sqlalchemy import event
    engine = scene.services.engine.sync_engine
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1
    base = f"/domains/{scene.domain}/agents"

    async def listing(query: str = "") -> tuple[dict, int]:
        nonlocal statements
        await scene.services.agent_states.flush()  # the state history's writer is not the listing's cost
        statements = 0
        event.listen(engine, "before_cursor_execute", count)
        try:
            page = await scene.root.ok("GET", base + query)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return page, statements
    await scene.extension("4701", phone="auto")
    await scene.extension("4702", phone="auto")
    await scene.queue("ql", extensions=["4701", "4702"])
    first = await scene.agent(["ql"], "4701")
    _, few = await listing()
    second = await scene.agent(["ql"], "4702")
    for _ in range(3):
        await scene.root.new_user(scene.domain, "agent")
    page, more = await listing()
    assert page["total"] == 5 and more == few  # no query per agent
    names = [a["username"] for a in page["items"]]
    assert names == sorted(names)
    head, _ = await listing("?limit=2&offset=0")
    tail, _ = await listing("?limit=2&offset=4")
    assert [a["username"] for a in head["items"]] == names[:2] and head["total"] == 5
    assert [a["username"] for a in tail["items"]] == names[4:]
    mine = {a["username"]: a for a in page["items"]}
    for agent, ext in ((first, "4701"), (second, "4702")):
        view = mine[agent.username]  # type: ignore[attr-defined]
        assert view["state"] == "available" and view["queues"] == ["ql"] and view["extension"] == ext
