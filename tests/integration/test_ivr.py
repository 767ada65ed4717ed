"""Issue 4 acceptance: IVR trees rendered to dialplan, driven by real DTMF."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from ccplane.asterisk.ami import AmiClient
from ccplane.asterisk.sandbox import SandboxState
from tests.support.api import assert_error
from tests.support.ivr import Caller
from tests.support.telephony import Recorder, Scene
from tests.support.waiting import eventually

VALID_CPF = "52998224725"        # check digits right, registered in the test
UNKNOWN_CPF = "11144477735"      # check digits right, nobody has it
WRONG_DIGITS_CPF = "52998224724"  # check digits wrong


def did_for(scene: Scene, suffix: str) -> str:
    return str(int(scene.domain[1:], 16) % 10**8).zfill(8) + suffix


async def route(scene: Scene, did: str, kind: str, target: str | None) -> None:
    await scene.root.ok("POST", f"/domains/{scene.domain}/routes",
                        {"did": did, "destination": {"type": kind, "target": target}}, 201)


async def path_of(scene: Scene, caller: Caller, expected_last: str) -> list[dict[str, Any]]:
    async def stored() -> list[dict[str, Any]] | None:
        steps = await scene.root.ok("GET", f"/domains/{scene.domain}/ivr-paths/{caller.inner}")
        return steps if steps and steps[-1]["step"] == expected_last else None
    return await eventually(stored, timeout=5, what=f"stored path ending in {expected_last}")


async def test_two_level_menu_reaches_each_destination(scene: Scene) -> None:
    await scene.extension("7001")
    await scene.queue("qa", extensions=["7001"])
    tree = {"type": "menu", "prompt": "beep", "input_timeout": 5, "options": {
        "1": {"type": "queue", "target": "qa"},
        "2": {"type": "menu", "prompt": "beep", "options": {"1": {"type": "extension", "target": "7001"}}},
    }}
    await scene.root.ok("POST", f"/domains/{scene.domain}/ivrs", {"name": "main", "root": tree}, 201)
    did = did_for(scene, "01")
    await route(scene, did, "ivr", "main")

    first = await Caller(scene.services, scene.recorder, did).dial()
    await first.step("root", "enter")
    await first.press("1")
    await scene.recorder.wait_for("QueueCallerJoin", Uniqueid=first.inner, Queue=scene.qname("qa"))
    await first.hangup()

    second = await Caller(scene.services, scene.recorder, did).dial()
    await second.step("root", "enter")
    await second.press("2")
    await second.step("root.options.2", "enter")
    await second.press("1")
    await scene.recorder.wait_for("Newexten", Uniqueid=second.inner, Context=f"ccplane-d-{scene.domain}",
                                  Extension="7001")
    await second.hangup()
    assert [s[:2] for s in second.steps()] == [("root", "enter"), ("root", "option"),
                                               ("root.options.2", "enter"), ("root.options.2", "option"),
                                               ("root.options.2.options.1", "extension")]
    steps = await path_of(scene, second, "extension")
    assert [(s["node"], s["step"], s["digits"]) for s in steps][:2] == [("root", "enter", None),
                                                                       ("root", "option", "2")]


async def test_invalid_key_retries_then_final_branch(scene: Scene) -> None:
    tree = {"type": "menu", "prompt": "beep", "input_timeout": 8, "max_retries": 2,
            "invalid_prompt": "beep", "options": {str(d): {"type": "hangup"} for d in range(1, 5)}}
    await scene.root.ok("POST", f"/domains/{scene.domain}/ivrs", {"name": "inv", "root": tree}, 201)
    did = did_for(scene, "02")
    await route(scene, did, "ivr", "inv")
    caller = await Caller(scene.services, scene.recorder, did).dial()
    for attempt in range(1, 4):
        # press once the menu listens again (keys pressed during the invalid prompt are ignored)
        await scene.recorder.wait_for("Newexten", count=attempt, Uniqueid=caller.inner, Application="BackGround")
        await asyncio.sleep(0.3)
        await caller.press("5")
    await caller.step("root.invalid", "hangup")
    steps = await path_of(scene, caller, "hangup")
    assert [s["step"] for s in steps if s["node"] == "root"].count("invalid") == 3
    assert all(s["digits"] == "5" for s in steps if s["step"] == "invalid")
    playbacks = scene.recorder.matching("Newexten", Uniqueid=caller.inner, Application="Playback")
    assert len(playbacks) == 2  # the invalid prompt played twice, not a third time


async def test_timeout_and_invalid_counters_are_independent(scene: Scene) -> None:
    tree = {"type": "menu", "prompt": "beep", "input_timeout": 2, "max_retries": 1,
            "invalid_prompt": "beep", "timeout_prompt": "beep",
            "options": {"1": {"type": "hangup"}}}
    await scene.root.ok("POST", f"/domains/{scene.domain}/ivrs", {"name": "tmo", "root": tree}, 201)
    did = did_for(scene, "03")
    await route(scene, did, "ivr", "tmo")
    caller = await Caller(scene.services, scene.recorder, did).dial()
    await caller.step("root", "enter")
    await asyncio.sleep(0.3)
    await caller.press("7")                       # invalid #1 (of max 1 retry)
    await caller.step("root", "invalid")
    await caller.step("root", "timeout", timeout=10)  # timeout #1: still retried
    await caller.step("root", "timeout", count=2, timeout=10)  # timeout #2: final branch
    await caller.step("root.timeout", "hangup")
    steps = [s[1] for s in caller.steps() if s[0] == "root"]
    assert steps == ["enter", "invalid", "timeout", "timeout"]
    assert not [s for s in caller.steps() if s[0] == "root.invalid"]


PLAY_THEN_HANGUP = {"type": "play", "prompt": "beep", "next": {"type": "hangup"}}


async def cpf_check_ivr(scene: Scene, name: str, did_suffix: str, *, next_: dict[str, Any],
                        failed: dict[str, Any]) -> str:
    """Joana registered, an IVR that collects a CPF and checks it is registered,
    routed from a DID of its own: returns that DID."""
    await scene.root.ok("POST", f"/domains/{scene.domain}/monitored-persons",
                        {"name": "Joana", "cpf": VALID_CPF, "phone": "11987654321", "password": "app-password"},
                        201)
    tree = {"type": "collect", "prompt": "beep", "digits": 11, "check": "cpf_registered", "input_timeout": 6,
            "next": next_, "failed": failed}
    await scene.root.ok("POST", f"/domains/{scene.domain}/ivrs", {"name": name, "root": tree}, 201)
    did = did_for(scene, did_suffix)
    await route(scene, did, "ivr", name)
    return did


async def test_collect_cpf_registered(scene: Scene) -> None:
    did = await cpf_check_ivr(scene, "cpf", "04", next_=PLAY_THEN_HANGUP, failed={"type": "hangup"})
    for cpf, outcome in ((VALID_CPF, "ok"), (WRONG_DIGITS_CPF, "failed"), (UNKNOWN_CPF, "failed")):
        caller = await Caller(scene.services, scene.recorder, did).dial()
        await caller.step("root", "enter")
        await asyncio.sleep(0.5)
        await caller.press(cpf + "#")
        await caller.step("root", outcome)
        await caller.hangup()
    # the same CPF in another domain does not count here
    assert not await scene.services.persons.cpf_registered("someone-else", VALID_CPF)


async def test_collect_takes_failed_branch_when_ccplane_is_gone(scene: Scene) -> None:
    did = await cpf_check_ivr(scene, "cpf2", "05", next_={"type": "hangup"}, failed=PLAY_THEN_HANGUP)
    await scene.services.ari.stop()  # ccplane's Stasis app is gone
    caller = await Caller(scene.services, scene.recorder, did).dial()
    await caller.step("root", "enter")
    await asyncio.sleep(0.5)
    await caller.press(VALID_CPF + "#")
    await caller.step("root", "failed")
    await caller.step("root.failed", "play")  # the failed branch plays: no dead air
    await caller.hangup()


async def test_steps_after_the_check_are_kept_while_ccplane_is_away(scene: Scene, sandbox: SandboxState) -> None:
    """The check answers through ARI while ccplane's AMI link is down: the steps
    after it (the check's outcome, the next node) still wait in Asterisk's
    outbox and are replayed. Setting a channel variable through ARI would have
    made Asterisk refuse these writes for the rest of the call."""
    did = await cpf_check_ivr(scene, "cpfaway", "08", next_=PLAY_THEN_HANGUP, failed={"type": "hangup"})
    side = AmiClient(sandbox.ami_host, sandbox.ami_port, sandbox.ami_username, sandbox.ami_secret)
    seen = Recorder()
    side.on_event(seen)
    await side.start()
    try:
        await side.wait_connected(10)
        await scene.services.ami.stop()  # ccplane hears nothing by AMI; ARI still answers the check
        caller = await Caller(SimpleNamespace(ami=side), seen, did).dial()
        await caller.step("root", "enter")
        await asyncio.sleep(0.5)
        await caller.press(VALID_CPF + "#")
        await seen.wait_for("Hangup", Uniqueid=caller.inner, timeout=15)
        assert [s[:2] for s in caller.steps()] == [("root", "enter"), ("root", "ok"),
                                                   ("root.next", "play"), ("root.next.next", "hangup")]

        items = await side.action({"Action": "DBGetTree", "Family": "ccplane-outbox"})
        kept = [str(i.get("Val", "")) for i in items
                if str(i.get("Key", "")).split("/")[-1].startswith(caller.inner)]
        assert len(kept) == 4 and any("|Step=ok|" in v for v in kept), kept

        await scene.services.ami.start()  # back: the resync replays the outbox
        await scene.services.ami.wait_connected(15)
        steps = await path_of(scene, caller, "hangup")
        assert [(s["node"], s["step"]) for s in steps] == [("root", "enter"), ("root", "ok"),
                                                           ("root.next", "play"), ("root.next.next", "hangup")]
    finally:
        await side.stop()


async def test_blacklisted_caller_is_rejected_and_recorded(scene: Scene, other_domain: str) -> None:
    tree = {"type": "menu", "prompt": "beep", "options": {"1": {"type": "hangup"}}}
    await scene.root.ok("POST", f"/domains/{scene.domain}/ivrs", {"name": "bl", "root": tree}, 201)
    did = did_for(scene, "06")
    await route(scene, did, "ivr", "bl")
    await scene.root.ok("POST", f"/domains/{scene.domain}/blacklist",
                        {"number": "+55 (11) 97777-0001", "reason": "abuse"}, 201)
    await scene.root.ok("POST", f"/domains/{other_domain}/blacklist", {"number": "11977770002"}, 201)

    blocked = await Caller(scene.services, scene.recorder, did, caller_id="01511977770001").dial()
    await scene.recorder.wait_for("UserEvent", UserEvent="CcplaneBlacklisted", Uniqueid=blocked.inner)
    await scene.recorder.wait_for("Hangup", Uniqueid=blocked.inner)
    assert blocked.steps() == []  # never reached the IVR

    async def recorded() -> dict[str, Any] | None:
        page = await scene.root.ok("GET", f"/domains/{scene.domain}/blacklist-rejections")
        return page if page["total"] == 1 else None
    page = await eventually(recorded, timeout=5, what="the rejection record")
    # recorded in the canonical form the caller number is normalised to on the way in
    assert page["items"][0]["caller"] == "11977770001" and page["items"][0]["did"] == did

    allowed = await Caller(scene.services, scene.recorder, did, caller_id="11977770002").dial()
    await allowed.step("root", "enter")  # blacklisted only in the other domain
    await allowed.hangup()


async def test_reports_made_while_ccplane_is_away_are_replayed(scene: Scene, sandbox: SandboxState) -> None:
    """ccplane's AMI link is down while a blacklisted caller is rejected and
    another caller walks the IVR: both reach the database once it is back, with
    the time they happened, and exactly once."""
    tree = {"type": "menu", "prompt": "beep", "input_timeout": 5,
            "options": {"1": {"type": "play", "prompt": "beep", "next": {"type": "hangup"}}}}
    await scene.root.ok("POST", f"/domains/{scene.domain}/ivrs", {"name": "away", "root": tree}, 201)
    did = did_for(scene, "07")
    await route(scene, did, "ivr", "away")
    await scene.root.ok("POST", f"/domains/{scene.domain}/blacklist", {"number": "11966660001"}, 201)

    # the test's own AMI session places the calls and watches them
    side = AmiClient(sandbox.ami_host, sandbox.ami_port, sandbox.ami_username, sandbox.ami_secret)
    seen = Recorder()
    side.on_event(seen)
    await side.start()
    try:
        await side.wait_connected(10)
        await scene.services.ami.stop()  # ccplane hears nothing from now on
        before = time.time()
        blocked = await Caller(SimpleNamespace(ami=side), seen, did, caller_id="11966660001").dial()
        await seen.wait_for("Hangup", Uniqueid=blocked.inner)
        walker = await Caller(SimpleNamespace(ami=side), seen, did, caller_id="1130000777").dial()
        await walker.step("root", "enter")
        await walker.press("1")
        await seen.wait_for("Hangup", Uniqueid=walker.inner, timeout=15)
        async def outbox_of_these_calls() -> list[dict[str, Any]]:
            items = await side.action({"Action": "DBGetTree", "Family": "ccplane-outbox"})
            return [i for i in items if str(i.get("Key", "")).split("/")[-1].startswith((blocked.inner,
                                                                                        walker.inner))]
        mine = await outbox_of_these_calls()
        assert len(mine) >= 4, mine  # the rejection and at least three IVR steps wait there
        rejections = f"/domains/{scene.domain}/blacklist-rejections"
        assert (await scene.root.ok("GET", rejections))["total"] == 0
        await asyncio.sleep(1.5)  # the replayed times must be the calls', not the replay's

        await scene.services.ami.start()  # back: the resync replays the outbox
        await scene.services.ami.wait_connected(15)

        async def rejected() -> dict[str, Any] | None:
            page = await scene.root.ok("GET", rejections)
            return page if page["total"] >= 1 else None
        page = await eventually(rejected, timeout=10, what="the replayed rejection")
        assert page["total"] == 1 and page["items"][0]["caller"] == "11966660001"
        at = datetime.fromisoformat(page["items"][0]["at"]).timestamp()
        assert before - 1 <= at <= before + 3, (before, at)
        steps = await path_of(scene, walker, "hangup")
        assert [(s["node"], s["step"]) for s in steps][:2] == [("root", "enter"), ("root", "option")]
        assert steps[1]["digits"] == "1"

        async def drained() -> bool:
            return not await outbox_of_these_calls()
        await eventually(drained, timeout=10, what="the outbox emptied of these calls")
        # a second resync replays nothing twice
        assert await scene.services.steps.replay_outbox() >= 0
        await asyncio.sleep(0.5)
        assert (await scene.root.ok("GET", rejections))["total"] == 1
        assert len(await scene.root.ok("GET", f"/domains/{scene.domain}/ivr-paths/{walker.inner}")) == len(steps)
    finally:
        await side.stop()


async def test_invalid_tree_is_refused_with_the_node_path(scene: Scene) -> None:
    await scene.queue("qx")
    before = scene.services.renderer.out_dir.joinpath("extensions.conf").read_bytes()
    cases = [
        ({"type": "menu", "prompt": "beep", "options": {"1": {"type": "queue", "target": "nope"}}},
         "root.options.1.target"),
        ({"type": "menu", "prompt": "beep", "options": {"2": {"type": "menu", "prompt": "beep", "options": {
            "1": {"type": "hangup"}}, "timeout": {"type": "teleport"}}}}, "root.options.2.timeout.type"),
        ({"type": "menu", "prompt": "no-such-sound-anywhere", "options": {"1": {"type": "hangup"}}}, "root.prompt"),
        ({"type": "menu", "prompt": "beep", "options": {}}, "root.options"),
        ({"type": "menu", "prompt": "beep", "options": {"12": {"type": "hangup"}}}, "root.options.12"),
        ({"type": "collect", "prompt": "beep", "digits": 0, "next": {"type": "hangup"}}, "root.digits"),
        ({"type": "collect", "prompt": "beep", "digits": 11, "check": "magic", "next": {"type": "hangup"}},
         "root.check"),
        ({"type": "menu", "options": {"1": {"type": "hangup"}}}, "root.prompt"),
        ({"type": "play", "prompt": "beep", "next": {"type": "ivr", "target": "ghost"}}, "root.next.target"),
    ]
    for tree, path in cases:
        status, body = await scene.root.call("POST", f"/domains/{scene.domain}/ivrs", {"name": "bad", "root": tree})
        assert_error(status, body, 422, path)
        assert path in body["error"]["message"]
    assert (await scene.root.ok("GET", f"/domains/{scene.domain}/ivrs"))["total"] == 0
    assert scene.services.renderer.out_dir.joinpath("extensions.conf").read_bytes() == before


async def test_contract_terminals_call_group_and_a_callback_without_target(scene: Scene) -> None:
    """API.md's spellings: ``{"type": "call_group", "target"}`` and ``{"type": "callback"}`` (it
    joins the tree's queue); the tree comes back as it was sent and renders into the dialplan."""
    d = scene.domain
    await scene.queue("qc")
    await scene.extension("8301")
    await scene.root.ok("POST", f"/domains/{d}/call-groups", {"name": "balcao", "number": "8300",
                                                              "extensions": ["8301"]}, 201)
    tree = {"type": "menu", "prompt": "beep", "options": {
        "1": {"type": "queue", "target": "qc"}, "2": {"type": "call_group", "target": "balcao"},
        "9": {"type": "callback"}}}
    made = await scene.root.ok("POST", f"/domains/{d}/ivrs", {"name": "contrato", "root": tree}, 201)
    assert made["root"] == tree
    assert (await scene.root.ok("GET", f"/domains/{d}/ivrs/contrato"))["root"] == tree
    plan = scene.services.renderer.out_dir.joinpath("extensions.conf").read_text()
    assert f"Goto(ccplane-callgroups,{d}_balcao,1)" in plan
    assert f"Gosub(ccplane-callback-request,s,1({d},qc,{scene.qname('qc')}))" in plan
    status, body = await scene.root.call("POST", f"/domains/{d}/ivrs", {"name": "semfila", "root": {
        "type": "menu", "prompt": "beep", "options": {"9": {"type": "callback"}}}})
    assert_error(status, body, 422, "root.options.9.target")
