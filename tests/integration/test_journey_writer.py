"""The journey writer on the real database (SQLite and PostgreSQL): a value longer than
its column is cut, not refused; a call the database refuses whatever the moment is set
aside alone, so the calls written with it, and after it, are still stored; and stopping
never waits on it. (A two-menu IVR leg's result, 34 characters, was refused by
PostgreSQL and retried forever, blocking every journey after it and the app's stop.)"""
from __future__ import annotations

import secrets
import time

from sqlalchemy import select

from ccplane.features.calls.domain import Call, Leg
from ccplane.features.calls.models import CallLeg, CallRecord
from tests.support.telephony import Scene

DEEP = "root.options.2.options.1.options.3:option:9"  # an IVR leg three menus deep


async def _stored(scene: Scene, call_id: str) -> tuple[CallRecord, list[CallLeg]] | None:
    async with scene.services.sessions() as s:
        row = await s.scalar(select(CallRecord).where(CallRecord.call_id == call_id))
        if row is None:
            return None
        legs = list(await s.scalars(select(CallLeg).where(CallLeg.call_pk == row.id).order_by(CallLeg.seq)))
        return row, legs


async def test_an_odd_value_is_fitted_and_a_refused_call_does_not_block_the_others(scene: Scene) -> None:
    calls = scene.services.calls
    now = time.time()
    tag = secrets.token_hex(4)
    deep = Call(id=f"w{tag}-deep", started_at=now - 5, domain=scene.domain, direction="inbound",
                caller="11" * 60, caller_name="N" * 300, ended_at=now, end_reason="caller_hangup", state="ended",
                legs=[Leg("ivr", now - 5, uniqueid=f"w{tag}-deep", detail="menu", result=DEEP, ended_at=now)])
    refused = Call(id=f"w{tag}-bad", started_at=None, domain=scene.domain)  # type: ignore[arg-type]
    plain = Call(id=f"w{tag}-plain", started_at=now - 3, domain=scene.domain, ended_at=now, state="ended",
                 legs=[Leg("extension", now - 3, extension="1001", result="caller", ended_at=now)])
    failures = calls.write_failures
    calls._dirty.update({c.id: c for c in (deep, refused, plain)})
    assert await calls.flush() is True  # nothing kept back: the refused call was set aside, loudly
    assert calls.write_failures > failures and not calls._dirty

    stored = await _stored(scene, deep.id)
    assert stored is not None
    row, legs = stored
    assert [(leg.kind, leg.result) for leg in legs] == [("ivr", DEEP)]  # whole: the column holds it
    assert row.caller == ("11" * 60)[:64] and row.caller_name == "N" * 128  # cut to their columns
    assert await _stored(scene, plain.id) is not None
    assert await _stored(scene, refused.id) is None

    # a later batch is written as usual, and the app stops at once (scene teardown)
    later = Call(id=f"w{tag}-later", started_at=now, domain=scene.domain)
    calls._dirty[later.id] = later
    assert await calls.flush() is True and await _stored(scene, later.id) is not None
