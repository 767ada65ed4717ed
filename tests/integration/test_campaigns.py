"""Outbound campaigns on the real sandbox: progressive pacing against the
agents of the campaign's queue (baresip phones), the customers at the carrier
(a second Asterisk that logs every call it receives), blacklists checked before
every dial, calling hours, and contact imports that are all or nothing."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update

from ccplane.asterisk.sandbox import SandboxState
from ccplane.features.dialer import domain as rules
from ccplane.features.dialer import pacer as pacer_module
from ccplane.features.dialer.models import CampaignContact
from tests.support.api import assert_error
from tests.support.carrier import busy_mobile, carrier_trunk, mobile, silent_mobile
from tests.support.live import LiveFeed, live_feed
from tests.support.journeys import journey, ts
from tests.support.telephony import Recorder, Scene
from tests.support.waiting import eventually

ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def dialled(carrier_events: Recorder) -> list[str]:
    return [str(e.fields.get("Number")) for _, e in carrier_events.matching("UserEvent", UserEvent="CarrierCall")]


async def test_campaign_paces_to_the_free_agents_and_never_dials_a_blacklisted_number(
        scene: Scene, carrier: SandboxState, carrier_events: Recorder) -> None:
    await carrier_trunk(scene.root, scene.domain, carrier)
    await scene.extension("2001", phone="auto")
    await scene.extension("2002", phone="auto")
    await scene.queue("ativo", strategy="rrmemory", ring_timeout=10, extensions=["2001", "2002"])
    agents = [await scene.agent(["ativo"], "2001"), await scene.agent(["ativo"], "2002")]
    async with live_feed(scene.root.client, scene.domain, scene.root.token) as feed, \
            live_feed(scene.root.client, scene.domain, agents[0].token) as agents_feed:
        await _paces_to_the_free_agents(scene, carrier_events, feed, agents_feed,
                                        {a.username for a in agents})  # type: ignore[attr-defined]


async def _paces_to_the_free_agents(scene: Scene, carrier_events: Recorder, feed: LiveFeed,
                                    agents_feed: LiveFeed, agents: set[str]) -> None:
    base = f"/domains/{scene.domain}/campaigns"
    camp = await scene.root.ok("POST", base, {"name": "Renovação", "queue": "ativo", "calling_hours": ALL_DAY,
                                              "max_attempts": 2, "retry_interval": 1}, 201)
    numbers = [mobile() for _ in range(7)]
    blacklisted, later_dnc = numbers[2], numbers[6]
    imported = await scene.root.ok("POST", f"{base}/{camp['id']}/contacts",
                                   [{"number": n, "name": f"Cliente {i}", "data": {"plano": "gold", "codigo": f"C{i}"}}
                                    for i, n in enumerate(numbers)], 201)
    assert imported == {"imported": 7, "total": 7}
    await scene.root.ok("POST", f"{base}/{camp['id']}/blacklist", {"number": blacklisted}, 201)

    # talk: each call the agent takes is hung up a second after it connects
    hangups: set[str] = set()

    async def talk() -> None:
        while True:
            for _, e in scene.recorder.matching("AgentConnect", Queue=scene.qname("ativo")):
                uid = str(e.fields.get("Uniqueid"))
                if uid not in hangups:
                    hangups.add(uid)
                    asyncio.get_running_loop().call_later(1.0, lambda u=uid: asyncio.ensure_future(
                        scene.services.ami.action({"Action": "Hangup", "Channel": u})))
            await asyncio.sleep(0.05)

    # in flight, from Asterisk's own channel list: distinct calls of this campaign
    samples: list[int] = []

    async def sample() -> None:
        while True:
            channels = await scene.services.ami.action({"Action": "CoreShowChannels"})
            calls = {str(c.get("Linkedid")) for c in channels
                     if str(c.get("Linkedid", "")).startswith(f"cp{camp['id']}x")}
            samples.append(len(calls))
            await asyncio.sleep(0.1)

    tasks = [asyncio.create_task(talk()), asyncio.create_task(sample())]
    try:
        await scene.root.ok("POST", f"{base}/{camp['id']}/start")
        await scene.root.ok("POST", f"/domains/{scene.domain}/do-not-call", {"number": later_dnc, "reason": "pediu"},
                            201)  # added while the campaign runs: still honoured

        async def finished() -> dict[str, Any] | None:
            c = await scene.root.ok("GET", f"{base}/{camp['id']}")
            return c if c["status"] == "finished" else None
        done = await eventually(finished, timeout=90, interval=0.3, what="the campaign finished")
    finally:
        for t in tasks:
            t.cancel()
    assert done["progress"]["done"] == 5 and done["progress"]["skipped"] == 2, done["progress"]
    assert max(samples) <= 2, f"in flight: {max(samples)} calls with 2 agents"
    assert max(samples) == 2, "two free agents: two calls at a time"
    got = dialled(carrier_events)
    assert blacklisted not in got and later_dnc not in got
    assert set(got) >= {n for n in numbers if n not in (blacklisted, later_dnc)}
    contacts = {c["number"]: c for c in
                (await scene.root.ok("GET", f"{base}/{camp['id']}/contacts?limit=50"))["items"]}
    assert (contacts[blacklisted]["status"], contacts[blacklisted]["last_result"]) == ("skipped", "blacklisted")
    assert (contacts[later_dnc]["status"], contacts[later_dnc]["last_result"]) == ("skipped", "do_not_call")
    assert contacts[blacklisted]["attempts"] == contacts[later_dnc]["attempts"] == 0  # a skip is no attempt
    assert all(contacts[n]["last_result"] == "answered" for n in numbers if n not in (blacklisted, later_dnc))

    # the live feed: each dial, each skip with its reason, each answer with the contact's data
    called = [n for n in numbers if n not in (blacklisted, later_dnc)]
    dialing = {d["number"]: d for d in feed.of("campaign.dialing")}
    assert sorted(dialing) == sorted(called) and len(feed.of("campaign.dialing")) == 5
    for n, d in dialing.items():
        assert (d["campaign"], d["contact"], d["attempt"]) == (camp["id"], contacts[n]["id"], 1), d
        assert d["call"].startswith(f"cp{camp['id']}x{contacts[n]['id']}-"), d
    assert sorted((d["number"], d["reason"], d["contact"]) for d in feed.of("campaign.skipped")) == sorted(
        [(blacklisted, "blacklisted", contacts[blacklisted]["id"]),
         (later_dnc, "do_not_call", contacts[later_dnc]["id"])])
    for seen in (feed, agents_feed):  # the supervisor's feed and the agent's screen alike
        answered = {d["contact"]["number"]: d for d in seen.of("campaign.answered")}
        assert sorted(answered) == sorted(called)
        for n, d in answered.items():
            i = numbers.index(n)
            assert (d["campaign"], d["campaign_name"], d["queue"]) == (camp["id"], "Renovação", "ativo"), d
            assert (d["contact"]["id"], d["contact"]["name"], d["contact"]["data"]) == \
                (contacts[n]["id"], f"Cliente {i}", {"plano": "gold", "codigo": f"C{i}"}), d
    for n in called:  # each call's story, in order
        mine = [t for t, d in feed.events if t.startswith("campaign.") and t != "campaign.status"
                and n in (d.get("number"), d["contact"]["number"] if isinstance(d.get("contact"), dict) else None)]
        assert mine == ["campaign.dialing", "campaign.answered", "campaign.connected", "campaign.call_ended",
                        "campaign.contact_done"], (n, mine)
    # the journey of one campaign call: the customer's number, then the queue and the agent who took it
    one = dialing[called[0]]
    j = await journey(scene, one["call"])
    assert (j["caller"], j["caller_name"], j["direction"], j["queue"]) == \
        (called[0], "Cliente 0", "outbound", "ativo"), j
    assert j["agent"] in agents and len(j["protocols"]) == 1, j
    assert [leg["kind"] for leg in j["legs"]] == ["external", "queue", "offer", "agent"], j["legs"]
    external, queue, _, agent = j["legs"]
    assert (external["number"], external["result"]) == (called[0], "answered"), external
    assert (queue["queue"], queue["result"]) == ("ativo", "answered"), queue
    assert agent["agent"] == j["agent"] and ts(agent["answered_at"]) >= ts(external["answered_at"]), agent


async def test_no_call_outside_calling_hours(scene: Scene, carrier: SandboxState, carrier_events: Recorder) -> None:
    await carrier_trunk(scene.root, scene.domain, carrier)
    await scene.extension("2003", phone="auto")
    await scene.queue("fora", extensions=["2003"])
    await scene.agent(["fora"], "2003")
    now = datetime.now(ZoneInfo("America/Sao_Paulo"))
    other_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(now.weekday() + 3) % 7]
    base = f"/domains/{scene.domain}/campaigns"
    camp = await scene.root.ok("POST", base, {"name": "Fora", "queue": "fora",
                                              "calling_hours": {other_day: [["08:00", "18:00"]]}}, 201)
    numbers = [mobile() for _ in range(2)]
    await scene.root.ok("POST", f"{base}/{camp['id']}/contacts", [{"number": n} for n in numbers], 201)
    await scene.root.ok("POST", f"{base}/{camp['id']}/start")

    looks: set[str] = set()

    async def looked_three_times() -> dict[str, Any] | None:
        c = await scene.root.ok("GET", f"{base}/{camp['id']}")
        if c["evaluated_at"] is not None:
            looks.add(c["evaluated_at"])
        return c if len(looks) >= 3 else None
    c = await eventually(looked_three_times, timeout=15, interval=0.2, what="the dialer looked at the campaign 3 times")
    assert c["in_calling_hours"] is False and c["progress"]["pending"] == 2
    assert not set(dialled(carrier_events)) & set(numbers)
    # the same campaign inside its hours dials at once
    await scene.root.ok("PATCH", f"{base}/{camp['id']}", {"calling_hours": ALL_DAY})
    await carrier_events.wait_for("UserEvent", UserEvent="CarrierCall", Number=numbers[0], timeout=15)
    await scene.root.ok("POST", f"{base}/{camp['id']}/stop")


async def test_contacts_with_invalid_numbers_are_refused_row_by_row_and_nothing_is_imported(scene: Scene) -> None:
    await scene.queue("q")
    base = f"/domains/{scene.domain}/campaigns"
    camp = await scene.root.ok("POST", base, {"name": "CSV", "queue": "q"}, 201)
    url = f"/api/v1{base}/{camp['id']}/contacts"
    headers = {"Authorization": f"Bearer {scene.root.token}", "Content-Type": "text/csv"}
    bad = "nome;telefone;cidade\nAna;(11) 98765-4321;SP\nBeto;11 8765-432;RJ\nCaio;+1 212 555 0100;NY\nDuda;2125551234;RJ\n"
    resp = await scene.root.client.post(url, data=bad.encode(), headers=headers)
    body = await resp.json()
    assert_error(resp.status, body, 422, "contacts.3.number")
    assert "row 3" in body["error"]["message"] and "row 4" in body["error"]["message"]
    assert "row 2" not in body["error"]["message"] and "nothing was imported" in body["error"]["message"]
    assert (await scene.root.ok("GET", f"{base}/{camp['id']}"))["contacts"] == 0

    status, body = await scene.root.call("POST", f"{base}/{camp['id']}/contacts",
                                         [{"number": "11987654321"}, {"number": "11987654321"}, {"number": "abc"}])
    assert_error(status, body, 422, "contacts.2.number")
    assert (await scene.root.ok("GET", f"{base}/{camp['id']}"))["contacts"] == 0

    good = "\ufeffnome,telefone,cidade\nAna,(11) 98765-4321,SP\nDuda,2125551234,RJ\n"
    resp = await scene.root.client.post(url, data=good.encode(), headers=headers)
    assert resp.status == 201, await resp.text()
    assert await resp.json() == {"imported": 2, "total": 2}
    items = (await scene.root.ok("GET", f"{base}/{camp['id']}/contacts"))["items"]
    assert [(c["number"], c["name"], c["data"]) for c in items] == [
        ("11987654321", "Ana", {"cidade": "SP"}), ("2125551234", "Duda", {"cidade": "RJ"})]
    # a number already in the campaign refuses the whole list too
    status, body = await scene.root.call("POST", f"{base}/{camp['id']}/contacts",
                                         [{"number": "11911112222"}, {"number": "+55 11 98765-4321"}])
    assert_error(status, body, 422, "contacts.2.number")
    assert (await scene.root.ok("GET", f"{base}/{camp['id']}"))["contacts"] == 2

    for payload, field in (({"name": "x", "queue": "ghost"}, "queue"),
                           ({"name": "x", "queue": "q", "calling_hours": {"mon": [["18:00", "08:00"]]}},
                            "calling_hours"),
                           ({"name": "x", "queue": "q", "calling_hours": {"funday": [["08:00", "18:00"]]}},
                            "calling_hours.funday.[key]"),
                           ({"name": "x", "queue": "q", "timezone": "Mars/Base"}, "timezone"),
                           ({"name": "x", "queue": "q", "max_attempts": 0}, "max_attempts")):
        status, body = await scene.root.call("POST", base, payload)
        assert_error(status, body, 422, field)
    status, body = await scene.root.call("POST", f"{base}/{camp['id']}/pause")
    assert_error(status, body, 409, "status")
    agent = await scene.root.new_user(scene.domain, "agent")
    status, body = await agent.call("POST", f"{base}/{camp['id']}/start")
    assert status == 403


async def test_an_unreachable_contact_is_retried_until_max_attempts(scene: Scene) -> None:
    # a trunk to a port nobody listens on: every attempt fails at once
    await scene.root.ok("POST", f"/domains/{scene.domain}/trunks",
                        {"name": "dead", "host": "127.0.0.1", "port": 9, "transport": "tcp", "caller_id": "1140040000"},
                        201)
    await scene.root.ok("POST", f"/domains/{scene.domain}/outbound-routes",
                        {"name": "brasil", "patterns": ["_XXXXXXXXXX", "_XXXXXXXXXXX"], "trunks": ["dead"],
                         "strip": 0, "prefix": ""}, 201)
    await scene.extension("2004", phone="auto")
    await scene.queue("retry", extensions=["2004"])
    await scene.agent(["retry"], "2004")
    base = f"/domains/{scene.domain}/campaigns"
    camp = await scene.root.ok("POST", base, {"name": "Retry", "queue": "retry", "calling_hours": ALL_DAY,
                                              "max_attempts": 3, "retry_interval": 1}, 201)
    await scene.root.ok("POST", f"{base}/{camp['id']}/contacts", [{"number": mobile()}], 201)
    await scene.root.ok("POST", f"{base}/{camp['id']}/start")

    async def gave_up() -> dict[str, Any] | None:
        c = (await scene.root.ok("GET", f"{base}/{camp['id']}/contacts"))["items"][0]
        return c if c["status"] == "failed" else None
    contact = await eventually(gave_up, timeout=40, interval=0.3, what="the contact given up")
    assert contact["attempts"] == 3 and contact["last_result"] == "failed", contact
    assert (await scene.root.ok("GET", f"{base}/{camp['id']}"))["status"] == "finished"


async def test_contacts_whose_calls_vanished_are_settled_and_stop_holding_the_pacing(scene: Scene) -> None:
    """Contacts 'in flight' whose calls Asterisk no longer has (an Asterisk restart
    mid-call, a leader dead between claim and Originate) would count against the
    pacing forever: two looks in a row with no channel settle them (a call still
    being dialled is a failed attempt, retried; one that reached the customer is
    done); a contact whose call is really up is left alone."""
    await scene.queue("reap")
    base = f"/domains/{scene.domain}/campaigns"
    camp = await scene.root.ok("POST", base, {"name": "Reap", "queue": "reap", "calling_hours": ALL_DAY,
                                              "max_attempts": 3, "retry_interval": 60}, 201)
    await scene.root.ok("POST", f"{base}/{camp['id']}/contacts", [{"number": mobile()} for _ in range(3)], 201)
    contacts = sorted((await scene.root.ok("GET", f"{base}/{camp['id']}/contacts"))["items"], key=lambda c: c["id"])
    dialing, talking, live = (c["id"] for c in contacts)
    cid = camp["id"]
    old = datetime.now(UTC) - timedelta(minutes=5)
    async with scene.services.sessions() as s:
        for contact, status in ((dialing, "dialing"), (talking, "connected"), (live, "dialing")):
            await s.execute(update(CampaignContact).where(CampaignContact.id == contact).values(
                status=status, attempts=1, updated_at=old, call_id=f"cp{cid}x{contact}-gone-a"))
        await s.commit()
    # the third contact's call is really up in Asterisk (a channel carrying its ids)
    await scene.services.ami.action({
        "Action": "Originate", "Channel": f"Local/{scene.qname('reap')}@ccplane-queues", "Application": "Wait",
        "Data": "30",
        "Async": "true", "ChannelId": f"cp{cid}x{live}-up-a", "OtherChannelId": f"cp{cid}x{live}-up-b"})

    async def up() -> bool:
        return f"cp{cid}x{live}-up-a" in await scene.services.dialer.seats.live_ids()
    await eventually(up, timeout=5, what="the live contact's channel up")
    pacer = scene.services.dialer
    mine = {dialing, talking, live}
    assert mine.isdisjoint(await pacer.reap())  # first look: only suspected
    assert mine & set(await pacer.reap()) == {dialing, talking}
    got = {c["id"]: c for c in (await scene.root.ok("GET", f"{base}/{cid}/contacts"))["items"]}
    assert (got[dialing]["status"], got[dialing]["last_result"]) == ("retry", "lost"), got[dialing]
    assert (got[talking]["status"], got[talking]["last_result"]) == ("done", "answered"), got[talking]
    assert got[live]["status"] == "dialing", got[live]
    await scene.services.ami.action({"Action": "Hangup", "Channel": f"cp{cid}x{live}-up-a"})


def hours_around_now(tz: str, minutes: int = 30) -> dict[str, list[list[str]]]:
    """Calling hours of today only, a window around now (in the campaign's time zone)."""
    now = datetime.now(ZoneInfo(tz))
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(now - timedelta(minutes=minutes), midnight)
    end = now + timedelta(minutes=minutes)
    window = [start.strftime("%H:%M"), end.strftime("%H:%M") if end.date() == now.date() else "24:00"]
    return {("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]: [window]}


async def test_busy_and_unanswered_contacts_are_retried_within_the_calling_hours_up_to_max_attempts(
        scene: Scene, carrier: SandboxState, carrier_events: Recorder, monkeypatch: Any) -> None:
    monkeypatch.setattr(pacer_module, "CUSTOMER_RING", 3)  # a contact's phone rings 3 s
    await carrier_trunk(scene.root, scene.domain, carrier)
    await scene.extension("2005", phone="auto")
    await scene.queue("tenta", extensions=["2005"])
    await scene.agent(["tenta"], "2005")
    base = f"/domains/{scene.domain}/campaigns"
    hours = hours_around_now("America/Sao_Paulo")
    camp = await scene.root.ok("POST", base, {"name": "Insistente", "queue": "tenta", "calling_hours": hours,
                                              "max_attempts": 3, "retry_interval": 2}, 201)
    busy, silent = busy_mobile(), silent_mobile()  # the carrier: busy at once; rings unanswered
    await scene.root.ok("POST", f"{base}/{camp['id']}/contacts",
                        [{"number": busy, "name": "Ocupado"}, {"number": silent, "name": "Ausente"}], 201)
    async with live_feed(scene.root.client, scene.domain, scene.root.token) as feed:
        await scene.root.ok("POST", f"{base}/{camp['id']}/start")

        async def finished() -> dict[str, Any] | None:
            c = await scene.root.ok("GET", f"{base}/{camp['id']}")
            return c if c["status"] == "finished" else None
        done = await eventually(finished, timeout=60, interval=0.3, what="the campaign finished")
    assert done["in_calling_hours"] is True and done["progress"]["failed"] == 2, done
    contacts = {c["number"]: c for c in (await scene.root.ok("GET", f"{base}/{camp['id']}/contacts"))["items"]}
    for number, result, answer in ((busy, "busy", "busy"), (silent, "no_answer", "never")):
        c = contacts[number]
        assert (c["status"], c["attempts"], c["last_result"]) == ("failed", 3, result), c
        # dialled max_attempts times, as the live feed and the carrier saw it
        dials = feed.of("campaign.dialing", lambda d, n=number: bool(d["number"] == n))
        assert [d["attempt"] for d in dials] == [1, 2, 3], dials
        assert len({d["call"] for d in dials}) == 3
        got = carrier_events.matching("UserEvent", UserEvent="CarrierCall", Number=number)
        assert [e.fields.get("Answer") for _, e in got] == [answer] * 3, got
        # each miss: retried after retry_interval while attempts remain, then given up
        failed = feed.of("campaign.attempt_failed", lambda d, n=number: bool(d["contact"]["number"] == n))
        assert [(f["contact"]["status"], f["contact"]["last_result"], f["contact"]["attempts"]) for f in failed] == [
            ("retry", result, 1), ("retry", result, 2), ("failed", result, 3)], failed
        assert failed[0]["contact"]["next_attempt_at"] and failed[2]["contact"]["next_attempt_at"] is None
        called_at = [t for t, _ in got]
        assert all(b - a >= 2.0 - 0.5 for a, b in zip(called_at, called_at[1:])), called_at  # the retry interval
        # each attempt has its journey (outbound, in the domain's reports though it never
        # reached an agent): the customer's leg ends with the carrier's answer
        for d in dials:
            legs = (await journey(scene, d["call"]))["legs"]
            assert [(leg["number"], leg["result"]) for leg in legs if leg["kind"] == "external"] == \
                [(number, result)], legs
        if number == silent:  # it rang the 3 s before each miss
            assert all(b - a >= 3.0 for a, b in zip(called_at, called_at[1:])), called_at
        # every attempt placed inside the calling hours (today's window around now)
        placed = feed.timed("campaign.dialing", lambda d, n=number: bool(d["number"] == n))
        assert len(placed) == 3 and all(rules.within_hours(hours, "America/Sao_Paulo", at) for at, _ in placed)
    assert not feed.of("campaign.answered")
