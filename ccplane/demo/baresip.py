"""Real SIP phones: one baresip process per phone on loopback, driven over
ctrl_tcp (netstring JSON). Used by the demo's simulated agents and by the tests."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

CONFIG = """poll_method     epoll
sip_listen      127.0.0.1:{sip_port}
audio_player    aufile,/dev/null
audio_source    ausine,440
ausrc_srate     48000
ausrc_channels  2
audio_alert     aufile,/dev/null
module_path     /usr/lib/baresip/modules
module          g711.so
module          ausine.so
module          aufile.so
module          stdio.so
module_app      account.so
module_app      menu.so
module_app      ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{ctrl_port}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bindable(port: int, kinds: tuple[int, ...]) -> bool:
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def phone_ports() -> tuple[int, int]:
    """(sip, ctrl): baresip listens for SIP on sip (UDP and TCP) and for SIP/TLS
    on sip + 1; a taken sip + 1 makes it fail at start ("Address already in use")."""
    while True:
        sip = free_port()
        if sip < 65535 and _bindable(sip, (socket.SOCK_DGRAM, socket.SOCK_STREAM)) \
                and _bindable(sip + 1, (socket.SOCK_STREAM,)):
            ctrl = free_port()
            if ctrl not in (sip, sip + 1):
                return sip, ctrl


class Phone:
    def __init__(self, username: str, password: str, registrar_port: int, *, answer: str = "auto",
                 regint: int = 60) -> None:
        self.username, self.password = username, password
        self.registrar_port = registrar_port
        self.answer, self.regint = answer, regint
        self.sip_port, self.ctrl_port = phone_ports()
        self.dir = Path(tempfile.mkdtemp(prefix="baresip-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Phone":
        exe = shutil.which("baresip")
        assert exe, "baresip is not installed (apt-get install baresip-core)"
        (self.dir / "config").write_text(CONFIG.format(sip_port=self.sip_port, ctrl_port=self.ctrl_port))
        (self.dir / "accounts").write_text(
            f"<sip:{self.username}@127.0.0.1:{self.registrar_port}>;auth_pass={self.password};"
            f"answermode={self.answer};regint={self.regint}\n")
        self.log = open(self.dir / "log", "wb")
        self.proc = subprocess.Popen([exe, "-f", str(self.dir)], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    async def stop_async(self, timeout: float = 5) -> None:
        """``stop`` off the event loop: ccplane's AMI/ARI keep running meanwhile."""
        await asyncio.to_thread(self.stop, signal.SIGTERM, timeout)

    def close(self) -> None:
        self.stop(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def output(self) -> str:
        return (self.dir / "log").read_text(errors="replace")

    async def command(self, command: str, params: str | None = None, *,
                      timeout: float = 10.0) -> dict[str, object]:
        try:
            return await asyncio.wait_for(self._command(command, params), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"baresip gave no answer to {command!r} within {timeout}s; "
                                 f"its log:\n{self.output()[-2000:]}") from None

    async def _command(self, command: str, params: str | None) -> dict[str, object]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.ctrl_port)
        try:
            msg = json.dumps({"command": command, **({"params": params} if params else {})}).encode()
            writer.write(b"%d:%s," % (len(msg), msg))
            await writer.drain()
            length = int((await reader.readuntil(b":"))[:-1])
            data = await reader.readexactly(length + 1)
            reply: dict[str, object] = json.loads(data[:-1])
            return reply
        finally:
            writer.close()


class Control:
    """One lasting ctrl_tcp connection to a phone: baresip 1.0 keeps a single
    control connection (a new one replaces the old), and sends its events (incoming
    call, established, closed) on it, so commands and events share this one."""

    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def open(self, timeout: float = 10.0) -> "Control":
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                reader, self._writer = await asyncio.open_connection("127.0.0.1", self.phone.ctrl_port)
                break
            except OSError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.1)
        self._reader_task = asyncio.create_task(self._read(reader))
        return self

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                length = int((await reader.readuntil(b":"))[:-1])
                message = json.loads((await reader.readexactly(length + 1))[:-1])
                if message.get("event"):
                    self.events.put_nowait(message)
                elif message.get("response"):
                    self._replies.put_nowait(message)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            self.events.put_nowait({"event": True, "type": "CONTROL_CLOSED"})

    async def command(self, command: str, params: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
        async with self._lock:
            assert self._writer is not None, "open() first"
            msg = json.dumps({"command": command, **({"params": params} if params else {})}).encode()
            self._writer.write(b"%d:%s," % (len(msg), msg))
            await self._writer.drain()
            return await asyncio.wait_for(self._replies.get(), timeout)

    async def close(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()
