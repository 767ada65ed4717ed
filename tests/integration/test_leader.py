"""Replicas sharing one database elect one leader (ccplane/leader.py): on the
test database (SQLite: a flock; PostgreSQL: an advisory lock), with real
``ccplane serve`` processes against the sandbox Asterisk."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
from typing import Any, Awaitable, Callable


from ccplane.asterisk.sandbox import SandboxState
from ccplane.leader import Leadership
from ccplane.settings import Settings
from tests.support.replicas import free_port, get, serve
from tests.support.waiting import eventually


async def test_one_leader_per_database_and_the_next_takes_over(migrated_url: str) -> None:
    first = Leadership(migrated_url, retry_interval=0.1)
    second = Leadership(migrated_url, retry_interval=0.1)
    try:
        assert await first.try_acquire() and first.role == "leader"
        assert not await second.try_acquire() and second.role == "standby"
        assert not await second.try_acquire()  # asking again changes nothing
        waiting = asyncio.create_task(second.wait())
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.release()
        await asyncio.wait_for(waiting, 5)
        assert second.role == "leader"
        assert not await first.try_acquire()  # the old leader now stands by
    finally:
        await first.release()
        await second.release()


async def test_election_off_always_leads(migrated_url: str) -> None:
    first = Leadership(migrated_url)
    alone = Leadership(migrated_url, enabled=False)
    try:
        assert await first.try_acquire()
        assert await alone.try_acquire() and alone.kind == "disabled"
    finally:
        await first.release()
        await alone.release()


def _demotion_flag() -> tuple[asyncio.Event, Callable[[], Awaitable[None]]]:
    demoted = asyncio.Event()

    async def on_demoted() -> None:
        demoted.set()
    return demoted, on_demoted


async def _lock_holders(url: str) -> list[int]:
    import psycopg
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    async with await psycopg.AsyncConnection.connect(plain, autocommit=True) as conn:
        rows = await (await conn.execute(
            "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND l.classid = 25443 AND l.objid = 1 AND l.granted "
            "AND d.datname = current_database()")).fetchall()
    return [int(r[0]) for r in rows]


async def _kill_lock_session(url: str) -> int:
    import psycopg
    [pid] = await _lock_holders(url)
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    async with await psycopg.AsyncConnection.connect(plain, autocommit=True) as conn:
        await conn.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # returns once it is gone
    return pid


async def test_leader_whose_connection_dies_gets_its_lock_back(postgres_url: str) -> None:
    leader = Leadership(postgres_url, check_interval=0.2)
    demoted, on_demoted = _demotion_flag()
    try:
        assert await leader.try_acquire()
        leader.watch(on_demoted)
        killed = await _kill_lock_session(postgres_url)

        async def relocked() -> list[int]:
            holders = await _lock_holders(postgres_url)
            return holders if holders and killed not in holders else []
        await eventually(relocked, timeout=5, what="the lock held again")
        assert leader.is_leader and not demoted.is_set()
        other = Leadership(postgres_url)
        assert not await other.try_acquire()  # the one holding it is the leader
        await other.release()
        await asyncio.sleep(0.5)
        assert leader.is_leader and not demoted.is_set()
    finally:
        await leader.release()


async def test_leader_whose_old_session_lingers_on_the_server_ends_it(postgres_url: str) -> None:
    """The leader's side of its lock connection broke but the server still keeps
    the session (and the lock) until its keepalives give up: the leader ends its
    own old session and takes the lock back, instead of demoting itself."""
    leader = Leadership(postgres_url, check_interval=0.2)
    demoted, on_demoted = _demotion_flag()
    ghost = None
    try:
        assert await leader.try_acquire()
        [old_pid] = await _lock_holders(postgres_url)
        ghost, leader._conn = leader._conn, None  # lost to the leader, alive on the server
        leader.watch(on_demoted)

        async def relocked() -> list[int]:
            holders = await _lock_holders(postgres_url)
            return holders if holders and old_pid not in holders else []
        await eventually(relocked, timeout=5, what="the lock held by a new session")
        assert leader.is_leader and not demoted.is_set()
    finally:
        await leader.release()
        if ghost is not None:
            with contextlib.suppress(Exception):
                await ghost.close()


async def test_leader_replaced_while_its_connection_was_down_is_demoted(postgres_url: str) -> None:
    leader = Leadership(postgres_url, check_interval=1.0)
    usurper = Leadership(postgres_url)
    demoted, on_demoted = _demotion_flag()
    try:
        assert await leader.try_acquire()
        leader.watch(on_demoted)
        await _kill_lock_session(postgres_url)
        assert await usurper.try_acquire()  # took the lock before the leader noticed
        await asyncio.wait_for(demoted.wait(), 5)
        assert leader.role == "demoted" and not leader.is_leader
        assert usurper.is_leader
    finally:
        await leader.release()
        await usurper.release()


# -- two real replicas -----------------------------------------------------------------

async def test_second_replica_stands_by_until_the_leader_dies(settings: Settings, sandbox: SandboxState) -> None:
    ports = free_port(), free_port()
    first = serve(settings, ports[0])
    procs = [first]
    try:
        async def leading(port: int) -> dict[str, Any] | None:
            status, body = await get(port, "/health")
            if not (status == 200 and body["role"] == "leader" and body["ami"]):
                return None
            return body if (await get(port, "/health/leader"))[0] == 200 else None  # started: serving
        await eventually(lambda: leading(ports[0]), timeout=20, what="the first replica leading")
        second = serve(settings, ports[1])
        procs.append(second)

        async def standing_by() -> dict[str, Any] | None:
            status, body = await get(ports[1], "/health")
            return body if status == 200 else None
        health = await eventually(standing_by, timeout=20, what="the second replica answering")
        assert health["role"] == "standby" and health["status"] == "degraded" and health["ami"] is False
        status, body = await get(ports[1], "/domains")
        assert status == 503 and body["error"]["code"] == "service_unavailable"
        assert "standby" in body["error"]["message"]
        assert (await get(ports[1], "/health/leader"))[0] == 503
        assert (await get(ports[0], "/health/leader"))[0] == 200
        assert (await get(ports[0], "/domains"))[0] == 401  # the leader serves (and asks who you are)

        os.kill(first.pid, signal.SIGKILL)  # the leader dies without a goodbye
        first.wait(10)
        took_over = await eventually(lambda: leading(ports[1]), timeout=20, what="the standby taking over")
        assert took_over["ari"] is True
        assert (await get(ports[1], "/domains"))[0] == 401
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(10)


async def test_replaced_leader_stops_and_exits_for_its_supervisor(settings: Settings, sandbox: SandboxState,
                                                                  postgres_url: str) -> None:
    """PostgreSQL: the leader's lock connection dies and a standby takes the lock
    before the leader gets it back: the old leader stops acting and exits 75."""
    settings = settings.replace(database=dataclasses.replace(settings.database, url=postgres_url))
    ports = free_port(), free_port()
    first = serve(settings, ports[0], check_interval=4)  # slow to notice: the standby wins
    procs = [first]
    try:
        async def answering(port: int, role: str) -> dict[str, Any] | None:
            status, body = await get(port, "/health")
            return body if status == 200 and body["role"] == role else None
        await eventually(lambda: answering(ports[0], "leader"), timeout=20, what="the first replica leading")
        second = serve(settings, ports[1])
        procs.append(second)
        await eventually(lambda: answering(ports[1], "standby"), timeout=20, what="the second standing by")

        async def replaced() -> dict[str, Any] | None:
            # the standby polls every 0.5 s, the leader checks every 4 s: the
            # standby nearly always wins; when the leader got its lock back, again
            if not await answering(ports[1], "leader"):
                with contextlib.suppress(ValueError):
                    await _kill_lock_session(settings.database.url)
                await asyncio.sleep(1)
            return await answering(ports[1], "leader")
        await eventually(replaced, timeout=30, what="the standby taking over")
        code = await asyncio.get_running_loop().run_in_executor(None, first.wait, 20)
        assert code == 75
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(10)
