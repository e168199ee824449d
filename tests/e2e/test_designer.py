"""Building an app in the browser, as a business user would: a table of eight kinds of field dragged in from the
palette, a money field with a minimum, a select with its options, a sub-table with a formula; its form laid
out in two sections with a field shown only for one kind; published, then used: the generated form hides and
shows the field, the server refuses a value for it while hidden, the record appears in the list just designed;
a field renamed with data, another removed and restored; undo and redo with the keyboard across a reload.

Headless Chromium driven by Playwright at 1366 px (skipped without Chromium unless LOWCODE_REQUIRE_SERVICES=1).
Screenshots go to $LOWCODE_TEST_ARTIFACTS/designer (default: a temporary directory)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.live import CHROMIUM, live_server, require_browser, shots_folder, sign_in
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations

DESKTOP = {"width": 1366, "height": 900}
TYPES = ["money", "select", "date", "link", "child_table", "formula", "autonumber"]


@pytest.fixture
def server(app, api):
    require_browser()
    with live_server(app) as url:
        yield url


@pytest.fixture
def shots(tmp_path) -> Path:
    return shots_folder(tmp_path, "designer")


def _drag(page, source, target) -> None:
    """Drag with small mouse steps (SortableJS follows the pointer, not a single jump); both ends on screen."""
    target.scroll_into_view_if_needed()
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 4, start["y"] + 4)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(start["x"] + 4 + (end["x"] - start["x"]) * step / 20,
                        start["y"] + 4 + (end["y"] + end["height"] - 6 - start["y"]) * step / 20)  # fmt: skip
    page.mouse.up()


def _keys(page, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all("items => items.map(i => i.dataset.key)")


def _follow(page, selector: str) -> None:
    """Click a link and wait for the page it opens (its scripts set up)."""
    with page.expect_navigation():
        page.click(selector)


def _save_panel(page, selector: str = "#field-panel") -> None:
    with page.expect_navigation():
        page.locator(f"{selector} button[type=submit]").last.click()


def test_build_publish_use_rename_restore_and_undo_in_the_browser(server, api, shots):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        sign_in(page, server, "admin", ADMIN_PASSWORD, "/design")

        # a new app and table
        page.fill("#app-name", "shop")
        page.fill("#app-label-en", "Shop")
        with page.expect_navigation():
            page.click(".new-app-form button[type=submit]")
        page.wait_for_url(f"{server}/design/shop/settings*")  # a new app opens on its menu and queues
        page.goto(f"{server}/design/shop")
        page.fill("#entity-name", "item")
        page.fill("#entity-label-en", "Item")
        with page.expect_navigation():
            page.click(".new-entity-form button[type=submit]")
        assert page.url.endswith("/design/shop/entity/item")

        # eight kinds of field: seven dragged from the palette next to the name
        for ftype in TYPES:
            with page.expect_navigation():
                _drag(page, page.locator(f"#field-palette li[data-type={ftype}] .drag-handle"),
                      page.locator("#field-list li").last)  # fmt: skip
        assert _keys(page, "#field-list li") == ["name", *[f"{t}_1" for t in TYPES]]
        page.screenshot(path=str(shots / "entity_fields.png"), full_page=True)

        # money with a minimum, a select with two options, a formula checked as it is typed
        _follow(page, "#field-list li[data-key=money_1] a.field-link")
        page.fill("[name='p:label:en']", "Price")
        page.fill("[name='p:options/min']", "0")
        _save_panel(page)
        _follow(page, "#field-list li[data-key=select_1] a.field-link")
        page.fill("[name='p:label:en']", "Kind")
        page.fill("[name='p:options/choices/0/value']", "plain")
        page.fill("[name='p:options/choices/0/label:en']", "Plain")
        with page.expect_navigation():
            page.click("button[name='add:options/choices']")
        page.fill("[name='p:options/choices/1/value']", "special")
        page.fill("[name='p:options/choices/1/label:en']", "Special")
        _save_panel(page)
        _follow(page, "#field-list li[data-key=formula_1] a.field-link")
        expression = page.locator("[name='p:options/expression']")
        expression.fill("money_1 * 2")
        expect(page.locator("[data-check=valid]")).to_be_visible(timeout=10000)
        expression.fill("price_missing * 2")
        expect(page.locator("[data-check=invalid]")).to_be_visible(timeout=10000)
        expression.fill("money_1 * 2")
        expect(page.locator("[data-check=valid]")).to_be_visible(timeout=10000)
        _save_panel(page)

        # the sub-table's rows: a quantity and a formula over it
        page.goto(f"{server}/design/shop/entity/item_child_table_1")
        for ftype in ("integer", "formula"):
            with page.expect_navigation():
                page.click(f"#field-palette li[data-type={ftype}] button")
        _follow(page, "#field-list li[data-key=formula_1] a.field-link")
        page.fill("[name='p:options/expression']", "integer_1 * 3")
        _save_panel(page)

        # the form: a second section holding the date, shown only for special items
        page.goto(f"{server}/design/shop/form/item_form")
        with page.expect_navigation():
            page.click("form[action$='/sections'] button[type=submit]")
        _drag(page, page.locator(".form-section-fields li[data-key=date_1] .drag-handle"),
              page.locator(".form-section-fields[data-section='1']"))  # fmt: skip
        page.wait_for_load_state()
        page.screenshot(path=str(shots / "form_after_drag.png"), full_page=True)
        expect(page.locator(".form-section-fields[data-section='1'] li[data-key=date_1]")).to_have_count(1)
        _follow(page, ".form-section-fields li[data-key=date_1] a")
        page.check("#use-visible_when")
        with page.expect_navigation():
            page.click("#entry-panel button.btn-primary")
        with page.expect_response("**/condition-row"):
            page.select_option("select[name='c:visible_when/0/field']", "select_1")
        page.wait_for_timeout(200)
        with page.expect_response("**/condition-row"):
            page.select_option("select[name='c:visible_when/0/op']", "=")
        page.wait_for_timeout(200)
        page.select_option("select[name='c:visible_when/0/value']", "special")
        with page.expect_navigation():
            page.click("#entry-panel button.btn-primary:has-text('Save settings')")
        expect(page.locator(".form-previews iframe")).to_have_count(2)
        page.screenshot(path=str(shots / "form_designer.png"), full_page=True)

        # the list: the price column first
        page.goto(f"{server}/design/shop/view/item_list")
        for _ in range(2):
            with page.expect_navigation():
                page.click("#column-list li[data-key=money_1] button.move-up")
        assert _keys(page, "#column-list li")[0] == "money_1"

        # publish, seeing the plan first
        page.goto(f"{server}/design/shop/publish")
        expect(page.locator("[data-op=create_table]")).to_have_count(2)
        page.screenshot(path=str(shots / "publish_plan.png"), full_page=True)
        with page.expect_navigation():
            page.click(".publish-form button[type=submit]")

        # the generated form: the date shows only for special items
        page.goto(f"{server}/a/shop/item/new")
        date = page.locator("[data-field-wrapper=date_1]")
        expect(date).to_be_hidden()
        page.fill("input[name=name]", "Gold pen")
        page.fill("input[name=money_1]", "12.50")
        page.select_option("select[name=select_1]", "special")
        expect(date).to_be_visible(timeout=10000)
        page.fill("input[name=date_1]", "2026-11-24")
        page.screenshot(path=str(shots / "runtime_form.png"), full_page=True)
        with page.expect_navigation():
            page.click("form.record-form button[type=submit]")
        assert re.search(r"/a/shop/item/\d+$", page.url)
        refused = api.post(
            "/api/data/shop/item", json={"name": "x", "select_1": "plain", "date_1": "2026-01-01"}
        )
        assert refused.status_code == 422 and "date_1" in refused.get_json()["error"]["fields"]
        page.goto(f"{server}/a/shop/item")
        first_header = page.locator("table thead th").nth(
            1 if page.locator("table thead th input").count() else 0
        )
        expect(page.locator("table")).to_contain_text("Gold pen")
        expect(page.locator("table")).to_contain_text("12.50")
        assert "Price" in first_header.inner_text() or "Price" in page.locator("table thead").inner_text()
        page.screenshot(path=str(shots / "runtime_list.png"), full_page=True)

        # rename the serial number with its data, remove the date, publish; then restore the date
        number = api.get("/api/data/shop/item").get_json()["data"][0]["autonumber_1"]
        page.goto(f"{server}/design/shop/entity/item?field=autonumber_1")
        page.fill("#panel-key", "code")
        _save_panel(page)
        page.goto(f"{server}/design/shop/entity/item?field=date_1")
        with page.expect_navigation():
            page.click("form[action$='/fields/date_1/delete'] button")
        page.goto(f"{server}/design/shop/publish")
        expect(page.locator("[data-op=rename_column][data-field=code]")).to_have_count(1)
        expect(page.locator("[data-op=trash_column][data-field=date_1]")).to_have_count(1)
        with page.expect_navigation():
            page.click(".publish-form button[type=submit]")
        record = api.get("/api/data/shop/item").get_json()["data"][0]
        assert record["code"] == number and "date_1" not in record
        page.goto(f"{server}/design/shop/entity/item")
        with page.expect_navigation():
            page.click(".designer-trash button")
        page.goto(f"{server}/design/shop/publish")
        expect(page.locator("input[name='restore:item:date_1']")).to_be_checked()
        with page.expect_navigation():
            page.click(".publish-form button[type=submit]")
        assert api.get("/api/data/shop/item").get_json()["data"][0]["date_1"] == "2026-11-24"

        # undo and redo with the keyboard, across a reload
        page.goto(f"{server}/design/shop/entity/item")
        with page.expect_navigation():
            page.click("#field-palette li[data-type=email] button")
        assert "email_1" in _keys(page, "#field-list li")
        with page.expect_navigation():
            page.keyboard.press("Control+z")
        page.reload()
        assert "email_1" not in _keys(page, "#field-list li")
        with page.expect_navigation():
            page.keyboard.press("Control+Shift+z")
        page.reload()
        assert "email_1" in _keys(page, "#field-list li")
        page.screenshot(path=str(shots / "entity_after_redo.png"), full_page=True)

        # in Chinese at phone width: every designer page fits the screen and speaks Chinese
        with page.expect_navigation():
            page.click(".language-switcher button[value=zh_CN]")
        page.set_viewport_size({"width": 390, "height": 844})
        for name, url in (("entity", "/design/shop/entity/item?field=select_1"), ("form", "/design/shop/form/item_form"),
                          ("view", "/design/shop/view/item_list"), ("publish", "/design/shop/publish")):  # fmt: skip
            page.goto(f"{server}{url}")
            width = page.evaluate("document.documentElement.scrollWidth")
            page.screenshot(path=str(shots / f"{name}_zh_390.png"), full_page=True)
            assert width <= 390, (name, width)
            assert "设计器" in page.locator("nav[aria-label] .breadcrumb").inner_text()
        assert _csp_violations(page, console) == []
        browser.close()
