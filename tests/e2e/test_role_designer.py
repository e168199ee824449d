"""The role designer in a real browser: from the admin's role list to the designer, a new role given read access
to the customers with the credit limit hidden, published from the publish page, assigned to a new user in the
admin pages; that user signs in and sees the customers - list, record page and API - without the credit limit;
explain answers for that user on one record. The role page at 1366 and 390 px, in English and Chinese, fits
the screen (the grid stacks at phone width).

Headless Chromium driven by Playwright (skipped without Chromium unless LOWCODE_REQUIRE_SERVICES=1).
Screenshots go to $LOWCODE_TEST_ARTIFACTS/role_designer (default: a temporary directory)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD, login
from tests.e2e.live import CHROMIUM, live_server, require_browser
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "viewer-pass-123"
WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture
def server(app, demo_api):
    require_browser()
    with live_server(app) as url:
        yield url


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("LOWCODE_TEST_ARTIFACTS") or tmp_path) / "role_designer"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sign_in(page, server: str, username: str, password: str, next_url: str) -> None:
    page.goto(f"{server}/login?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")


def _go(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_a_new_role_hides_a_field_from_its_holder(app, server, demo_api, shots):
    from playwright.sync_api import expect, sync_playwright

    customer = demo_api.get("/api/data/demo/customer?limit=1").get_json()["data"][0]
    assert customer["credit_limit"] is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        _sign_in(page, server, "admin", ADMIN_PASSWORD, "/admin/roles")

        # from the admin's roles to the designer; a new role
        _go(page, "section[data-app=demo] a.role-designer-link")
        assert page.url.endswith("/design/demo/roles")
        page.fill("#role-name", "cust_viewer")
        page.fill("#role-label-en", "Customer viewer")
        page.fill("#role-label-zh", "客户查看")
        _go(page, ".new-role-form button[type=submit]")
        role_url = f"{server}/design/demo/role/cust_viewer"
        assert page.url == role_url

        # read on customers (saved as the box is ticked), then the credit limit hidden
        _go(page, "tr[data-entity=customer] input[value=read]")
        expect(page.locator("tr[data-entity=customer] input[value=read]")).to_be_checked()
        _go(page, "tr[data-entity=customer] a.grant-link")
        page.check("tr[data-field=credit_limit] input[value=hidden]")
        _go(page, ".role-fields button[type=submit]")
        expect(page.locator("tr[data-field=credit_limit] input[value=hidden]")).to_be_checked()
        expect(page.locator(".draft-state")).to_contain_text("not published")
        page.screenshot(path=str(shots / "role_en_1366.png"), full_page=True)

        # published from the publish page (the role is in the plan)
        page.goto(f"{server}/design/demo/publish")
        expect(page.locator(".publish-item[data-kind=role][data-name=cust_viewer]")).to_have_count(1)
        _go(page, ".publish-form button[type=submit]")

        # a new user holding the role, made in the admin pages
        page.goto(f"{server}/admin/users")
        page.fill("#new-username", "vera")
        page.fill("#new-password", PASSWORD)
        page.fill("#new-display-name", "Vera Viewer")
        _go(page, ".admin-create-user button[type=submit]")
        page.select_option("#assign-role", "demo/cust_viewer")
        _go(page, ".admin-assign button[type=submit]")

        # explain, reached from the role page: vera on that customer
        page.goto(role_url)
        _go(page, "a.role-explain-link")
        page.select_option("#explain-entity", "customer")
        page.fill("#explain-record", str(customer["id"]))
        _go(page, ".role-explain-form button[type=submit]")
        expect(page.locator(".role-explain-record tr[data-action=read] [data-allowed]")).to_have_attribute(
            "data-allowed", "yes"
        )
        expect(page.locator(".role-explain-record tr[data-action=update] [data-allowed]")).to_have_attribute(
            "data-allowed", "no"
        )
        expect(page.locator(".role-explain-record")).to_contain_text("Credit limit")
        page.screenshot(path=str(shots / "explain_en_1366.png"), full_page=True)

        # the role page at phone width and in Chinese: it fits, the grid stacks
        page.goto(f"{role_url}?grant=0")
        for language in ("en", "zh_CN"):
            if language == "zh_CN":
                _go(page, ".language-switcher button[value=zh_CN]")
                page.screenshot(path=str(shots / "role_zh_1366.png"), full_page=True)
            page.set_viewport_size(PHONE)
            page.goto(f"{role_url}?grant=0")
            page.screenshot(path=str(shots / f"role_{language}_390.png"), full_page=True)
            for part in ("grid", "grant"):
                page.locator(f"#{part}").screenshot(path=str(shots / f"role_{part}_{language}_390.png"))
            wide = page.evaluate(WIDEST)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide
            expect(page.locator("tr[data-entity=customer] .role-action-name").first).to_be_visible()
            page.set_viewport_size(DESKTOP)
        expect(page.locator("h1")).to_contain_text("角色")
        assert _csp_violations(page, console) == []

        # vera sees the customers without the credit limit: list, record page
        other = browser.new_context(viewport=DESKTOP).new_page()
        _sign_in(other, server, "vera", PASSWORD, "/a/demo/customer")
        expect(other.locator("table")).to_contain_text(customer["name"])
        assert "Credit limit" not in other.locator("table thead").inner_text()
        other.goto(f"{server}/a/demo/customer/{customer['id']}")
        expect(other.locator("main")).to_contain_text(customer["name"])
        assert "Credit limit" not in other.locator("main").inner_text()
        other.screenshot(path=str(shots / "holder_record_en_1366.png"), full_page=True)
        browser.close()

    # and the API
    client = app.test_client()
    token = login(client, "vera", PASSWORD)
    answer = client.get(
        f"/api/data/demo/customer/{customer['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    body = answer.get_json()
    record = body.get("data", body)
    assert record["name"] == customer["name"] and "credit_limit" not in record
    assert not re.search(r"credit_limit", answer.get_data(as_text=True))
