"""The generic pages in a real browser at phone width (375 px): sign in, list, create an order with lines.
The browser reports no Content-Security-Policy violation on the way (the pages need no inline code).

Runs headless Chromium (Debian's package, driven by Playwright). Without Chromium the test is skipped with
the reason - unless LOWCODE_REQUIRE_SERVICES=1 (CI), where that is a failure. `make setup` installs it.
"""

from __future__ import annotations

import re

import pytest

from lowcode.commands import install_template
from tests.e2e.live import CHROMIUM, ROOT, live_server, require_browser

PHONE = {"width": 375, "height": 812}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture
def server(app):
    require_browser()
    install_template(app, ROOT / "app_templates" / "demo")
    with live_server(app) as url:
        yield url


def _overflow(page) -> int:
    """How many CSS pixels the page is wider than the screen (0 = nothing to scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth") - PHONE["width"]


# Runs before the page's own scripts and outside its CSP: records each violation the browser reports.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber));
"""


def _csp_violations(page, console: list[str]) -> list[str]:
    """What the page and the console reported as blocked by the Content-Security-Policy so far."""
    return page.evaluate("window.__csp") + [m for m in console if "Content Security Policy" in m]


def _pick(page, control, text: str) -> None:
    """Choose the first option a link picker offers for ``text`` (options come from the server)."""
    control.click()
    if text:
        control.press_sequentially(text)
    page.locator(".ts-dropdown .option:visible").first.click()


def test_phone_width_sign_in_list_and_create_order_with_lines(server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{server}/a/demo/order")
        assert "/login" in page.url
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "root-pass-2026")
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{server}/a/demo/order")
        assert page.locator("tbody tr").count() >= 12
        assert _overflow(page) <= 1, "the list page scrolls sideways at phone width"
        page.screenshot(path=str(tmp_path / "list.png"))
        with page.expect_response(lambda r: "q=SO" in r.url):  # htmx live search: an XHR and a swap
            page.locator("input[name=q]").press_sequentially("SO-")
        assert _csp_violations(page, console) == []

        page.goto(f"{server}/a/demo/order/new")
        assert _overflow(page) <= 1, "the form scrolls sideways at phone width"
        _pick(page, page.locator("#f-customer-ts-control"), "Silk")  # the link picker: type, choose
        page.fill("input[name=order_date]", "2026-11-21")
        page.click("[data-child-table=lines] [data-add-row]")
        page.click("[data-child-table=lines] [data-add-row]")
        rows = page.locator("[data-child-table=lines] tbody tr.child-row")
        assert rows.count() == 2
        for i, (qty, price) in enumerate([("2", "10.50"), ("1", "0.99")]):
            row = rows.nth(i)
            _pick(page, row.locator(".ts-control input"), "")
            row.locator("input[name$='-qty']").fill(qty)
            row.locator("input[name$='-unit_price']").fill(price)
        # the server computes the amounts and the total as the lines are typed, before saving
        page.locator("form.record-form output", has_text="21.99").first.wait_for(timeout=10000)
        assert rows.nth(0).locator("output").first.inner_text() == "21.00"
        assert _overflow(page) <= 1, "the form scrolls sideways at phone width"
        page.click("form.record-form button[type=submit]")
        page.wait_for_url(re.compile(r".*/a/demo/order/\d+$"))  # the new record's page, not the form itself
        page.screenshot(path=str(tmp_path / "detail.png"))
        body = page.inner_text("body")
        assert "21.99" in body and "SO-" in body
        assert _overflow(page) <= 1, "the detail page scrolls sideways at phone width"
        assert _csp_violations(page, console) == []
        browser.close()
