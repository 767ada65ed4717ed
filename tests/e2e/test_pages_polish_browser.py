"""Pages polish in real chromium: a monitoring group named with "/" and other reserved
characters is edited through its link; uploads over the limit (a prompt over 20 MB, a
contacts CSV over 4 MB) come back as the page with the pt-BR message naming the limit
at the file field (the browser still sending the file when refused); a refused save
shows the API's refusal in pt-BR; the callbacks page in the domain's own time zone.
axe-core on every page; screenshots."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import playwright.async_api as playwright_api  # missing, the run fails (never a skip)
import pytest

from tests.e2e.browser import axe_violations, launch, login, require_chromium, shot
from tests.e2e.test_admin_ops_browser import _user
from tests.support.api import ApiCaller


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


async def test_group_with_reserved_characters_refusals_in_pt_br_and_the_domains_zone(
        app_client: Any, root: ApiCaller, domain: str, tmp_path: Path) -> None:
    await root.ok("PATCH", f"/domains/{domain}", {"timezone": "Asia/Tokyo"})
    for q in ("suporte", "vendas"):
        await root.ok("POST", f"/domains/{domain}/queues", {"name": q}, 201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "Norte/Sul & Centro?", "queues": ["suporte"]},
                  201)
    await root.ok("POST", f"/domains/{domain}/monitoring-groups", {"name": "Comercial", "queues": ["vendas"]}, 201)
    await root.ok("POST", f"/domains/{domain}/callbacks", {"number": "11987654321", "at": "2027-01-10T20:00:00Z",
                                                           "queue": "suporte", "note": "retornar após o almoço"}, 201)
    admin, password = await _user(root, domain, "admin", "Alice Administradora")
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 860}, locale="pt-BR")).new_page()
            await login(page, base, admin, password, "/admin/monitoring-groups")
            await page.click("tr[data-group='Norte/Sul & Centro?'] a.button")
            await page.wait_for_url(base + "/admin/monitoring-groups/Norte%2FSul%20%26%20Centro%3F")
            assert await page.input_value("#f-name") == "Norte/Sul & Centro?"
            # taking a queue another group covers: refused in pt-BR at the queues field, nothing written
            await page.check("input[name=queues][value=vendas]")
            await page.click("form.card button[type=submit]")
            await page.wait_for_selector("#e-queues:has-text('A fila vendas já pertence ao grupo de monitoramento "
                                         "Comercial.')")
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-group-refused-pt-br.png", full_page=True)
            group = await root.ok("GET", f"/domains/{domain}/monitoring-groups/Norte%2FSul%20%26%20Centro%3F")
            assert group["queues"] == ["suporte"]
            await page.uncheck("input[name=queues][value=vendas]")
            await page.fill("#f-name", "Norte/Sul")
            await page.click("form.card button[type=submit]")
            await page.wait_for_selector("tr[data-group='Norte/Sul']")
            assert (await root.ok("GET", f"/domains/{domain}/monitoring-groups/Norte%2FSul"))["queues"] == ["suporte"]
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-groups-reserved-characters.png", full_page=True)
            # the callbacks page: Tokyo's wall clock (20:00 UTC on the 10th is 05:00 on the 11th there)
            await page.goto(base + "/admin/callbacks")
            assert "Asia/Tokyo" in (await page.inner_text("main"))
            assert "11/01/2027 05:00" in (await page.inner_text("tr[data-callback] [data-at]"))
            assert await page.input_value("tr[data-callback] input[name=at]") == "2027-01-11T05:00"
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-callbacks-domain-zone.png", full_page=True)
        finally:
            await browser.close()


async def test_uploads_over_the_limit_show_the_limit_at_the_file_field(app_client: Any, root: ApiCaller,
                                                                      domain: str, tmp_path: Path) -> None:
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "cobranca"}, 201)
    campaign = await root.ok("POST", f"/domains/{domain}/campaigns", {"name": "Cobrança dezembro",
                                                                       "queue": "cobranca"}, 201)
    big_wav = tmp_path / "vinheta-longa.wav"
    big_wav.write_bytes(b"RIFF" + b"\0" * (21 * 1024 * 1024))
    big_csv = tmp_path / "contatos.csv"
    big_csv.write_bytes(b"numero,nome\n" + b"11987654321,Fulano de Tal\n" * (5 * 1024 * 1024 // 26))
    sup, password = await _user(root, domain, "supervisor", "Sara Supervisora")
    base = str(app_client.make_url("/")).rstrip("/")
    async with playwright_api.async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 860}, locale="pt-BR")).new_page()
            await login(page, base, sup, password, "/admin/prompts")
            await page.fill("#f-name", "vinheta")
            await page.set_input_files("#f-file", str(big_wav))
            async with page.expect_response(lambda r: r.url.endswith("/admin/prompts/new")) as answer:
                await page.click("#upload button[type=submit]")
            assert (await answer.value).status == 413
            await page.wait_for_selector("#e-file:has-text('O arquivo passa do limite de 20 MB. Envie um arquivo "
                                         "menor.')")
            await page.wait_for_selector(".error-summary a[href='#f-file']")
            assert await page.get_attribute("#f-file", "aria-invalid") == "true"
            assert await axe_violations(page) == []
            await shot(page, tmp_path, "admin-prompts-too-large.png", full_page=True)
            assert await root.ok("GET", f"/domains/{domain}/prompts") == []

            await page.goto(f"{base}/admin/campaigns/{campaign['id']}")
            await page.set_input_files("#f-file", str(big_csv))
            async with page.expect_response(lambda r: r.url.endswith("/contacts")) as answer:
                await page.click("#contacts-upload button[type=submit]")
            assert (await answer.value).status == 413
            await page.wait_for_selector("#e-file:has-text('O arquivo passa do limite de 4 MB. Envie um arquivo "
                                         "menor.')")
            await page.wait_for_selector(".error-summary a[href='#f-file']:has-text('Arquivo CSV')")
            assert await axe_violations(page) == []
            await page.locator("#contacts-upload").scroll_into_view_if_needed()
            await shot(page, tmp_path, "admin-campaign-csv-too-large.png")
            assert (await root.ok("GET", f"/domains/{domain}/campaigns/{campaign['id']}"))["contacts"] == 0
        finally:
            await browser.close()
