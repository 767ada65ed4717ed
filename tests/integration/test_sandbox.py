"""The local Asterisk sandbox, against the real chroot (needs root).

These tests fail, never skip, when the sandbox cannot start: everything else in
tests/integration depends on it. The default instance is left running.
"""
from __future__ import annotations

import dataclasses
import os
import socket
import stat

import pytest

from ccplane.asterisk.sandbox import Sandbox, SandboxState
from ccplane.errors import SandboxError
from ccplane.settings import SandboxSettings, load_settings

pytestmark = pytest.mark.integration


def _quiet(_msg: str) -> None:
    pass


@pytest.fixture(scope="module")
def settings() -> SandboxSettings:
    return load_settings().sandbox


@pytest.fixture(scope="module")
def default(settings: SandboxSettings) -> tuple[Sandbox, SandboxState]:
    sandbox = Sandbox(settings, progress=_quiet)
    return sandbox, sandbox.up()


def _free_ports(count: int) -> list[int]:
    """Loopback ports free for TCP and UDP right now."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        if port not in ports:
            ports.append(port)
    return ports


def test_up_is_idempotent_and_keeps_credentials(settings, default):
    sandbox, first = default
    assert first.pid is not None
    again = Sandbox(settings, progress=_quiet).up()
    assert again == first
    assert sandbox.load_state() == first
    assert first.ari_url == f"http://127.0.0.1:{first.http_port}"
    assert first.ami_secret and first.ari_password and first.ami_secret != first.ari_password


def test_status_reports_a_live_asterisk_22(default):
    sandbox, state = default
    st = sandbox.status()
    assert st["running"] is True
    assert st["pid"] == state.pid
    assert st["version"] and st["version"].startswith("22"), st["version"]
    assert st["ami"] is True
    assert st["ari"] is True
    assert st["ami_secret"] == state.ami_secret and st["ari_password"] == state.ari_password
    assert st["config_dir"] == state.config_dir


def test_cli(default):
    sandbox, state = default
    assert "Asterisk 22" in sandbox.cli("core show version")
    transports = sandbox.cli("pjsip show transports")
    assert f"127.0.0.1:{state.sip_port}" in transports
    assert "transport-ws" in transports
    with pytest.raises(SandboxError) as err:
        sandbox.cli("no such thing here")
    assert err.value.step == "cli"


def test_instance_files(default):
    sandbox, state = default
    etc = sandbox.instance_dir / "etc"
    assert state.config_dir == str(etc)
    for name in ("manager.conf", "ari.conf"):
        assert stat.S_IMODE(os.stat(etc / name).st_mode) == 0o640
    assert state.ami_secret in (etc / "manager.conf").read_text()
    assert stat.S_IMODE(os.stat(sandbox.instance_dir / "state.json").st_mode) == 0o600
    for name in ("pjsip.conf", "extensions.conf", "queues.conf"):
        assert (etc / "ccplane" / name).is_file()
    modules = sandbox.cli("module show like res_ari")
    assert "res_ari_channels.so" in modules and "Running" in modules


def test_second_instance_runs_beside_default_and_stops_alone(settings, default):
    sandbox, state = default
    ami, http, sip = _free_ports(3)
    side_settings = dataclasses.replace(settings, name="pytest-side", ami_port=ami,
                                        http_port=http, sip_port=sip,
                                        rtp_start=12000, rtp_end=12099)
    side = Sandbox(side_settings, progress=_quiet)
    try:
        side_state = side.up()
        assert side_state.pid is not None and side_state.pid != state.pid
        assert (side_state.ami_port, side_state.http_port, side_state.sip_port) == (ami, http, sip)
        assert side_state.ami_secret != state.ami_secret
        st = side.status()
        assert st["running"] and st["ami"] and st["ari"], st
        assert f"127.0.0.1:{sip}" in side.cli("pjsip show transports")
        assert sandbox.status()["ari"] is True

        assert side.down() is True
        assert side.status()["running"] is False
        assert side.load_state().pid is None
        assert side.down() is False
    finally:
        side.down()
    after = sandbox.status()
    assert after["running"] is True and after["pid"] == state.pid
    assert after["ami"] is True
