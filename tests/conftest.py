"""Shared fixtures.

Databases: SQLite by default; set CCPLANE_TEST_DATABASE_URL to a PostgreSQL
server URL (e.g. the one ``scripts/pg.sh start`` prints) and the session gets a
fresh database on it. Tests of what only PostgreSQL has use ``postgres_url``,
on CCPLANE_TEST_POSTGRES_URL's server during a SQLite run. Telephony: the real Asterisk 22 sandbox, started (or
reused) by ``sandbox`` — if it cannot start, the tests that need it fail.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
from alembic import command

from ccplane.asterisk.sandbox import Sandbox, SandboxState
from ccplane.db.session import alembic_config
from ccplane.settings import Settings, load_settings
from tests.support.api import ApiCaller


# ---------------------------------------------------------------- hang watchdog
# pytest-timeout fails a hung test, but the stack of an event loop sitting in
# select() says nothing. Shortly before that, dump every asyncio task's stack
# and every thread's (they land in the failing test's captured stderr).
_LOOP: asyncio.AbstractEventLoop | None = None


def _await_chain(coro: Any) -> traceback.StackSummary:
    """Where a suspended coroutine waits: its frame, then each coroutine it awaits."""
    frames = []
    while coro is not None and len(frames) < 30:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            frames.append((frame, frame.f_lineno))
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return traceback.StackSummary.extract(frames)


# Who took each pooled database connection (a hang on SQLite's write lock needs
# the holder's name): the task and the code that checked it out, until checked in.
_CHECKOUTS: dict[int, str] = {}


def _on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    frames = traceback.extract_stack(limit=60)[:-3]
    if task is not None:  # inside SQLAlchemy's greenlet the caller is the task's coroutine
        frames = _await_chain(task.get_coro()) + frames
    ours = [f for f in frames if ("/ccplane/" in f.filename or "/tests/" in f.filename)
            and "site-packages" not in f.filename]
    where = "".join(traceback.format_list(ours[-8:]))
    _CHECKOUTS[id(dbapi_conn)] = f"task {task.get_name() if task else None} " \
                                 f"thread {threading.current_thread().name}\n{where}"


def _on_checkin(dbapi_conn: Any, _record: Any) -> None:
    _CHECKOUTS.pop(id(dbapi_conn), None)


def _watch_pools() -> None:
    from sqlalchemy import event
    from sqlalchemy.pool import Pool
    event.listen(Pool, "checkout", _on_checkout)
    event.listen(Pool, "checkin", _on_checkin)


_watch_pools()


def _sqlite_connections() -> list[str]:
    """Every SQLite connection alive: in a transaction or not, and who checked it out."""
    import gc
    import sqlite3
    out = ["-- SQLite connections (in_transaction; pool checkout, if checked out)"]
    adapted = {}
    import aiosqlite
    from sqlalchemy.engine.interfaces import AdaptedConnection
    for obj in gc.get_objects():
        try:
            if isinstance(obj, AdaptedConnection) and isinstance(obj.driver_connection, aiosqlite.Connection):
                inner = obj.driver_connection._connection
                if inner is not None:
                    adapted[id(inner)] = id(obj)
        except Exception:  # noqa: BLE001 - half-built or closed
            continue
    for obj in gc.get_objects():
        if isinstance(obj, sqlite3.Connection):
            try:
                state = f"in_transaction={obj.in_transaction}"
            except Exception as exc:  # noqa: BLE001 - another thread's, or closed
                state = f"({type(exc).__name__}: {exc})"
            owner = _CHECKOUTS.get(adapted.get(id(obj), id(obj)), "not checked out")
            out.append(f"   sqlite3 {id(obj):#x} {state}; {owner}")
    return out


def _dump_stacks(nodeid: str) -> None:
    out = [f"\n==== watchdog: {nodeid} still running; asyncio tasks and threads ===="]
    loops = [_LOOP] if _LOOP is not None else []
    if not loops:  # the test's fixtures are gone: the loop may be closing (pytest-asyncio's runner)
        import gc
        loops = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()]
    for loop in loops:
        try:
            tasks = list(asyncio.all_tasks(loop))
        except RuntimeError:
            tasks = []
        for task in tasks:
            out.append(f"-- {task!r}")
            out.extend(line.rstrip() for line in traceback.format_list(_await_chain(task.get_coro())))
    out.extend(_sqlite_connections())
    out.append("-- database connections checked out (any pool)")
    out.extend(f"   {owner}" for owner in list(_CHECKOUTS.values()))
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        out.append(f"-- thread {names.get(ident, ident)}")
        out.extend(line.rstrip() for line in traceback.format_stack(frame)[-40:])
    text = "\n".join(out) + "\n"
    print(text, file=sys.stderr, flush=True)  # the test's captured stderr
    if _REAL_STDERR is not None:  # and the live log, even if the run never ends
        with contextlib.suppress(OSError):
            os.write(_REAL_STDERR, text.encode(errors="replace"))


def _give_up(nodeid: str) -> None:
    """pytest-timeout's one alarm can be swallowed inside the event loop; a test
    still running long after it ends the session rather than stalling CI."""
    _dump_stacks(nodeid)
    if _REAL_STDERR is not None:
        with contextlib.suppress(OSError):
            os.write(_REAL_STDERR, f"\n==== watchdog: {nodeid} ignored its timeout; "
                                   "ending the test session ====\n".encode())
    os._exit(3)


_REAL_STDERR: int | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _REAL_STDERR
    _REAL_STDERR = os.dup(2)  # captures are suspended here: this is the terminal/log


# Tests against the real Asterisk and the browser run once more if they fail (the
# plugin pytest-rerunfailures): on a loaded 2-core CI box a real call can miss a
# timing by a hair. A rerun is never hidden: pytest's summary names every test that
# needed one ("RERUN", "n rerun"), and scripts/test.sh's recap repeats them. The
# unit tests (pure logic) get no second chance.
RERUNS = 1
_REAL_TELEPHONY = ("integration", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("rerunfailures"):
        return
    for item in items:
        parts = Path(str(item.path)).parts
        if "tests" in parts and parts[parts.index("tests") + 1] in _REAL_TELEPHONY:
            item.add_marker(pytest.mark.flaky(reruns=RERUNS, reruns_delay=1))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    limit = float(item.config.getini("timeout") or 0)
    runs = 1 + (RERUNS if item.get_closest_marker("flaky") else 0)
    timers = []
    if limit > 60:
        timers = [threading.Timer(limit - 30, _dump_stacks, args=(item.nodeid,)),
                  threading.Timer(runs * limit + 90, _give_up, args=(item.nodeid,))]
        for timer in timers:
            timer.daemon = True
            timer.start()
    try:
        yield
    finally:
        for timer in timers:
            timer.cancel()


@pytest.fixture
async def event_loop_watch() -> AsyncIterator[None]:
    """Lets the watchdog see the test's event loop (autouse in integration tests)."""
    global _LOOP
    _LOOP = asyncio.get_running_loop()
    try:
        yield
    finally:
        _LOOP = None


def _pg_admin_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextlib.contextmanager
def _fresh_pg_database(base: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server ``base`` names; dropped after."""
    import psycopg
    name = f"ccplane_test_{secrets.token_hex(4)}"
    with psycopg.connect(_pg_admin_url(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(_pg_admin_url(base), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("CCPLANE_TEST_DATABASE_URL", "")
    if base.startswith("postgresql"):
        with _fresh_pg_database(base) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'ccplane.db'}"


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    command.upgrade(alembic_config(database_url), "head")
    return database_url


@pytest.fixture(scope="session")
def postgres_url(migrated_url: str) -> Iterator[str]:
    """A migrated PostgreSQL database, on the SQLite run too, for what only
    PostgreSQL has (the leader's lock connection): the session's own database
    when it is PostgreSQL, else one on CCPLANE_TEST_POSTGRES_URL's server
    (scripts/test.sh sets it). No server is a failure, not a skip."""
    if migrated_url.startswith("postgresql"):
        yield migrated_url
        return
    base = os.environ.get("CCPLANE_TEST_POSTGRES_URL", "")
    if not base.startswith("postgresql"):
        pytest.fail("this test needs PostgreSQL: `scripts/pg.sh start` and set CCPLANE_TEST_POSTGRES_URL "
                    "to the URL it prints (scripts/test.sh does both)")
    with _fresh_pg_database(base) as url:
        command.upgrade(alembic_config(url), "head")
        yield url


@pytest.fixture(scope="session")
def base_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith("CCPLANE_") and not k.startswith("CCPLANE_TEST_")}
    env.update({
        "CCPLANE_AUTH_SECRET_KEY": secrets.token_hex(32),
        "CCPLANE_ASTERISK_QUALIFY_FREQUENCY": "2",
        "CCPLANE_ASTERISK_RECONNECT_MAX_DELAY": "1",
        "CCPLANE_ASTERISK_PING_INTERVAL": "1",
        "CCPLANE_LOG_FORMAT": "text",
        "CCPLANE_STORAGE_DIR": str(tmp_path_factory.mktemp("storage")),
        "CCPLANE_RECORDINGS_DIR": str(tmp_path_factory.mktemp("recordings")),
        "CCPLANE_RECORDINGS_POLL_INTERVAL": "0.2",
        # Each pass (SQLite, PostgreSQL) is its own deployment on the one sandbox: take it over.
        # test_render_ownership turns this off to see the refusal.
        "CCPLANE_ASTERISK_TAKE_OVER": "1",
        # Cheap password hashes: every test creates and logs in users (argon2 at its
        # production cost is ~0.1 s a hash, half a second a telephony test)
        "CCPLANE_AUTH_PASSWORD_TIME_COST": "1",
        "CCPLANE_AUTH_PASSWORD_MEMORY_KIB": "1024",
        "CCPLANE_AUTH_PASSWORD_PARALLELISM": "1",
    })
    return env


@pytest.fixture(scope="session")
def sandbox(base_env: dict[str, str]) -> SandboxState:
    settings = load_settings(env=base_env)
    return Sandbox(settings.sandbox, progress=print).up()


@pytest.fixture
def settings(migrated_url: str, base_env: dict[str, str]) -> Settings:
    return load_settings(env={**base_env, "CCPLANE_DATABASE_URL": migrated_url})


def _empty_job_store(url: str) -> None:
    """Each test's app starts with no scheduled job and nothing to arm: what a finished test left (an open
    alert's escalation, a callback scheduled for next year, a reaper) belongs to a domain no
    later test looks at, yet would run in every later test's app (the session shares one
    database) and write beside that test. Restarts within a test keep their jobs."""
    from sqlalchemy import create_engine as create_sync_engine
    from sqlalchemy import inspect, text

    from ccplane.scheduler import TABLE, sync_url
    engine = create_sync_engine(sync_url(url))
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.begin() as conn:
            if TABLE in tables:
                conn.execute(text(f"DELETE FROM {TABLE}"))
            # ...nor what each app start would arm again from the rows a finished test left:
            # its open alerts' escalations, its scheduled callbacks, its running campaigns
            if "alerts" in tables:
                conn.execute(text("UPDATE alerts SET escalate_at = NULL WHERE escalate_at IS NOT NULL"))
            if "callbacks" in tables:
                conn.execute(text("UPDATE callbacks SET status = 'cancelled' WHERE status = 'scheduled'"))
            if "campaigns" in tables:
                conn.execute(text("UPDATE campaigns SET status = 'stopped' WHERE status = 'running'"))
            if "agent_sessions" in tables:  # its agents' logins (each app start resyncs every one)
                conn.execute(text("DELETE FROM agent_session_queues"))
                conn.execute(text("DELETE FROM agent_sessions"))
    finally:
        engine.dispose()


@pytest.fixture
async def app_client(aiohttp_client: Any, settings: Settings, sandbox: SandboxState) -> AsyncIterator[Any]:
    from ccplane.app import create_app
    from ccplane.web.keys import SERVICES
    _empty_job_store(settings.database.url)
    app = create_app(settings)
    client = await aiohttp_client(app)
    services = app[SERVICES]
    await services.ami.wait_connected(15)
    await services.ari.wait_connected(15)
    yield client


@pytest.fixture
def services(app_client: Any) -> Any:
    from ccplane.web.keys import SERVICES
    return app_client.server.app[SERVICES]


@pytest.fixture
async def root(app_client: Any, services: Any) -> ApiCaller:
    username, password = f"root-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    await services.auth.create_root(username, password)
    caller = await ApiCaller(app_client).login(username, password)
    caller.username = username  # type: ignore[attr-defined]
    return caller


@pytest.fixture
async def domain(root: ApiCaller) -> str:
    slug = f"t{secrets.token_hex(4)}"
    await root.ok("POST", "/domains", {"slug": slug, "name": f"Test {slug}"}, 201)
    return slug


@pytest.fixture
async def other_domain(root: ApiCaller) -> str:
    slug = f"o{secrets.token_hex(4)}"
    await root.ok("POST", "/domains", {"slug": slug, "name": f"Other {slug}"}, 201)
    return slug
