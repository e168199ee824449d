"""The rule designer in a real browser: a rule on the demo app's orders built without JSON - a condition from the
condition builder (the server redraws the row for the field chosen), two actions from the palette (a refusal
with its "only when" expression checked as it is typed, then a value set on the order) - dry-run on a real
order picked with the link picker (the refusal, then the change field by field, nothing saved), published
through the publish page, and then obeyed by a real write. Screenshots at 1366 and 390 px, in English and
Chinese, with no Content-Security-Policy violation.

Headless Chromium driven by Playwright (skipped without Chromium unless LOWCODE_REQUIRE_SERVICES=1).
Screenshots go to $LOWCODE_TEST_ARTIFACTS/rule-designer (default: a temporary directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.live import CHROMIUM, live_server, require_browser, shots_folder, sign_in
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations

RULE = "/design/demo/rule/discount_cap"


@pytest.fixture
def server(app, demo_api):
    require_browser()
    with live_server(app) as url:
        yield url


@pytest.fixture
def shots(tmp_path) -> Path:
    return shots_folder(tmp_path, "rule-designer")


def _open_order(api) -> dict:
    """An order that is not cancelled (the rule's condition holds for it)."""
    rows = api.get("/api/data/demo/order?limit=50").get_json()["data"]
    return next(r for r in rows if r["status"] != "cancelled")


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_a_rule_built_dry_run_published_and_obeyed(server, demo_api, shots):
    from playwright.sync_api import expect, sync_playwright

    target = _open_order(demo_api)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        sign_in(page, server, "admin", ADMIN_PASSWORD, "/design/demo/rules")

        # a new rule on orders, starting with a refusal
        page.fill("#rule-name", "discount_cap")
        page.fill("#rule-label-en", "Discount cap")
        page.fill("#rule-label-zh", "折扣上限")
        page.select_option("#rule-entity", "order")
        page.select_option("#rule-first", "refuse")
        _submit(page, ".new-rule-form button[type=submit]")
        assert "/design/demo/rule/discount_cap" in page.url

        # the refusal's condition, checked as it is typed
        when = page.locator("#action-panel textarea[name='p:when']")
        when.fill("discount > nothing")
        expect(page.locator("#action-panel [data-check=invalid]")).to_be_visible(timeout=10000)
        when.fill("discount > 50")
        expect(page.locator("#action-panel [data-check=valid]")).to_be_visible(timeout=10000)
        page.fill("#action-panel input[name='p:message:en']", "Discount of {number} is over 50%")
        page.fill("#action-panel input[name='p:message:zh-CN']", "{number} 的折扣超过 50%")
        _submit(page, "#action-panel button[type=submit]")

        # the trigger: before updates, when the order is not cancelled (the condition builder)
        page.select_option("#rule-phase", "before")
        page.uncheck("#event-create")
        _submit(page, "#trigger button.cond-add-row")
        with page.expect_response("**/condition-row"):
            page.select_option("#c-condition-0 select.cond-field", "status")
        page.wait_for_timeout(100)  # the swap follows the response
        with page.expect_response("**/condition-row"):
            page.select_option("#c-condition-0 select.cond-op", "!=")
        choice = page.locator("#c-condition-0 select.cond-value")
        expect(choice.locator("option[value=cancelled]")).to_have_text("Cancelled", timeout=10000)
        choice.select_option("cancelled")
        _submit(page, "#trigger button[name=save]")
        expect(page.locator("#c-condition-0 select.cond-field")).to_have_value("status")

        # a second action from the palette: set the order's note
        _submit(page, "#action-palette button[data-type=set_fields]")
        page.select_option("#action-panel select[name='p:values/0/key']", "note")
        page.fill("#action-panel input[name='p:values/0/value']", "'checked: ' + number")
        expect(page.locator("#action-panel [data-check=valid]")).to_be_visible(timeout=10000)
        _submit(page, "#action-panel button[type=submit]")
        expect(page.locator("#action-list > li.rule-action")).to_have_count(2)
        assert page.locator(".rule-problems").count() == 0
        page.screenshot(path=str(shots / "rule-1366-en.png"), full_page=True)

        # dry runs on a real order picked with the link picker: the refusal, then the change
        control = page.locator("#dry-run-record-ts-control")
        control.click()
        control.press_sequentially(target["number"])
        page.locator(".ts-dropdown .option:visible", has_text=target["number"]).first.click()
        page.keyboard.press("Escape")
        page.select_option("#dry-run select[name=change_field] >> nth=0", "discount")
        page.fill("#dry-run input[name=change_value] >> nth=0", "60")
        with page.expect_response("**/dry-run"):
            page.click("#dry-run button[type=submit]")
        result = page.locator("#dry-run-result .dry-run-result")
        expect(result).to_have_attribute("data-outcome", "refused", timeout=10000)
        expect(result).to_contain_text(f"Discount of {target['number']} is over 50%")
        page.fill("#dry-run input[name=change_value] >> nth=0", "5")
        with page.expect_response("**/dry-run"):
            page.click("#dry-run button[type=submit]")
        expect(result).to_have_attribute("data-outcome", "ok", timeout=10000)
        expect(result.locator(".dry-run-changes")).to_contain_text(f"checked: {target['number']}")
        page.screenshot(path=str(shots / "rule-dry-run-1366-en.png"), full_page=True)
        stored = demo_api.get(f"/api/data/demo/order/{target['id']}").get_json()
        assert stored["version"] == target["version"] and stored.get("note") == target.get("note")

        # published through the publish page
        _submit(page, ".publish-link")
        expect(page.locator(".publish-form")).to_contain_text("discount_cap")
        _submit(page, ".publish-form button[type=submit]")
        assert demo_api.get("/api/definitions/demo/rule/discount_cap").get_json()["published_version"] == 1

        # the phone width and Chinese: the page fits the screen and speaks Chinese
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{server}{RULE}?action=1")
        page.screenshot(path=str(shots / "rule-390-en.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        with page.expect_navigation():
            page.click(".language-switcher button[value=zh_CN]")
        page.goto(f"{server}{RULE}?action=0")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        expect(page.locator("#dry-run-title")).to_have_text("在记录上试运行草稿")
        expect(page.locator("#action-list")).to_contain_text("设置记录字段")
        page.screenshot(path=str(shots / "rule-390-zh.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"{server}{RULE}?action=0")
        page.screenshot(path=str(shots / "rule-1366-zh.png"), full_page=True)
        page.goto(f"{server}/design/demo/rules")
        expect(page.locator("tr[data-rule=discount_cap]")).to_contain_text("折扣上限")
        page.screenshot(path=str(shots / "rules-1366-zh.png"), full_page=True)
        assert _csp_violations(page, console) == []
        browser.close()

    # the published rule on a real write: the note set, then the refusal
    changed = demo_api.patch(
        f"/api/data/demo/order/{target['id']}",
        json={"discount": "5"},
        headers={"If-Match": str(target["version"])},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["note"] == f"checked: {target['number']}"
    refused = demo_api.patch(
        f"/api/data/demo/order/{target['id']}",
        json={"discount": "60"},
        headers={"If-Match": str(changed.get_json()["version"])},
    )
    assert refused.status_code == 422
    assert f"Discount of {target['number']} is over 50%" in refused.get_json()["error"]["message"]


def test_an_update_chooses_its_records_with_the_condition_builder(server, demo_api, shots):
    """update_records' ``where`` built in the action's panel over the customer table, its value taken from the
    rule's record (``$record.customer``), the keys of ``set`` chosen from the customer's fields; notify's
    recipients show the input of the kind chosen. Screenshots 1366/390 px in English and Chinese."""
    from playwright.sync_api import expect, sync_playwright

    rule = "/design/demo/rule/credit_bump"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        sign_in(page, server, "admin", ADMIN_PASSWORD, "/design/demo/rules")
        page.fill("#rule-name", "credit_bump")
        page.fill("#rule-label-en", "Credit bump")
        page.fill("#rule-label-zh", "提高信用额度")
        page.select_option("#rule-entity", "order")
        page.select_option("#rule-first", "update_records")
        _submit(page, ".new-rule-form button[type=submit]")

        panel = page.locator("#action-panel")
        row = panel.locator("#c-where-0")
        expect(row.locator("select.cond-field")).to_have_value("id")
        with page.expect_response("**/entity/customer/condition-row"):
            row.locator("select.cond-op").select_option("=")
        value = panel.locator("#c-where-0 input.cond-value")
        expect(value).to_have_attribute("list", "vars-where", timeout=10000)
        value.fill("$record.customer")
        panel.locator("select[name='p:set/0/key']").select_option("credit_limit")
        panel.locator("input[name='p:set/0/value']").fill("credit_limit + 1")
        expect(panel.locator("[data-check=valid]").first).to_contain_text("Valid expression", timeout=10000)
        _submit(
            page,
            "#action-panel button[type=submit]:not(.cond-add-row):not(.cond-add-group):text('Save action')",
        )
        assert page.locator(".rule-errors").count() == 0
        body = demo_api.get("/api/definitions/demo/rule/credit_bump").get_json()["draft"]
        assert body["actions"][0]["where"] == {
            "all": [{"field": "id", "op": "=", "value": "$record.customer"}]
        }
        assert body["actions"][0]["set"] == {"credit_limit": "credit_limit + 1"}
        expect(page.locator("#c-where-0 input.cond-value")).to_have_value("$record.customer")
        page.screenshot(path=str(shots / "rule-where-1366-en.png"), full_page=True)

        # notify: the recipient row shows the input of its kind
        _submit(page, "#action-palette button[data-type=notify]")
        first = page.locator(".recipient-row").first
        expect(first.locator(".recipient-user")).to_be_visible()
        expect(first.locator(".recipient-role")).to_be_hidden()
        last = page.locator(".recipient-row").last
        last.locator(".recipient-kind").select_option("role")
        expect(last.locator(".recipient-role")).to_be_visible()
        expect(last.locator(".recipient-user")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        page.screenshot(path=str(shots / "rule-notify-1366-en.png"), full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{server}{rule}?action=0")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(shots / "rule-where-390-en.png"), full_page=True)
        with page.expect_navigation():
            page.click(".language-switcher button[value=zh_CN]")
        page.goto(f"{server}{rule}?action=0")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        expect(page.locator("#action-panel")).to_contain_text("高级：以 JSON 编辑条件")
        page.screenshot(path=str(shots / "rule-where-390-zh.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"{server}{rule}?action=0")
        page.screenshot(path=str(shots / "rule-where-1366-zh.png"), full_page=True)
        assert _csp_violations(page, console) == []
        browser.close()
