"""Issue 13, prompts upload and playback, in real chromium against the real sandbox:
a supervisor uploads a WAV and an MP3 on /admin/prompts (a file that is not audio is
refused at its field), plays it in the page's player, picks it in the IVR editor's
prompt field, and a real call through that IVR has Asterisk play the converted
file; deleting it while the IVR plays it is refused naming the node (page and API)."""
from __future__ import annotations

import secrets
import subprocess
import time
import wave
from pathlib import Path
from typing import Any

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)
import pytest

from tests.e2e.browser import axe_violations, launch, login, require_chromium, shot
from tests.integration.conftest import scene  # noqa: F401 - the real-sandbox Scene fixture
from tests.support.api import ApiCaller, assert_error
from tests.support.ivr import Caller


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


def _sound(path: Path, seconds: float, rate: str = "44100", channels: str = "2") -> Path:
    subprocess.run(["sox", "-n", "-r", rate, "-c", channels, str(path), "synth", str(seconds), "sine", "440"],
                   check=True, timeout=60)
    return path


async def _play(page: Any, name: str) -> float:
    """Load the row's <audio> and play it (muted: no user gesture needed); its duration."""
    return float(await page.evaluate("""async (name) => {
        const a = document.querySelector(`tr[data-prompt="${name}"] audio`);
        if (a.readyState < 1) await new Promise((ok, ko) => { a.addEventListener('loadedmetadata', ok);
                                                               a.addEventListener('error', () => ko(new Error('audio error'))); a.load(); });
        a.muted = true; await a.play();
        await new Promise(ok => { const t = setInterval(() => { if (a.currentTime > 0.2) { clearInterval(t); ok(); } }, 50); });
        a.pause();
        return a.duration;
    }""", name))


async def test_upload_play_use_in_an_ivr_and_asterisk_plays_it(app_client: Any, root: ApiCaller, scene: Any,  # noqa: F811
                                                                sandbox: Any, tmp_path: Path) -> None:
    domain = scene.domain
    username, password = f"sv{secrets.token_hex(3)}", secrets.token_urlsafe(10)
    await root.ok("POST", f"/domains/{domain}/users",
                  {"username": username, "name": "Sara Supervisora", "role": "supervisor", "password": password}, 201)
    wav = _sound(tmp_path / "boas-vindas.wav", 2.5)
    mp3 = _sound(tmp_path / "musica.mp3", 1.5)
    junk = tmp_path / "nota.wav"
    junk.write_bytes(b"isto nao e um audio " * 50)
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(viewport={"width": 1366, "height": 900})).new_page()
            await login(page, base, username, password, "/admin/prompts")
            await page.wait_for_selector("#no-prompts")
            assert await axe_violations(page) == []

            # not audio: refused at the file field, nothing stored
            await page.fill("#f-name", "nota")
            await page.set_input_files("#f-file", str(junk))
            await page.click("#upload button[type=submit]")
            await page.wait_for_selector("#e-file:has-text('O arquivo precisa ser um som WAV ou MP3.')")
            await page.wait_for_selector(".error-summary a[href='#f-file']")
            assert await axe_violations(page) == []
            assert await root.ok("GET", f"/domains/{domain}/prompts") == []
            # an upload without the session's CSRF token (the form's first field): 403, nothing stored
            status = await page.evaluate("""async () => { const f = new FormData(); f.append('name', 'sem-token');
                f.append('file', new Blob(['RIFF'], {type: 'audio/wav'}), 'x.wav');
                return (await fetch('/admin/prompts/new', {method: 'POST', body: f})).status; }""")
            assert status == 403
            assert await root.ok("GET", f"/domains/{domain}/prompts") == []

            for name, path in (("boas-vindas", wav), ("musica", mp3)):
                await page.fill("#f-name", name)
                await page.set_input_files("#f-file", str(path))
                await page.click("#upload button[type=submit]")
                await page.wait_for_selector(f"tr[data-prompt='{name}']")
            assert await root.ok("GET", f"/domains/{domain}/prompts") == ["boas-vindas", "musica"]
            assert 2.3 < await _play(page, "boas-vindas") < 2.7
            assert 1.3 < await _play(page, "musica") < 1.7
            assert (await page.text_content("tr[data-prompt='boas-vindas'] .num") or "").strip() == "2,5 s"
            await shot(page, tmp_path, "admin-prompts.png", full_page=True)
            assert await axe_violations(page) == []

            # the IVR editor offers the uploaded prompts in its prompt fields
            await page.goto(base + "/admin/ivrs/new?name=boas")
            await page.wait_for_selector("#ivr-editor[data-prompts='2']")
            await page.select_option("fieldset[data-path=root] > .row select", "play")
            prompt = page.locator("fieldset[data-path=root] > .row [data-path='root.prompt'] input")
            assert await prompt.get_attribute("list") == "ivr-prompts"
            offered = await page.eval_on_selector_all("#ivr-prompts option", "os => os.map(o => o.value)")
            assert offered == ["boas-vindas", "musica"]
            await prompt.fill("boas-vindas")
            await page.click("#ivr-save")
            await page.wait_for_selector("#ivr-saved:visible")
            saved = await root.ok("GET", f"/domains/{domain}/ivrs/boas")
            assert saved["root"]["prompt"] == "boas-vindas"

            # a real call through the IVR: Asterisk plays the converted file to its end
            did = "5521" + str(secrets.randbelow(10**7)).zfill(7)
            await root.ok("POST", f"/domains/{domain}/routes",
                          {"did": did, "destination": {"type": "ivr", "target": "boas"}}, 201)
            log = Path(sandbox.config_dir).parent / "log" / "messages.log"
            log_start = log.stat().st_size if log.exists() else 0
            caller = await Caller(scene.services, scene.recorder, did).dial()
            try:
                played = await scene.recorder.wait_for("Newexten", Uniqueid=caller.inner, Application="Playback",
                                                       timeout=20)
                assert played[0][1].fields.get("AppData") == f"ccplane/{domain}/boas-vindas"
                started = played[0][0]
                # after the play node: its next (hangup by default) — reached only once the file has played
                after = await scene.recorder.wait_for("Hangup", Uniqueid=caller.inner, timeout=20)
                assert after[0][0] - started >= 2.2, after[0][0] - started  # the 2.5 s file played, not skipped
            finally:
                await caller.hangup()
            text = log.read_bytes()[log_start:].decode(errors="replace") if log.exists() else ""
            missing = [line for line in text.splitlines() if "boas-vindas" in line and "does not exist" in line]
            assert missing == [], missing
            assert (Path(scene.services.prompts.sounds_dir) / "ccplane" / domain / "boas-vindas.wav").is_file()

            # deleting a prompt an IVR plays: refused, naming the node (the page and the API)
            await page.goto(base + "/admin/prompts")
            await page.click("tr[data-prompt='boas-vindas'] button.danger")
            await page.wait_for_selector(".error-summary:has-text('é tocado por nós de URA (boas:root.prompt)')")
            assert await page.locator("tr[data-prompt='boas-vindas']").count() == 1
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-prompts-in-use.png", full_page=True)
            status, body = await root.call("DELETE", f"/domains/{domain}/prompts/boas-vindas")
            assert_error(status, body, 409, "name")
            assert "boas:root.prompt" in body["error"]["message"]
            # one no IVR plays goes
            await page.click("tr[data-prompt='musica'] button.danger")
            await page.wait_for_url(base + "/admin/prompts?deleted=musica")
            assert await page.locator("tr[data-prompt='musica']").count() == 0
            assert await root.ok("GET", f"/domains/{domain}/prompts") == ["boas-vindas"]

            # an agent has no prompts page, player or upload
            ag_user, ag_pass = f"ag{secrets.token_hex(3)}", secrets.token_urlsafe(10)
            await root.ok("POST", f"/domains/{domain}/users",
                          {"username": ag_user, "name": "Ana", "role": "agent", "password": ag_pass}, 201)
            ag = await (await browser.new_context()).new_page()
            await login(ag, base, ag_user, ag_pass, "/agent")
            for url in ("/admin/prompts", "/admin/prompts/boas-vindas/audio", "/admin/prompts.json"):
                resp = await ag.goto(base + url)
                assert resp is not None and resp.status == 403, url
        finally:
            await browser.close()


async def test_prompt_audio_api_and_the_upload_limits(app_client: Any, root: ApiCaller, domain: str,
                                                      tmp_path: Path) -> None:
    """GET …/prompts/{name}/audio serves the converted WAV (whole or a byte range);
    a sound longer than 600 s, or empty, is refused naming the file field."""
    from aiohttp import FormData
    headers = {"Authorization": f"Bearer {root.token}"}

    async def upload(name: str, path: Path) -> tuple[int, Any]:
        form = FormData()
        form.add_field("name", name)
        form.add_field("file", path.read_bytes(), filename=path.name, content_type="application/octet-stream")
        resp = await app_client.post(f"/api/v1/domains/{domain}/prompts", data=form, headers=headers)
        return resp.status, await resp.json()

    status, body = await upload("curto", _sound(tmp_path / "curto.mp3", 1.0))
    assert status == 201, body
    resp = await app_client.get(f"/api/v1/domains/{domain}/prompts/curto/audio", headers=headers)
    data = await resp.read()
    assert resp.status == 200 and resp.headers["Content-Type"] == "audio/wav"
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert abs(len(data) - 44 - 16000) < 400  # 1 s of 8 kHz mono 16-bit
    resp = await app_client.get(f"/api/v1/domains/{domain}/prompts/curto/audio",
                                headers={**headers, "Range": "bytes=0-99"})
    assert resp.status == 206 and len(await resp.read()) == 100
    resp = await app_client.get(f"/api/v1/domains/{domain}/prompts/nada/audio", headers=headers)
    assert_error(resp.status, await resp.json(), 404, "name")
    started = time.monotonic()
    status, body = await upload("longo", _sound(tmp_path / "longo.wav", 601, rate="8000", channels="1"))
    assert_error(status, body, 422, "file")
    assert "600" in body["error"]["message"], body
    empty = tmp_path / "vazio.wav"
    with wave.open(str(empty), "wb") as w:  # a valid WAV that plays nothing
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
    status, body = await upload("vazio", empty)
    assert_error(status, body, 422, "file")
    assert time.monotonic() - started < 60
    assert await root.ok("GET", f"/domains/{domain}/prompts") == ["curto"]
    agent = await root.new_user(domain, "agent")
    status, body = await agent.call("GET", f"/domains/{domain}/prompts/curto/audio")
    assert_error(status, body, 403)
