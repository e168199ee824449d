"""Report export in the browser (issue 16 items 5 and 6), on the JXC template: finance opens the
business-finance difference report (differing days highlighted), downloads it as XLSX (numbers as numbers)
and opens the print view; a large export runs in the background - the progress card refreshes until the
file can be downloaded; the aging report in Chinese; every page no wider than the screen at 1366 and 390 px.

Screenshots go to $LOWCODE_TEST_ARTIFACTS/reportexport (default: a temporary directory). Skipped without
Chromium unless LOWCODE_REQUIRE_SERVICES=1."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lowcode.jobs.runner import JobRunner
from tests.e2e.live import CHROMIUM, live_server, require_browser
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations
from tests.integration.jxc.conftest import PASSWORD, app, jxc, jxc_stages  # noqa: F401 - the JXC fixtures
from tests.integration.jxc.test_documents import delivery, receipt
from tests.integration.jxc.test_reports_difference import revenue_voucher

PERIOD = "param.period.from=2026-11-01&param.period.to=2026-12-31"
SIZES = {1366: {"width": 1366, "height": 900}, 390: {"width": 390, "height": 844}}


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("LOWCODE_TEST_ARTIFACTS") or tmp_path) / "reportexport"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def server(app, jxc):  # noqa: F811 - the JXC app fixture
    require_browser()
    j = jxc
    codes = {a["code"]: a["id"] for a in j.rows("account")}
    receipt(j, j.wh["WH-SH"], j.product["TS-WHT-M"], "100", "10.00", "2026-11-01")
    receipt(j, j.wh["WH-SH"], j.product["JN-BLU-32"], "10", "45.00", "2026-11-01")
    delivery(j, j.wh["WH-SH"], j.product["TS-WHT-M"], "30", "2026-11-02")
    delivery(j, j.wh["WH-SH"], j.product["JN-BLU-32"], "2", "2026-12-03", price="119.00")
    revenue_voucher(j, codes, "2026-11-02", "100.00")
    revenue_voucher(j, codes, "2026-11-15", "50.00")
    with live_server(app) as url:
        yield url


def _sign_in(page, server: str, user: str, lang: str) -> None:
    page.goto(f"{server}/login?next=/a/jxc")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{server}/a/jxc")
    current = page.evaluate("document.documentElement.lang")
    if current.replace("-", "_") != lang:
        page.click(f".language-switcher button[value={lang}]")
        page.wait_for_load_state()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_finance_exports_and_prints_the_difference_report(app, server, shots):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        for lang in ("en", "zh_CN"):
            for width, size in SIZES.items():
                page = browser.new_context(viewport=size, accept_downloads=True).new_page()
                page.add_init_script(WATCH_CSP)
                console: list[str] = []
                page.on("console", lambda message, seen=console: seen.append(message.text))
                _sign_in(page, server, "finance", lang)
                page.goto(f"{server}/a/jxc/reports/business_finance_difference?{PERIOD}")
                expect(page.locator("td.report-flag")).to_have_count(3)  # 11-02, 11-15 and the total
                expect(page.locator("tr.report-total")).to_contain_text("-150.00")
                _fits(page)
                page.screenshot(path=str(shots / f"difference_{lang}_{width}.png"), full_page=True)
                with page.expect_download() as download:
                    page.click("button[data-export=xlsx]")
                sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
                assert [c.value for c in sheet[2]] == ["2026-11-02", 1, 897, 997, -100]
                page.goto(f"{server}/a/jxc/reports/business_finance_difference/print?{PERIOD}")
                expect(page.locator("tr.report-total")).to_contain_text("1,285.00")
                _fits(page)
                page.screenshot(path=str(shots / f"print_{lang}_{width}.png"), full_page=True)
                page.goto(f"{server}/a/jxc/reports/receivables_aging?param.as_of=2027-01-15")
                expect(page.locator("tr.report-pivot")).to_contain_text("31-60")
                _fits(page)
                page.screenshot(path=str(shots / f"aging_{lang}_{width}.png"), full_page=True)
                assert _csp_violations(page, console) == []
                page.context.close()
        browser.close()


def test_a_large_export_in_the_background_with_progress(app, server, shots):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    app.extensions["lowcode"].settings["REPORT_EXPORT_BACKGROUND_ROWS"] = 1
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport=SIZES[390], accept_downloads=True).new_page()
        _sign_in(page, server, "finance", "zh_CN")
        page.goto(f"{server}/a/jxc/reports/business_finance_difference?{PERIOD}")
        with page.expect_navigation():
            page.click("button[data-export=csv]")
        expect(page.locator("#report-export-status")).to_have_attribute("data-status", "queued")
        _fits(page)
        page.screenshot(path=str(shots / "background_queued_zh_390.png"), full_page=True)
        assert JobRunner(app.extensions["lowcode"]).run_all()
        expect(page.locator("#report-export-status")).to_have_attribute("data-status", "done", timeout=5000)
        page.screenshot(path=str(shots / "background_done_zh_390.png"), full_page=True)
        with page.expect_download() as download:
            page.click("a.report-export-download")
        text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
        assert text.splitlines()[1] == "2026-11-02,1,897.00,997.00,-100.00"
        browser.close()
