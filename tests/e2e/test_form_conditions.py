"""A conditional field in a real browser: choosing a select value shows a field, because the server said so
in the compute round trip (no condition is evaluated in JavaScript); no Content-Security-Policy violation.

Headless Chromium driven by Playwright, as tests/e2e/test_phone_width.py (skipped without Chromium unless
LOWCODE_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.live import CHROMIUM, live_server, require_browser, sign_in
from tests.e2e.test_phone_width import FLAGS, PHONE, WATCH_CSP, _csp_violations
from tests.integration.forms.bundle import install


@pytest.fixture
def server(app, api):
    require_browser()
    install(app, api)
    with live_server(app) as url:
        yield url


def test_choosing_a_kind_shows_the_severity_field_and_the_ticket_saves(server, api, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        sign_in(page, server, "admin", "root-pass-2026", "/a/desk/ticket/new")
        severity = page.locator("[data-field-wrapper=severity]")
        expect(severity).to_be_hidden()
        page.fill("input[name=title]", "Paper jam")
        page.select_option("select[name=kind]", "bug")
        expect(severity).to_be_visible(timeout=10000)  # the compute answer's state, applied
        expect(page.locator("#f-severity")).to_have_attribute("required", "")
        expect(page.locator("[data-field-wrapper=parts]")).to_be_visible()
        page.screenshot(path=str(tmp_path / "shown.png"))
        page.fill("#f-severity", "2")
        page.select_option("select[name=kind]", "question")
        expect(severity).to_be_hidden(timeout=10000)
        page.select_option("select[name=kind]", "bug")
        expect(severity).to_be_visible(timeout=10000)
        page.click("form.record-form button[type=submit]")
        page.wait_for_url(re.compile(r".*/a/desk/ticket/\d+$"))
        record_id = int(page.url.rsplit("/", 1)[1])
        assert _csp_violations(page, console) == []
        browser.close()
    record = api.get(f"/api/data/desk/ticket/{record_id}").get_json()
    assert (record["title"], record["kind"], record["severity"]) == ("Paper jam", "bug", 2)
