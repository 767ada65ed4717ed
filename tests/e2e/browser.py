"""Helpers of the browser tests: Debian's chromium through Playwright (never a
downloaded browser), login, screenshots, and axe-core (vendored) on a page."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium")
AXE = Path(__file__).resolve().parents[2] / "ccplane" / "web" / "pages" / "static" / "vendor" / "axe-core" / "axe.min.js"


def require_chromium() -> str:
    """A missing browser is a failure, as every missing real component is."""
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed (scripts/setup.sh installs it)")
    return CHROMIUM


async def launch(p: Any) -> Any:
    return await p.chromium.launch(executable_path=require_chromium(), args=["--no-sandbox"])


async def login(page: Any, base: str, username: str, password: str, nxt: str = "/") -> None:
    await page.goto(f"{base}/login?next={nxt}")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(base + nxt)


async def shot(page: Any, tmp_path: Path, name: str, *, full_page: bool = False) -> Path:
    """Into the test's tmp dir; copied to $CCPLANE_SCREENSHOTS_DIR (e.g. docs/screenshots) when set."""
    path = tmp_path / name
    await page.screenshot(path=str(path), full_page=full_page)
    target = os.environ.get("CCPLANE_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / name)
    return path


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
    }""")
    return list(result)
