"""A sandbox in the browser: made from a small app's designer page with a sample of its data, a form changed
there in the form designer and published in the sandbox, the change set reviewed (side by side with the live
form) and published to the live app, where the form shows the change.

Screenshots at 1366 and 390 px, in English and Chinese, go to $LOWCODE_TEST_ARTIFACTS/sandbox (default: a
temporary directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.live import CHROMIUM, live_server, require_browser, shots_folder, sign_in
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations
from tests.integration.designer.test_sandbox import BUNDLE

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(app, api):
    require_browser()
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    for name in ("Ann", "Bob"):
        body = {"name": name, "contact": f"{name} Smith", "phone": "+86 138 0000 0001"}
        assert api.post("/api/data/shop/customer", json=body).status_code == 201
    with live_server(app) as url:
        yield url


@pytest.fixture
def shots(tmp_path) -> Path:
    return shots_folder(tmp_path, "sandbox")


def _field_order(page) -> list[str]:
    return page.locator(
        "form input[name=name], form input[name=contact], form input[name=phone]"
    ).evaluate_all("inputs => inputs.map(i => i.name)")


def _fits(page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (name, width)


def test_make_a_sandbox_change_a_form_publish_it_live(server, api, shots):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        sign_in(page, server, "admin", ADMIN_PASSWORD, "/design/shop")
        page.goto(f"{server}/a/shop/customer/new")
        assert _field_order(page) == ["name", "contact", "phone"]

        # make the sandbox from the app's designer page
        page.goto(f"{server}/design/shop")
        _fits(page, shots, "live_app_en_1366")
        page.fill("#sandbox-sample", "5")
        with page.expect_navigation():
            page.click(".make-sandbox-form button[type=submit]")
        assert page.url.startswith(f"{server}/design/shop_sandbox")
        expect(page.locator(".sandbox-banner")).to_be_visible()
        _fits(page, shots, "sandbox_app_en_1366")
        page.goto(f"{server}/a/shop_sandbox/customer")
        listed = page.locator("main").inner_text()
        assert "Ann" in listed and "555-" in listed and "+86 138" not in listed  # the phone masked

        # change the form in the sandbox: the phone up above the contact; publish it there
        page.goto(f"{server}/design/shop_sandbox/form/customer_form")
        with page.expect_navigation():
            page.click(".form-section-fields li[data-key=phone] button[value=up]")
        expect(page.locator(".form-section-fields li").nth(1)).to_have_attribute("data-key", "phone")
        page.goto(f"{server}/design/shop_sandbox/publish")
        with page.expect_navigation():
            page.click(".publish-form button[type=submit]")
        page.goto(f"{server}/a/shop_sandbox/customer/new")
        assert _field_order(page) == ["name", "phone", "contact"]
        page.goto(f"{server}/a/shop/customer/new")
        assert _field_order(page) == ["name", "contact", "phone"]  # the live app has not changed yet

        # review the change set: the form compared with the live one
        page.goto(f"{server}/design/shop_sandbox")
        with page.expect_navigation():
            page.click(".sandbox-review")
        expect(page.locator(".change-item[data-name=customer_form]")).to_be_visible()
        assert page.locator(".change-item").count() == 1
        assert page.locator(".change-item[data-name=customer_form] tr[data-change]").count() >= 1
        _fits(page, shots, "review_en_1366")
        page.set_viewport_size(PHONE)
        _fits(page, shots, "review_en_390")
        with page.expect_navigation():
            page.click(".language-switcher button[value=zh_CN]")
        expect(page.locator("h1")).to_contain_text("沙盒")
        _fits(page, shots, "review_zh_390")
        page.goto(f"{server}/design/shop")
        _fits(page, shots, "live_app_zh_390")
        page.goto(f"{server}/design/shop_sandbox")
        _fits(page, shots, "sandbox_app_zh_390")
        page.set_viewport_size(DESKTOP)
        page.goto(f"{server}/design/shop_sandbox/live")
        _fits(page, shots, "review_zh_1366")

        # publish to the live app; the live form shows the change
        with page.expect_navigation():
            page.click(".sandbox-publish-form button[type=submit]")
        assert page.url.startswith(f"{server}/design/shop?published=1")
        page.goto(f"{server}/a/shop/customer/new")
        assert _field_order(page) == ["name", "phone", "contact"]
        _fits(page, shots, "live_form_zh_1366")
        assert _csp_violations(page, console) == []
        browser.close()
    live = api.get("/api/data/shop/customer").get_json()["data"]
    assert sorted(c["contact"] for c in live) == ["Ann Smith", "Bob Smith"]  # live data kept
