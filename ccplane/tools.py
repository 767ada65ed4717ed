"""External programs (sox, espeak-ng) run under a deadline: a tool that hangs
must never hold an HTTP request or an alert call forever."""
from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("ccplane.tools")

TOOL_TIMEOUT = 30.0


async def run_tool(*argv: str, timeout: float = TOOL_TIMEOUT) -> tuple[int, str]:
    """Run ``argv``; returns (exit code, stderr text). A run past ``timeout``
    is killed and reported as exit code -1 with a message saying so."""
    proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await asyncio.wait([asyncio.ensure_future(proc.wait())], timeout=5)
        log.warning("tool.timeout %s after %.0f s", argv[0], timeout)
        return -1, f"{argv[0]} did not finish within {timeout:.0f} s"
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()  # SIGKILL: the reaper collects it; never wait here
        raise
    assert proc.returncode is not None
    return proc.returncode, err.decode(errors="replace")
