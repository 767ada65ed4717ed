"""Two deployments (two databases) pointed at one Asterisk: the second is
refused, with a message, instead of overwriting the first's configuration —
unless told to take it over."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command

from ccplane.app import render_contributions
from ccplane.asterisk.render import OWNER_FILE, NotOwner, Renderer
from ccplane.asterisk.sandbox import SandboxState
from ccplane.db.identity import deployment_id
from ccplane.db.session import alembic_config, create_engine, session_factory
from ccplane.settings import Settings


async def _renderer(url: str, config_dir: str, take_over: bool = False) -> tuple[Renderer, object]:
    engine = create_engine(url)
    renderer = Renderer(session_factory(engine), Path(config_dir), contributions=render_contributions())
    renderer.owner, renderer.take_over = await deployment_id(session_factory(engine)), take_over
    return renderer, engine


@pytest.fixture
def other(tmp_path: Path) -> str:
    """A second deployment's database (migrated outside the event loop: Alembic runs its own)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    command.upgrade(alembic_config(url), "head")
    return url


async def test_a_second_deployment_is_refused_unless_it_takes_over(settings: Settings, sandbox: SandboxState,
                                                                   other: str) -> None:
    ours, ours_engine = await _renderer(settings.database.url, sandbox.config_dir, take_over=True)
    theirs, theirs_engine = await _renderer(other, sandbox.config_dir)
    try:
        assert ours.owner != theirs.owner  # one id per database
        await ours.apply()  # this deployment renders (and owns the sandbox)
        owner = Path(sandbox.config_dir) / "ccplane" / OWNER_FILE
        assert json.loads(owner.read_text())["deployment"] == ours.owner
        before = {p.name: p.read_bytes() for p in owner.parent.glob("*.conf")}
        with pytest.raises(NotOwner, match="take_over"):
            await theirs.apply()
        assert {p.name: p.read_bytes() for p in owner.parent.glob("*.conf")} == before  # nothing overwritten

        env = {**os.environ, "CCPLANE_DATABASE_URL": other, "CCPLANE_ASTERISK_TAKE_OVER": "0"}
        cli = subprocess.run([sys.executable, "-m", "ccplane", "render"], env=env, capture_output=True, text=True,
                             timeout=60)
        assert cli.returncode == 1 and "another ccplane deployment" in cli.stderr, cli

        theirs.take_over = True
        await theirs.apply()
        assert json.loads(owner.read_text())["deployment"] == theirs.owner
    finally:
        await ours.apply()  # give the sandbox back to the suite's deployment
        await ours_engine.dispose()  # type: ignore[attr-defined]
        await theirs_engine.dispose()  # type: ignore[attr-defined]
