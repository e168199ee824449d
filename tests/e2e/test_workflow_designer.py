"""Drawing a workflow in the browser: a three-state workflow made for a new table's state field, two transitions
added, each opened by a click on its arrow in the diagram (the panel comes by htmx) and given to a role, a state
coloured from its box, the checks before publish clearing as it goes; published, then taken from the record
page by a user of that role - the second transition after its confirmation. The designer is looked at in
English and Chinese at 1366 and 390 px (the diagram scrolls inside its frame on a phone, the page does not).

Headless Chromium driven by Playwright (skipped without Chromium unless LOWCODE_REQUIRE_SERVICES=1).
Screenshots go to $LOWCODE_TEST_ARTIFACTS/workflow_designer (default: a temporary directory)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.live import CHROMIUM, live_server, require_browser, shots_folder, sign_in
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations
from tests.integration.pages.helpers import add_role_users

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "desk", "label": {"en": "Help desk", "zh-CN": "服务台"}},
    "entities": [
        {
            "name": "ticket",
            "label": {"en": "Ticket", "zh-CN": "工单"},
            "title_field": "title",
            "fields": [
                {"name": "title", "type": "text", "label": {"en": "Title", "zh-CN": "标题"}, "required": True}
            ],
        }
    ],
    "forms": [{"name": "ticket_form", "entity": "ticket", "sections": [{"fields": ["title"]}]}],
    "views": [{"name": "ticket_list", "entity": "ticket", "columns": ["title"]}],
    "roles": [
        {
            "name": "agent",
            "label": {"en": "Agent", "zh-CN": "客服"},
            "grants": [{"entity": "ticket", "actions": ["read", "create", "update"]}],
        }
    ],
}
WF = "/design/desk/workflow/ticket_flow"


@pytest.fixture
def server(app, api):
    require_browser()
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    add_role_users(app, "desk", {"ann": "agent"}, PASSWORD)
    with live_server(app) as url:
        yield url


@pytest.fixture
def shots(tmp_path) -> Path:
    return shots_folder(tmp_path, "workflow_designer")


def _open_panel(page, selector: str, panel: str) -> None:
    """Click a state or an arrow of the diagram and wait for its panel (swapped in by htmx). A straight
    arrow has no height, which Playwright takes for hidden: the click is forced onto its middle."""
    with page.expect_response(re.compile(r".*/panel\?")):
        page.locator(selector).click(force=True)
    page.wait_for_selector(f"#wf-panel [data-panel='{panel}']")


def _shot(page, path: Path) -> None:
    """A full-page screenshot that leaves the caret alone (hiding it injects a style the CSP refuses)."""
    page.screenshot(path=str(path), full_page=True, caret="initial")


def _fits(page) -> None:
    """The page is not wider than the screen; the diagram scrolls inside its own frame instead."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    frame = page.locator("#wf-diagram")
    assert frame.evaluate("f => f.scrollWidth > f.clientWidth")


def test_draw_publish_and_take_a_three_state_workflow(server, shots):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        sign_in(page, server, "admin", ADMIN_PASSWORD, "/design/desk")

        # a new workflow for the ticket, with a new state field made from its three states
        with page.expect_navigation():
            page.click("a.design-workflows-link")
        page.select_option("#wf-target", "ticket/status")
        page.fill("#wf-states", "open\ndoing\ndone")
        with page.expect_navigation():
            page.click("form.new-workflow-form button[type=submit]")
        assert page.url == f"{server}{WF}"
        assert page.locator("svg.wf-svg g.wf-state").count() == 3

        for name, label, source, target in (
            ("start", "Start", "open", "doing"),
            ("finish", "Finish", "doing", "done"),
        ):
            page.fill("#wf-new-tr", name)
            page.fill("#wf-new-tr-en", label)
            page.select_option("#wf-new-tr-from", source)
            page.select_option("#wf-new-tr-to", target)
            with page.expect_navigation():
                page.click("form.wf-add-transition button[type=submit]")
        checks = page.locator(".wf-checks [data-check=untakeable]")
        expect(checks).to_have_count(2)
        _shot(page, shots / "workflow_untakeable_en_1366.png")

        # who may take each transition: opened by a click on its arrow, the agent ticked
        _open_panel(page, "g.wf-transition[data-transition=start] >> nth=0", "transition:start")
        assert page.url.endswith("?transition=start")  # the panel's address, for a reload
        page.check("#wf-role-agent")
        with page.expect_navigation():
            page.click("form.wf-transition-form button[name=save]")
        _open_panel(page, "g.wf-label[data-transition=finish]", "transition:finish")
        page.check("#wf-role-agent")
        page.fill("input[name='confirm:en']", "Close this ticket?")
        with page.expect_navigation():
            page.click("form.wf-transition-form button[name=save]")
        expect(page.locator(".wf-checks [data-check=untakeable]")).to_have_count(0)
        expect(page.locator(".wf-checks-ok")).to_be_visible()

        # a state coloured from its box
        _open_panel(page, "g.wf-state[data-state=done]", "state:done")
        page.select_option("#wf-color", "green")
        with page.expect_navigation():
            page.click("form.wf-state-form button[type=submit]")
        assert page.locator("g.wf-state[data-state=done] rect").first.get_attribute("fill") == "#e8f5ee"
        _shot(page, shots / "workflow_en_1366.png")

        page.click(".language-switcher button[value=zh_CN]")
        page.wait_for_load_state()
        expect(page.locator("h2", has_text="发布前检查")).to_be_visible()
        _shot(page, shots / "workflow_zh_1366.png")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{server}{WF}?transition=start")
        _fits(page)
        _shot(page, shots / "workflow_zh_390.png")
        page.click(".language-switcher button[value=en]")
        page.wait_for_load_state()
        _fits(page)
        _open_panel(page, "a.wf-state-link >> nth=1", "state:doing")
        _shot(page, shots / "workflow_en_390.png")
        page.set_viewport_size({"width": 1366, "height": 900})

        # published from the publish page
        page.goto(f"{server}/design/desk/publish")
        assert page.locator("[data-name=ticket_flow]").count() >= 1
        with page.expect_navigation():
            page.click("form[action='/design/desk/publish'] button[type=submit]")
        assert "published=" in page.url
        assert _csp_violations(page, console) == []

        # the agent takes both transitions from the record page
        agent = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        dialogs: list[str] = []
        agent.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
        sign_in(agent, server, "ann", PASSWORD, "/a/desk/ticket/new")
        agent.fill("input[name=title]", "Printer jammed")
        agent.click("form.record-form button[type=submit]")
        agent.wait_for_url(re.compile(r".*/a/desk/ticket/\d+$"))
        expect(agent.locator(".state-badge")).to_have_text("open")
        assert agent.locator("form.transition-form[action$='/transitions/finish']").count() == 0
        agent.click("form.transition-form[action$='/transitions/start'] button[type=submit]")
        agent.wait_for_load_state()
        expect(agent.locator(".state-badge")).to_have_text("doing")
        agent.click("form.transition-form[action$='/transitions/finish'] button[type=submit]")
        agent.wait_for_load_state()
        expect(agent.locator(".state-badge")).to_have_text("done")
        assert dialogs == ["Close this ticket?"]
        _shot(agent, shots / "record_done_en_1366.png")
        browser.close()
