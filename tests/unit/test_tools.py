import asyncio
import sys
import time

from ccplane.tools import run_tool


async def test_run_tool_reports_exit_code_and_stderr() -> None:
    code, err = await run_tool(sys.executable, "-c", "import sys; sys.stderr.write('bad input'); sys.exit(3)")
    assert code == 3
    assert err == "bad input"


async def test_run_tool_kills_a_hung_program() -> None:
    started = time.monotonic()
    code, err = await run_tool(sys.executable, "-c", "import time; time.sleep(60)", timeout=0.5)
    assert code == -1
    assert "did not finish within" in err
    assert time.monotonic() - started < 10


async def test_cancelling_run_tool_kills_the_program() -> None:
    marker = "import time; time.sleep(60)"
    task = asyncio.ensure_future(run_tool(sys.executable, "-c", marker))
    await asyncio.sleep(0.3)
    task.cancel()
    started = time.monotonic()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert time.monotonic() - started < 5
    # SIGKILL is sent at once but the kernel takes a moment to end the
    # process; a program still sleeping after 5 s was not killed.
    deadline = time.monotonic() + 5
    while _living(marker) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not _living(marker)


def _living(marker: str) -> list[int]:
    import psutil
    living = []
    for p in psutil.process_iter(["cmdline", "status"]):
        if p.info["cmdline"] and marker in p.info["cmdline"] and p.info["status"] not in (
                psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            living.append(p.pid)
    return living
