"""Migrations upgrade from empty and downgrade to base (SQLite, and PostgreSQL
when CCPLANE_TEST_DATABASE_URL points at one), and match the models."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from ccplane.db.models import Base
from ccplane.db.session import alembic_config, head_revision


def _sync(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+psycopg", "+psycopg")


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    base = os.environ.get("CCPLANE_TEST_DATABASE_URL", "")
    if base.startswith("postgresql"):
        import psycopg
        name = f"ccplane_mig_{secrets.token_hex(4)}"
        admin = base.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        yield base.rsplit("/", 1)[0] + "/" + name
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'mig.db'}"


def test_upgrade_from_empty_then_downgrade_to_base(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "head")
    engine = create_engine(_sync(fresh_url))
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision(fresh_url)
            assert {"domains", "users", "memberships", "extensions"} <= set(inspect(conn).get_table_names())
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    Base.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
        command.downgrade(cfg, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        command.upgrade(cfg, "head")  # and back up again
    finally:
        engine.dispose()


def test_serve_refuses_an_outdated_schema(fresh_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "CCPLANE_DATABASE_URL": fresh_url, "CCPLANE_SERVER_PORT": "18099"}
    proc = subprocess.run([sys.executable, "-m", "ccplane", "serve"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode != 0
    assert "ccplane db upgrade" in proc.stderr


def test_invalid_setting_fails_at_start_naming_the_key(tmp_path: Path) -> None:
    env = {**os.environ, "CCPLANE_SERVER_PORT": "not-a-port"}
    proc = subprocess.run([sys.executable, "-m", "ccplane", "serve"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert "server.port" in proc.stderr


def test_cli_creates_the_root_account_on_a_fresh_database(fresh_url: str, tmp_path: Path) -> None:
    """The README's first command: `ccplane db upgrade`, then `ccplane user create --root`,
    each in its own process (only what the CLI imports is loaded)."""
    env = {**os.environ, "CCPLANE_DATABASE_URL": fresh_url}
    upgrade = subprocess.run([sys.executable, "-m", "ccplane", "db", "upgrade"], env=env, capture_output=True,
                             text=True, timeout=120, cwd=tmp_path)
    assert upgrade.returncode == 0, upgrade.stderr
    create = subprocess.run([sys.executable, "-m", "ccplane", "user", "create", "--root", "boss", "--password-stdin"],
                            env=env, input="a-long-root-password\n", capture_output=True, text=True, timeout=60,
                            cwd=tmp_path)
    assert create.returncode == 0, create.stderr
    again = subprocess.run([sys.executable, "-m", "ccplane", "user", "create", "--root", "boss", "--password-stdin"],
                           env=env, input="a-long-root-password\n", capture_output=True, text=True, timeout=60,
                           cwd=tmp_path)
    assert again.returncode != 0 and "boss" in again.stderr  # a clear message, not a traceback
    assert "Traceback" not in again.stderr


def test_answered_queue_calls_become_journeys(fresh_url: str) -> None:
    """0011 keeps the call records made before journeys: each becomes a journey with its agent leg."""
    from sqlalchemy import text
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0010")
    engine = create_engine(_sync(fresh_url))
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO domains (id, slug, name, created_at, updated_at) "
                              "VALUES (7, 'old', 'Old', '2026-01-01', '2026-01-01')"))
            conn.execute(text("INSERT INTO queue_calls (domain_id, caller_uniqueid, caller_number, agent_username, "
                              "answered_at, ended_at, talk_seconds, end_reason) VALUES "
                              "(7, '1700.1', '11999990000', 'ana', '2026-01-02 10:00:00', '2026-01-02 10:01:30', "
                              "90.0, 'agent'), (7, NULL, '1133334444', 'bia', '2026-01-02 11:00:00', "
                              "'2026-01-02 11:00:20', 20.0, 'call_timeout')"))
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            calls = conn.execute(text("SELECT call_id, caller, agent, end_reason, talk_seconds, source FROM calls "
                                      "ORDER BY caller DESC")).all()
            legs = conn.execute(text("SELECT kind, agent, result FROM call_legs ORDER BY agent")).all()
    finally:
        engine.dispose()
    assert [tuple(c) for c in calls] == [
        ("1700.1", "11999990000", "ana", "agent_hangup", 90.0, "queue_calls"),
        ("queue-call-2", "1133334444", "bia", "call_timeout", 20.0, "queue_calls")]
    assert [tuple(leg) for leg in legs] == [("agent", "ana", "agent"), ("agent", "bia", "call_timeout")]
