"""Charts, dashboards and drill-down in the browser: the dashboard's charts are drawn (canvas present, no
console error, the CSP kept); a click on a bar and on a table cell opens the list of the records behind it;
a widget dragged in the designer and published moves on the dashboard; in English and Chinese at 1366 and
390 px (the charts fit a phone).

Headless Chromium driven by Playwright (skipped without Chromium unless LOWCODE_REQUIRE_SERVICES=1).
Screenshots go to $LOWCODE_TEST_ARTIFACTS/dashboards (default: a temporary directory)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.live import CHROMIUM, live_server, require_browser
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations
from tests.integration.reports import bundle as shop_bundle
from tests.integration.reports.bundle import PASSWORD, PERIOD
from tests.integration.reports.test_dashboards import with_dashboards

BOARD = f"/a/shop/dashboards/overview?{PERIOD}"


@pytest.fixture
def server(app, api, monkeypatch):
    require_browser()
    monkeypatch.setattr(shop_bundle, "bundle", with_dashboards)
    ids = shop_bundle.install(app, api)
    with live_server(app) as url:
        yield url, ids


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("LOWCODE_TEST_ARTIFACTS") or tmp_path) / "dashboards"
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


def _charts_drawn(page, count: int) -> None:
    from playwright.sync_api import expect

    expect(page.locator("[data-chart] .chart-canvas canvas")).to_have_count(count)
    widths = page.eval_on_selector_all(
        "[data-chart] .chart-canvas canvas", "cs => cs.map(c => c.clientWidth)"
    )
    assert all(w > 100 for w in widths), widths


def _click_bar(page, widget: str, series: int, category: int) -> None:
    """A real mouse click in the middle of one bar (its pixel position asked of the drawn chart)."""
    box = page.locator(f"[data-widget={widget}] .chart-canvas").first
    x, y = box.evaluate(
        """(el, at) => {
             const chart = echarts.getInstanceByDom(el);
             const bar = chart.getModel().getSeriesByIndex(at[0]).getData().getItemLayout(at[1]);
             return [bar.x + bar.width / 2, bar.y + bar.height / 2];
           }""",
        [series, category],
    )
    origin = box.bounding_box()
    page.mouse.click(origin["x"] + x, origin["y"] + y)


def test_charts_drill_down_and_layout(server, shots):
    from playwright.sync_api import expect, sync_playwright

    url, ids = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        # console errors and warnings; a resource that fails is caught by its response (Chromium's own
        # favicon request, answered 404, reaches the console only)
        page.on(
            "console",
            lambda m: (
                console.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning") and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.on("response", lambda r: console.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        _sign_in(page, url, "kim", PASSWORD)
        page.click("li[data-menu-group=_reports] > a")  # dashboards sit in the Reports dropdown
        with page.expect_navigation():
            page.click("a[data-dashboard=overview]")
        page.goto(f"{url}{BOARD}")
        _charts_drawn(page, 1)  # product_pivot is not kim's: left out
        expect(page.locator(".number-card .number-value")).to_have_text("2")  # kim's own orders
        _shot(page, shots / "overview_clerk_en_1366.png")
        # a click on Acme's February bar: the list of the one order behind it
        with page.expect_navigation():
            _click_bar(page, "sales", 0, 1)
        assert "/a/shop/order?" in page.url and "filter=" in page.url
        expect(page.locator(f"a[href='/a/shop/order/{ids['orders'][1]}']").first).to_be_visible()
        assert page.locator("table.list-table tbody tr:not(.list-footer)").count() == 1
        # a table cell (the sales table widget): Beta's January revenue
        page.goto(f"{url}{BOARD}")
        with page.expect_navigation():
            page.locator("[data-widget=sales] table.report-table tr[data-level=row]").nth(1).locator(
                "a.drill"
            ).first.click()
        assert page.locator("table.list-table tbody tr:not(.list-footer)").count() == 1
        expect(page.locator(f"a[href='/a/shop/order/{ids['orders'][2]}']").first).to_be_visible()
        page.goto(f"{url}{BOARD}")
        page.click(".language-switcher button[value=zh_CN]")
        page.wait_for_load_state()
        expect(page.locator("h1")).to_have_text("店铺总览")
        _charts_drawn(page, 1)
        _shot(page, shots / "overview_clerk_zh_1366.png")
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        _charts_drawn(page, 1)
        _fits(page)
        _shot(page, shots / "overview_clerk_zh_390.png")
        assert _csp_violations(page, console) == [] and console == []
        browser.close()

        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        _sign_in(page, url, "admin", ADMIN_PASSWORD)
        page.click(".language-switcher button[value=en]")
        page.wait_for_load_state()
        page.goto(f"{url}{BOARD}")
        _charts_drawn(page, 2)
        _shot(page, shots / "overview_admin_en_1366.png")
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        _charts_drawn(page, 2)
        _fits(page)
        _shot(page, shots / "overview_admin_en_390.png")
        page.set_viewport_size({"width": 1366, "height": 900})
        # the designer: drag the number card (3rd) onto the first card; the layout is saved on drop
        page.goto(f"{url}/design/shop/dashboards/overview")
        cards = page.locator(".dashboard-widgets .widget-item")
        expect(cards).to_have_count(4)
        _shot(page, shots / "designer_en_1366.png")
        with page.expect_navigation():
            cards.nth(2).locator(".drag-handle").drag_to(cards.nth(0).locator(".drag-handle"))
        order = page.eval_on_selector_all(
            ".dashboard-widgets .widget-item", "cs => cs.map(c => c.dataset.widget)"
        )
        assert order[0] == "by_status", order
        page.goto(f"{url}/design/shop/publish")
        with page.expect_navigation():
            page.click("form.publish-form button[type=submit]")
        page.goto(f"{url}{BOARD}")
        order = page.eval_on_selector_all(".dashboard-widget", "cs => cs.map(c => c.dataset.widget)")
        assert order == ["by_status", "sales", "product_pivot", "sales"], order
        _charts_drawn(page, 2)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{url}/design/shop/dashboards/overview")
        _fits(page)
        _shot(page, shots / "designer_en_390.png")
        assert console == []
        browser.close()
