"""The mapping designer in the browser: from the app's designer page to its mappings, a mapping's entries and
JSON, a pasted payload previewed (the record, its lines, a product to create; a second item with its errors by
source path), a record of the source table previewed; looked at in English and Chinese at 1366 and 390 px (the
page is not wider than a phone; the CSP is kept).

Headless Chromium driven by Playwright (skipped without Chromium unless LOWCODE_REQUIRE_SERVICES=1).
Screenshots go to $LOWCODE_TEST_ARTIFACTS/mapping_designer (default: a temporary directory)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.live import CHROMIUM, live_server, require_browser, shots_folder, sign_in
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations
from tests.integration.mappings.bundle import PAYLOAD, install

PAGE = "/design/shop/mappings/shop_order"


@pytest.fixture
def server(app, api):
    require_browser()
    install(app, api)
    api.post("/api/data/shop/order", json={"customer": 1, "note": "first", "lines": [{"qty": 3}]})
    with live_server(app) as url:
        yield url


@pytest.fixture
def shots(tmp_path) -> Path:
    return shots_folder(tmp_path, "mapping_designer")


def _shot(page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True, caret="initial")


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_preview_a_payload_and_a_record_in_the_mapping_designer(server, shots):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        sign_in(page, server, "admin", ADMIN_PASSWORD, "/design/shop")

        with page.expect_navigation():
            page.click("a.design-mappings-link")
        expect(page.locator("tr[data-mapping=shop_order]")).to_be_visible()
        _shot(page, shots / "mappings_en_1366.png")
        with page.expect_navigation():
            page.click("tr[data-mapping=shop_order] a")
        assert page.url == f"{server}{PAGE}"
        expect(page.locator("table.mapping-entries tr[data-at]")).to_have_count(9)

        bad = {**PAYLOAD, "order_id": "W-2", "buyer": {"code": "NOPE"}}
        page.fill("#mapping-sample", json.dumps([PAYLOAD, bad], indent=1))
        with page.expect_navigation():
            page.click("form.mapping-preview-form button[type=submit]")
        expect(page.locator(".preview-item[data-ok=yes]")).to_have_count(1)
        expect(page.locator(".preview-item[data-ok=no] .preview-errors")).to_contain_text("buyer.code")
        expect(page.locator(".preview-item[data-ok=yes] .preview-creates")).to_contain_text("NEW-1")
        _shot(page, shots / "mapping_preview_en_1366.png")

        page.click(".language-switcher button[value=zh_CN]")
        page.wait_for_load_state()
        assert page.url == f"{server}{PAGE}"  # the preview's address leads back to the mapping
        expect(page.locator("h2", has_text="条目")).to_be_visible()
        _shot(page, shots / "mapping_zh_1366.png")
        page.set_viewport_size({"width": 390, "height": 844})
        page.fill("#mapping-sample", json.dumps([PAYLOAD, bad]))
        with page.expect_navigation():
            page.click("form.mapping-preview-form button[type=submit]")
        _fits(page)
        _shot(page, shots / "mapping_preview_zh_390.png")
        page.click(".language-switcher button[value=en]")
        page.wait_for_load_state()

        page.goto(f"{server}/design/shop/mappings/copy_order")
        page.select_option("#mapping-record", "1")
        with page.expect_navigation():
            page.click("form.mapping-preview-form button[type=submit]")
        expect(page.locator(".preview-values")).to_contain_text("copy of first")
        _fits(page)
        _shot(page, shots / "mapping_record_en_390.png")
        assert _csp_violations(page, console) == []
        browser.close()
