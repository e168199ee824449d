"""A conditional field in a real browser: choosing a select value shows a field, because the server said so
in the compute round trip (no condition is evaluated in JavaScript); no Content-Security-Policy violation.

Headless Chromium driven by Playwright, as tests/e2e/test_phone_width.py (skipped without Chromium unless
LOWCODE_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from tests.dbs import skip_or_fail
from tests.e2e.test_phone_width import CHROMIUM, FLAGS, PHONE, ROOT, WATCH_CSP, _csp_violations
from tests.integration.forms.bundle import install


@pytest.fixture
def server(app, api):
    if CHROMIUM is None:
        skip_or_fail("Chromium is not installed (make setup installs the chromium package)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_assets.py"), "--no-npm"],
        check=False,
        capture_output=True,
    )
    install(app, api)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def test_choosing_a_kind_shows_the_severity_field_and_the_ticket_saves(server, api, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{server}/login?next=/a/desk/ticket/new")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "root-pass-2026")
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{server}/a/desk/ticket/new")
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
