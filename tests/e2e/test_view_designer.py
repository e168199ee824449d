"""The view designer in a real browser: a filter built with the condition builder (the server redraws a row when
its field or operator changes - the operators and the value input are its answer), a column dragged to a new
place, a board saved as soon as its field is chosen, and both previews framed and showing the runtime list - with
no Content-Security-Policy violation and no refused frame.

Headless Chromium driven by Playwright, as tests/e2e/test_phone_width.py (skipped without Chromium unless
LOWCODE_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.live import CHROMIUM, live_server, require_browser, sign_in
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations


@pytest.fixture
def server(app, demo_api):
    require_browser()
    with live_server(app) as url:
        yield url


ORIGINAL = ["number", "customer", "order_date", "status", "total"]


def _drag(page, source, target) -> None:
    """Drag with small mouse steps (SortableJS follows the pointer, not a single jump)."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 5, start["y"] + 5)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(start["x"] + 5, start["y"] + 5 + (end["y"] - start["y"]) * step / 20)
    page.mouse.up()


def test_filter_columns_and_board_designed_in_the_browser(server, demo_api, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url = f"{server}/design/demo/view/order_list"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 1600, "height": 1200}).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        sign_in(page, server, "admin", ADMIN_PASSWORD, "/design/demo/view/order_list")

        page.click("button.cond-add-row")
        page.wait_for_url(f"{url}#filter")
        with page.expect_response("**/condition-row"):
            page.select_option("#c-filter-0 select.cond-field", "status")
        page.wait_for_timeout(100)  # the swap follows the response
        with page.expect_response("**/condition-row"):
            page.select_option("#c-filter-0 select.cond-op", "in")
        values = page.locator("#c-filter-0 select.cond-value[multiple]")
        expect(values).to_have_count(1, timeout=10000)  # the server's answer: the choices, by label
        expect(values.locator("option[value=confirmed]")).to_have_text("Confirmed")
        values.select_option(["draft", "confirmed"])
        page.click("#filter button[name=save]")
        page.wait_for_url(f"{url}#filter")

        handles = page.locator("#column-list li .drag-handle")
        _drag(page, handles.nth(4), handles.nth(0))
        page.wait_for_url(f"{url}#columns")
        moved = page.eval_on_selector_all("#column-list li", "items => items.map(i => i.dataset.key)")
        assert moved[-1] != "total" and sorted(moved) == sorted(ORIGINAL), moved

        page.select_option("#view-group-by", "status")  # saved on change
        page.wait_for_url(f"{url}#kanban")
        phone = page.frame_locator(".preview-phone iframe")
        expect(phone.locator("tbody tr").first).to_be_visible(timeout=10000)
        page.screenshot(path=str(tmp_path / "view-designer.png"), full_page=True)
        assert _csp_violations(page, console) == []
        assert not [m for m in console if "frame" in m.lower()], console
        browser.close()

    body = demo_api.get("/api/definitions/demo/view/order_list").get_json()["draft"]
    assert body["filter"] == {"all": [{"field": "status", "op": "in", "value": ["draft", "confirmed"]}]}
    assert body["columns"] == moved
    assert body["kanban"] == {"group_by": "status"}
