#!/usr/bin/env python
"""``ccplane serve`` under yappi (CPU clock, every thread): a profiling aid for the
benchmarks, not part of the product. ``bench/sip_load.py --profile`` runs ccplane
through it; at exit (SIGTERM: aiohttp shuts down gracefully) it writes the
stats as pstat to ``$CCPLANE_PROFILE_OUT`` and prints the top functions by own
time and by total time to ``$CCPLANE_PROFILE_OUT.txt``. A SIGUSR1 starts the
stats afresh: sip_load.py sends one when its steps start, so the set-up (users,
extensions, agent logins) is left out.

yappi must be installed in the environment (``pip install yappi``); it slows
the process about 2x, so read shares, not absolute figures.
"""
from __future__ import annotations

import asyncio
import collections
import gc
import io
import os
import pstats
import signal
import sys
import time
from typing import Any

import yappi  # type: ignore[import-not-found]


def _count_statements() -> collections.Counter[str]:
    """Every SQL statement ccplane runs, counted by its text (first 90 characters)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    counts: collections.Counter[str] = collections.Counter()

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool) -> None:
        counts[("MANY " if many else "") + " ".join(statement.split())[:90]] += 1
    return counts


class _Stalls:
    """Event-loop stalls (a 5 ms sleep that overshoots) and garbage-collector pauses,
    to tell what holds the loop: written to ``$CCPLANE_PROFILE_OUT.stalls.txt``."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.gc: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc[int(info["generation"])].append((time.perf_counter() - self._gc_start) * 1000)

    async def run(self, _app: Any) -> None:
        asyncio.get_running_loop().create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.005)
            self.lags.append((time.perf_counter() - t0 - 0.005) * 1000)

    def report(self) -> str:
        lags = sorted(self.lags) or [0.0]
        out = [f"loop stalls (5 ms sleep overshoot), {len(lags)} samples: p50 {lags[len(lags) // 2]:.1f} ms, "
               f"p99 {lags[int(len(lags) * 0.99)]:.1f} ms, max {lags[-1]:.1f} ms, "
               f">20 ms: {sum(1 for x in lags if x > 20)}, >50 ms: {sum(1 for x in lags if x > 50)}"]
        for gen, pauses in self.gc.items():
            if pauses:
                out.append(f"gc gen{gen}: {len(pauses)} collections, total {sum(pauses):.0f} ms, "
                           f"max {max(pauses):.1f} ms")
        return "\n".join(out) + "\n"


def main() -> int:
    out = os.environ.get("CCPLANE_PROFILE_OUT", "ccplane.prof")
    if os.environ.get("CCPLANE_PROFILE_MODE") == "stalls":  # no yappi: it would cause the stalls it measures
        import ccplane.app as app_module
        stalls = _Stalls()
        create_app = app_module.create_app

        def create_app_with_monitor(*args: Any, **kwargs: Any) -> Any:
            app = create_app(*args, **kwargs)
            app.on_startup.append(stalls.run)
            return app
        app_module.create_app = create_app_with_monitor  # type: ignore[assignment]
        from ccplane.__main__ import main as ccplane_main
        try:
            return ccplane_main(["serve", *sys.argv[1:]])
        finally:
            with open(out + ".stalls.txt", "w") as fh:
                fh.write(stalls.report())
    statements = _count_statements()
    yappi.set_clock_type("cpu")
    yappi.start(builtins=True, profile_threads=True)

    def _restart(_signum: int, _frame: Any) -> None:
        """SIGUSR1 (sip_load.py sends it when the measured steps start): forget the
        set-up (users, extensions, logins) so the stats cover the load alone."""
        yappi.stop()
        yappi.clear_stats()
        statements.clear()
        yappi.start(builtins=True, profile_threads=True)
    signal.signal(signal.SIGUSR1, _restart)
    code = 0
    try:
        from ccplane.__main__ import main as ccplane_main
        code = ccplane_main(["serve", *sys.argv[1:]])
    finally:
        yappi.stop()
        stats = yappi.get_func_stats()
        stats.save(out, type="pstat")
        text = io.StringIO()
        p = pstats.Stats(out, stream=text)
        p.sort_stats("tottime").print_stats(45)
        p.sort_stats("cumulative").print_stats(60)
        text.write("\nSQL statements (count, text):\n")
        for statement, n in statements.most_common(80):
            text.write(f"  {n:7d} {statement}\n")
        text.write("\nthreads:\n")
        for t in yappi.get_thread_stats():
            text.write(f"  {t.name} id={t.id} ttot={t.ttot:.2f}s scheduled={t.sched_count}\n")
        with open(out + ".txt", "w") as fh:
            fh.write(text.getvalue())
    return code


if __name__ == "__main__":
    sys.exit(main())
