"""The report page in the browser: the Reports menu, the parameter form (dates, the link picker), the result
with subtotals and totals, the pivot report, the designer's preview; in English and Chinese at 1366 and 390 px
(the page is not wider than a phone - the table scrolls inside its box; the CSP is kept).

Headless Chromium driven by Playwright (skipped without Chromium unless LOWCODE_REQUIRE_SERVICES=1).
Screenshots go to $LOWCODE_TEST_ARTIFACTS/reports (default: a temporary directory)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.live import CHROMIUM, live_server, require_browser
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations
from tests.integration.reports.bundle import PASSWORD, PERIOD, install


@pytest.fixture
def server(app, api):
    require_browser()
    install(app, api)
    with live_server(app) as url:
        yield url


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("LOWCODE_TEST_ARTIFACTS") or tmp_path) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shot(page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True, caret="initial")


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _sign_in(page, server: str, user: str, password: str) -> None:
    page.goto(f"{server}/login?next=/a/shop")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{server}/a/shop")


def test_report_page_as_a_clerk_and_as_admin(server, shots):
    from playwright.sync_api import expect, sync_playwright

    from tests.conftest import ADMIN_PASSWORD

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        _sign_in(page, server, "admin", ADMIN_PASSWORD)
        page.click("li[data-menu-group=_reports] > a")
        with page.expect_navigation():
            page.click("a[data-report=sales]")
        page.fill("input[name='param.period.from']", "2026-01-01")
        page.fill("input[name='param.period.to']", "2026-02-28")
        with page.expect_navigation():
            page.click("form.report-params button[type=submit]")
        expect(page.locator("tr.report-total")).to_contain_text("93.33")
        expect(page.locator("tr[data-level=subtotal]")).to_have_count(2)
        _shot(page, shots / "sales_en_1366.png")
        page.click("[data-param=customer] .ts-control")
        page.keyboard.type("Be")
        page.locator(".ts-dropdown .option", has_text="Beta").click()
        page.keyboard.press("Escape")
        with page.expect_navigation():
            page.locator("form.report-params").evaluate("form => form.requestSubmit()")
        expect(page.locator("tr.report-total")).to_contain_text("10.00")
        page.click(".language-switcher button[value=zh_CN]")
        page.wait_for_load_state()
        expect(page.locator("h1")).to_have_text("按客户和月份的销售")
        page.goto(f"{server}/a/shop/reports/product_pivot")
        expect(page.locator("tr.report-pivot")).to_contain_text("2026-02")
        _shot(page, shots / "pivot_zh_1366.png")
        page.set_viewport_size({"width": 390, "height": 844})
        _fits(page)
        _shot(page, shots / "pivot_zh_390.png")
        page.goto(f"{server}/design/shop/reports/sales?{PERIOD}")
        expect(page.locator(".report-preview tr.report-total")).to_contain_text("93.33")
        _fits(page)
        _shot(page, shots / "designer_zh_390.png")
        page.set_viewport_size({"width": 1366, "height": 900})
        _shot(page, shots / "designer_zh_1366.png")
        assert _csp_violations(page, console) == []
        browser.close()

        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        _sign_in(page, server, "kim", PASSWORD)
        page.goto(f"{server}/a/shop/reports/sales?{PERIOD}")
        expect(page.locator("tr.report-total")).to_contain_text("30.00")
        _fits(page)
        _shot(page, shots / "sales_clerk_en_390.png")
        browser.close()
