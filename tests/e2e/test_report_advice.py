"""The report index advisor in the browser: the designer asks for the plan, sees the proposal, adds the index
to the entity's draft and comes back to the report; at 1366 px and 390 px, no CSP violation.

Screenshots go to $LOWCODE_TEST_ARTIFACTS/report_advice (default: a temporary directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.live import CHROMIUM, live_server, require_browser, shots_folder, sign_in
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations
from tests.integration.reports.bundle import install
from tests.integration.reports.test_report_index_advice import PINNED


@pytest.fixture
def server(app, api):
    require_browser()
    install(app, api)
    assert api.put("/api/definitions/shop/report/confirmed_by_customer", json=PINNED).status_code in (
        200,
        201,
    )
    with live_server(app) as url:
        yield url


@pytest.fixture
def shots(tmp_path) -> Path:
    return shots_folder(tmp_path, "report_advice")


def test_the_designer_reads_the_plan_and_adds_the_index(server, shots):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        path = "/design/shop/reports/confirmed_by_customer"
        url = f"{server}{path}"
        sign_in(page, server, "admin", ADMIN_PASSWORD, path)
        with page.expect_navigation():
            page.click("a.report-advice-link")
        proposal = page.locator("form.report-index-proposal[data-entity='order']")
        assert proposal.get_attribute("data-fields") == "status"
        assert page.locator("pre.report-plan").inner_text().strip()
        page.screenshot(path=str(shots / "advice_en_1366.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(shots / "advice_en_390.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})
        with page.expect_navigation():
            proposal.locator("button[type=submit]").click()
        assert page.url.startswith(url + "?indexed=1")
        assert page.locator("[role=status]").count() >= 1
        page.screenshot(path=str(shots / "added_en_1366.png"), full_page=True)
        assert _csp_violations(page, console) == []
        browser.close()
