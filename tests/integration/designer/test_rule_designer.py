"""The rule designer: the app's rules (new, delete a draft), a rule's trigger with the condition builder, its
actions added from the palette of every registered action and edited in panels generated from their schemas
(nested in loops, reordered, removed), every change a draft step with undo/redo and 409s, refusals that save
nothing and name their JSON path, the live expression check, the dry run of the draft on a real record, the
publish through the publish page, the run log with its failures, and who may use it."""

from __future__ import annotations

import re

import pytest

from lowcode.rules.actions.base import rule_actions
from tests.integration.pages.helpers import Browser, add_role_users, signed_in, text

RULES = "/design/demo/rules"
RULE = "/design/demo/rule/big_order"
PASSWORD = "user-pass-123"


@pytest.fixture
def demo(demo_api, designer):
    """The administrator's designer on the demo app (orders with demo data)."""
    return designer


def base_of(page: str) -> str:
    return re.search(r'name="base" value="(\d+)"', page).group(1)


def draft(api, name="big_order") -> dict:
    body = api.get(f"/api/definitions/demo/rule/{name}").get_json()
    return body["draft"] or body["published"]


def create(browser, name="big_order", entity="order", kind="refuse", expect=303):
    data = {"name": name, "label:en": "Big order", "label:zh-CN": "大订单", "entity": entity, "type": kind}
    response = browser.post(RULES, data)
    assert response.status_code == expect, text(response)[-3000:]
    return response


def post(browser, path, data, expect=303, rule=RULE, headers=None):
    pairs = list(data.items()) if isinstance(data, dict) else list(data)
    response = browser.post(f"{rule}{path}", [("base", base_of(text(browser.get(rule)))), *pairs])
    assert response.status_code == expect, text(response)[-3000:]
    return response


TRIGGER = {"kind": "event", "phase": "before", "transition_mode": "none", "enabled": "1"}


def before_update_rule(demo):
    """A before-rule on updates of orders: refuse a cancelled order, then note it was checked."""
    create(demo)
    post(demo, "/trigger", [*TRIGGER.items(), ("events", "update")])
    post(demo, "/action", {"at": "0", "p:when": "status = 'cancelled'", "p:message:en": "No {number}"})
    post(demo, "/actions", {"type": "set_fields"})
    post(
        demo,
        "/action",
        {"at": "1", "n:values": "2", "p:values/0/key": "note", "p:values/0/value": "'checked'"},
    )


def test_a_new_rule_opens_in_the_designer_and_a_draft_is_deleted(demo, demo_api):
    page = text(demo.get(RULES))
    assert "New rule" in page and 'value="order"' in page
    assert 'href="/design/demo/rules"' in text(demo.get("/design/demo"))
    response = create(demo)
    assert response.headers["Location"].endswith("/design/demo/rule/big_order?action=0")
    body = draft(demo_api)
    assert body["entity"] == "order" and body["actions"] == [
        {"type": "refuse", "message": {"en": "Not allowed"}}
    ]
    assert body["label"] == {"en": "Big order", "zh-CN": "大订单"}
    listed = text(demo.get(RULES))
    assert 'data-rule="big_order"' in listed and "rule-delete" in listed and "draft" in listed
    create(demo, expect=422)  # the name is taken
    create(demo, name="other", entity="nothing", expect=422)
    create(demo, name="other", kind="no_such_action", expect=400)
    assert demo.post("/design/demo/rule/big_order/delete", {}).status_code == 303
    assert demo_api.get("/api/definitions/demo/rule/big_order").status_code == 404
    assert 'data-rule="big_order"' not in text(demo.get(RULES))


def palette(page: str) -> str:
    return page[page.index('id="action-palette"') : page.index('id="panel"')]


def test_the_palette_offers_the_actions_of_the_rules_phase_and_explains_the_others(demo):
    create(demo)  # after the save: set_fields cannot run there
    page = text(demo.get(RULE))
    shown = palette(page)
    for key in rule_actions:
        runs_after = "after" in rule_actions.get(key).phases
        assert (f'data-type="{key}"' in shown) is runs_after, key
        assert (f'data-unavailable="{key}"' in shown) is not runs_after, key
    assert 'data-type="set_fields"' not in page  # not in the palette, nor in a loop's "add inside"
    assert "Set fields of the record - only before the record is saved" in shown
    assert "For each line" in shown
    post(demo, "/trigger", [*TRIGGER.items(), ("events", "update")])  # before the save: every action
    shown = palette(text(demo.get(RULE)))
    assert all(f'data-type="{key}"' in shown for key in rule_actions) and "data-unavailable" not in shown
    # an action the phase does not allow, posted anyway, is refused at its type and saves nothing
    post(demo, "/trigger", [*{**TRIGGER, "phase": "after"}.items(), ("events", "update")])
    refused = post(demo, "/actions", {"type": "set_fields"}, expect=422)
    assert "cannot run in the after phase" in text(refused)
    demo.post("/language", {"lang": "zh_CN", "next": RULE})
    zh = text(demo.get(RULE))
    assert "拒绝此次更改" in zh and "试运行" in zh and "设置记录字段 - 仅在记录保存之前" in zh


def test_trigger_and_condition_are_draft_steps_with_undo_redo_and_conflicts(demo, demo_api):
    create(demo)
    post(
        demo,
        "/trigger",
        [*TRIGGER.items(), ("events", "update"), ("fields_changed", "status"), ("cadd:condition", "row")],
        expect=303,
    )
    trigger = draft(demo_api)["trigger"]
    assert trigger["phase"] == "before" and trigger["events"] == ["update"]
    assert trigger["fields_changed"] == ["status"] and trigger["condition"] == {
        "all": [{"field": "number", "op": "is_not_empty"}]
    }
    rows = [
        ("c:condition/mode", "all"),
        ("c:condition/0/field", "status"),
        ("c:condition/0/op", "="),
        ("c:condition/0/value", "cancelled"),
    ]
    post(demo, "/trigger", [*TRIGGER.items(), ("events", "update"), *rows])
    assert draft(demo_api)["trigger"]["condition"] == {
        "all": [{"field": "status", "op": "=", "value": "cancelled"}]
    }
    page = text(demo.get(RULE))
    assert 'name="c:condition/0/field"' in page and "cond-row" in page
    # a condition the parser refuses saves nothing and is shown at its row
    bad = [("c:condition/0/field", "discount"), ("c:condition/0/op", ">"), ("c:condition/0/value", "lots")]
    refused = post(demo, "/trigger", [*TRIGGER.items(), ("events", "update"), *bad], expect=422)
    assert 'data-error-for="condition/0"' in text(refused)
    assert draft(demo_api)["trigger"]["condition"]["all"][0]["field"] == "status"
    # the schema refuses an unknown event at its path
    refused = post(demo, "/trigger", [*TRIGGER.items(), ("events", "explode")], expect=422)
    assert "trigger/events/0" in text(refused)
    post(demo, "/undo", {})
    assert "condition" in draft(demo_api)["trigger"]
    assert draft(demo_api)["trigger"]["condition"]["all"][0]["field"] == "number"
    post(demo, "/redo", {})
    assert draft(demo_api)["trigger"]["condition"]["all"][0]["field"] == "status"
    stale = demo.post(f"{RULE}/trigger", [("base", "1"), *TRIGGER.items(), ("events", "create")])
    assert stale.status_code == 409 and draft(demo_api)["trigger"]["events"] == ["update"]
    # a schedule where the schema allows one
    post(demo, "/trigger", {"kind": "schedule", "cron": "0 8 * * 1", "timezone": "Asia/Shanghai"})
    body = draft(demo_api)
    assert "trigger" not in body and body["schedule"] == {"cron": "0 8 * * 1", "timezone": "Asia/Shanghai"}


def test_actions_are_added_edited_nested_moved_and_removed(demo, demo_api):
    before_update_rule(demo)
    actions = draft(demo_api)["actions"]
    assert actions[0] == {"type": "refuse", "when": "status = 'cancelled'", "message": {"en": "No {number}"}}
    assert actions[1] == {"type": "set_fields", "values": {"note": "'checked'"}}
    # a loop over the order's lines (its child table chosen), with an action inside it
    post(demo, "/actions", {"type": "for_each_child"})
    assert draft(demo_api)["actions"][2] == {"type": "for_each_child", "actions": [], "child": "lines"}
    page = text(demo.get(f"{RULE}?action=2"))
    assert "Add the actions to run for each row." in page and 'name="into" value="2"' in page
    assert "rule:big_order/actions/2/actions" not in page or "publishing would report" in page.lower()
    post(demo, "/actions", {"type": "refuse", "into": "2"})
    post(demo, "/action", {"at": "2/actions/0", "p:when": "line.qty > 100", "p:message:en": "Too many"})
    assert draft(demo_api)["actions"][2]["actions"] == [
        {"type": "refuse", "when": "line.qty > 100", "message": {"en": "Too many"}}
    ]
    post(demo, "/action/move", {"at": "2", "direction": "up"})
    assert [a["type"] for a in draft(demo_api)["actions"]] == ["refuse", "for_each_child", "set_fields"]
    post(demo, "/action/remove", {"at": "0"})
    assert [a["type"] for a in draft(demo_api)["actions"]] == ["for_each_child", "set_fields"]
    page = text(demo.get(f"{RULE}?action=0/actions/0"))
    assert 'name="p:when"' in page and "line.qty &gt; 100" in page
    # the panel of a set_fields action: one row per value and a blank one, keys chosen among the writable
    # fields of the order (not the computed total, not the system fields)
    page = text(demo.get(f"{RULE}?action=1"))
    assert chosen(page, "p:values/0/key") == "note" and chosen(page, "p:values/1/key") == ""
    keys = options_of(page, "p:values/1/key")
    assert {"note", "discount", "status", "customer"} <= set(keys) and not {"total", "id", "lines"} & set(
        keys
    )


def select_of(page: str, name: str) -> str:
    start = page.index(f'name="{name}"')
    return page[start : page.index("</select>", start)]


def chosen(page: str, name: str) -> str:
    found = re.search(r'<option value="([^"]*)" selected', select_of(page, name))
    return found.group(1) if found else ""


def options_of(page: str, name: str) -> list[str]:
    return [v for v in re.findall(r'<option value="([^"]*)"', select_of(page, name)) if v]


def test_refusals_save_nothing_and_name_their_json_path(demo, demo_api):
    before_update_rule(demo)
    saved = draft(demo_api)
    post(demo, "/actions", {"type": "explode"}, expect=400)
    post(demo, "/actions", {"type": "refuse", "into": "0"}, expect=400)  # a refuse holds no actions
    post(demo, "/actions", {"type": "refuse", "into": "../0"}, expect=400)
    post(demo, "/action", {"at": "7"}, expect=404)
    post(demo, "/action", {"at": "0/x"}, expect=400)
    post(demo, "/action/move", {"at": "0", "direction": "sideways"}, expect=400)
    refused = post(demo, "/action", {"at": "0", "p:when": "status = = 1"}, expect=422)
    assert 'data-error-for="actions/0/when"' in text(refused)
    post(demo, "/actions", {"type": "call_webhook"})
    refused = post(demo, "/action", {"at": "2", "p:url": "ftp://example.com"}, expect=422)
    assert 'data-error-for="actions/2/url"' in text(refused)
    assert draft(demo_api)["actions"][2] == {"type": "call_webhook", "url": "https://example.com/hook"}
    post(demo, "/actions", {"type": "notify"})
    recipient = {"n:to": "2", "p:to/0/kind": "role", "p:to/0/role": "nobody", "p:title:en": "Hi"}
    refused = post(demo, "/action", {"at": "3", **recipient, "p:to/0/kind": "boss"}, expect=422)
    assert 'data-error-for="actions/3/to/0"' in text(refused) and "unknown kind of recipient" in text(refused)
    post(demo, "/action", {"at": "3", **recipient, "del:to/0": "1"}, expect=422)  # notify needs someone
    post(demo, "/action", {"at": "3", **recipient})
    assert draft(demo_api)["actions"][3] == {
        "type": "notify",
        "to": {"role": "nobody"},
        "title": {"en": "Hi"},
    }
    # the publish's own name check reports the unknown role on the page, at its path
    assert "actions/3/to/role" in text(demo.get(RULE))
    # an after-only action in a before-rule is refused at its type
    post(demo, "/trigger", [*{**TRIGGER, "phase": "after"}.items(), ("events", "update")], expect=422)
    assert draft(demo_api)["trigger"]["phase"] == "before"
    body = draft(demo_api)
    assert body["actions"][:2] == saved["actions"]
    # removing every action leaves no rule: the schema refuses the last removal
    for _ in range(3):
        post(demo, "/action/remove", {"at": "0"})
    refused = post(demo, "/action/remove", {"at": "0"}, expect=422)
    assert "actions" in text(refused) and len(draft(demo_api)["actions"]) == 1


def test_expressions_are_checked_live_with_the_rule_scope(demo):
    before_update_rule(demo)
    post(demo, "/actions", {"type": "for_each_child"})
    post(demo, "/actions", {"type": "set_fields", "into": "2"})

    def check(at, name, value, extra=()):
        page = text(demo.get(RULE))
        data = [("base", base_of(page)), ("at", at), (name, value), *extra]
        response = demo.post(f"{RULE}/check-expression", data, htmx=True, headers={"HX-Trigger-Name": name})
        assert response.status_code == 200
        return text(response)

    assert 'data-check="valid"' in check("0", "p:when", "status = 'cancelled'")
    assert "nope" in check("0", "p:when", "nope > 1") and 'data-check="invalid"' in check(
        "0", "p:when", "nope"
    )
    assert 'data-check="invalid"' in check("0", "p:when", "1 +")
    value = check("1", "p:values/0/value", "number + ' ok'", [("n:values", "1"), ("p:values/0/key", "note")])
    assert 'data-check="valid"' in value and "number" in value
    assert 'data-check="invalid"' in check(
        "1", "p:values/0/value", "line.qty", [("n:values", "1"), ("p:values/0/key", "note")]
    )
    # inside the loop over the lines, the row is named: the same expression is sound there
    inside = check(
        "2/actions/0", "p:values/0/value", "line.qty", [("n:values", "1"), ("p:values/0/key", "note")]
    )
    assert 'data-check="valid"' in inside and "line" in inside


def order(api, number: int = 1) -> dict:
    return api.get(f"/api/data/demo/order/{number}").get_json()


def test_a_dry_run_of_the_draft_shows_the_changes_and_refusals_and_saves_nothing(demo, demo_api):
    before_update_rule(demo)
    options = demo.get(f"{RULE}/records?q=")
    assert options.status_code == 200
    items = options.get_json()["items"]
    assert items and {"value", "text", "hint"} <= set(items[0])
    record = order(demo_api, int(items[0]["value"]))
    assert demo.get(f"{RULE}/records?q={'x' * 101}").status_code == 400
    url = f"{RULE}/dry-run"
    data = [("record_id", str(record["id"])), ("change_field", "discount"), ("change_value", "5")]
    tried = demo.post(url, [*data, ("change_field", ""), ("change_value", "")], htmx=True)
    assert tried.status_code == 200, text(tried)[-2000:]
    page = text(tried)
    assert 'data-outcome="ok"' in page and "note" in page and "checked" in page and "discount" in page
    assert order(demo_api, record["id"])["note"] == record.get("note")  # nothing saved
    refused = text(
        demo.post(
            url,
            [("record_id", str(record["id"])), ("change_field", "status"), ("change_value", "cancelled")],
            htmx=True,
        )
    )
    assert 'data-outcome="refused"' in refused and f"No {record['number']}" in refused
    assert order(demo_api, record["id"])["status"] == record["status"]
    # the published rulebook is untouched: the rule is a draft
    assert demo_api.get("/api/definitions/demo/rule/big_order").get_json()["published"] is None
    assert demo.post(url, [("record_id", "abc")], htmx=True).status_code == 400
    assert demo.post(url, [("record_id", "999999")], htmx=True).status_code == 404
    # a draft the publish would refuse is not tried
    post(demo, "/action", {"at": "1", "n:values": "1", "p:values/0/key": "nope", "p:values/0/value": "1"})
    broken = demo.post(url, data, htmx=True)
    assert broken.status_code == 422 and "actions/1/values/nope" in text(broken)


def test_published_through_the_publish_page_it_fires_on_a_real_write_and_logs_its_runs(demo, demo_api):
    before_update_rule(demo)
    plan = text(demo.get("/design/demo/publish"))
    assert "big_order" in plan
    assert demo.post("/design/demo/publish", {}).status_code == 303
    assert demo_api.get("/api/definitions/demo/rule/big_order").get_json()["published_version"] == 1
    record = order(demo_api)
    changed = demo_api.patch(
        f"/api/data/demo/order/{record['id']}",
        json={"discount": "5"},
        headers={"If-Match": str(record["version"])},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["note"] == "checked"
    record = order(demo_api)
    refused = demo_api.patch(
        f"/api/data/demo/order/{record['id']}",
        json={"status": "cancelled"},
        headers={"If-Match": str(record["version"])},
    )
    assert refused.status_code == 422 and f"No {record['number']}" in refused.get_json()["error"]["message"]
    # the run log, with the failure one click away from the list and the rule page
    listed = text(demo.get(RULES))
    assert f'href="{RULE}?runs=failed#runs"' in listed
    failures = text(demo.get(f"{RULE}?runs=failed"))
    assert 'data-outcome="refused"' in failures and 'data-outcome="ok"' not in failures
    every = text(demo.get(RULE))
    assert 'data-outcome="ok"' in every and f'href="/a/demo/order/{record["id"]}"' in every
    # a published rule is not deleted (its versions are history)
    assert demo.post(f"{RULE}/delete", {}).status_code == 400
    assert "rule-delete" not in text(demo.get(RULES))


BUNDLE = {
    "app": {"name": "crm", "label": "CRM"},
    "entities": [{"name": "deal", "label": "Deal", "fields": [{"name": "title", "type": "text"}]}],
    "rules": [{"name": "deal_note", "entity": "deal", "trigger": {"events": ["create"]},
               "actions": [{"type": "publish_event", "topic": "deal.created"}]}],
    "roles": [
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "deal", "actions": ["read", "update"]}]},
        {"name": "builder", "label": "Builder", "grants": [{"entity": "deal", "actions": ["read", "configure"]}]},
    ],
}  # fmt: skip


@pytest.fixture
def crm(app, api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    add_role_users(app, "crm", {"vic": "viewer", "bea": "builder"}, PASSWORD)
    return api


def test_only_the_apps_designers_design_its_rules(app, crm, designer):
    url = "/design/crm/rule/deal_note"
    assert designer.get(url).status_code == 200
    page = text(designer.get(url))
    for username in ("vic", "bea"):  # bea may configure the table, not the app
        browser = signed_in(app, username, PASSWORD)
        assert browser.get("/design/crm/rules").status_code == 403
        assert browser.get(url).status_code == 403
        assert browser.get(f"{url}/records").status_code == 403
        for path, data in (
            ("/trigger", {"kind": "event", "events": "update"}),
            ("/actions", {"type": "refuse"}),
            ("/action", {"at": "0"}),
            ("/action/move", {"at": "0", "direction": "down"}),
            ("/action/remove", {"at": "0"}),
            ("/undo", {}),
            ("/dry-run", {}),
            ("/delete", {}),
        ):
            assert browser.post(url + path, {"base": base_of(page), **data}).status_code == 403, path
        assert (
            browser.post("/design/crm/rules", {"name": "x", "entity": "deal", "type": "refuse"}).status_code
            == 403
        )
    # without the CSRF token even the designer is refused; signed out, sent to sign in
    assert (
        designer.post(f"{url}/actions", {"base": base_of(page), "type": "refuse"}, csrf=False).status_code
        == 403
    )
    assert Browser(app.test_client()).get(url).status_code in (302, 303)
    assert crm.get("/api/definitions/crm/rule/deal_note").get_json()["draft"]["actions"] == [
        {"type": "publish_event", "topic": "deal.created"}
    ]


def test_another_apps_rule_is_not_found_here(demo, crm):
    assert demo.get("/design/demo/rule/deal_note").status_code == 404
    assert demo.post("/design/demo/rule/deal_note/delete", {}).status_code == 404
    assert demo.get("/design/crm/rule/big_order").status_code == 404
    # a rule of the demo app cannot be made on another app's table
    create(demo, name="cross", entity="deal", expect=422)


# -- the panels' own widgets: conditions over the target, recipients, lines ------------------------------


def panel(browser, at="0") -> str:
    return text(browser.get(f"{RULE}?action={at}"))


def variables_offered(page: str, list_id: str = "vars-where") -> list[str]:
    start = page.index(f'<datalist id="{list_id}">')
    return re.findall(r'<option value="([^"]*)"', page[start : page.index("</datalist>", start)])


WHERE_CUSTOMER = [
    ("p:entity", "customer"),
    ("c:where/mode", "all"),
    ("c:where/0/field", "id"),
    ("c:where/0/op", "="),
    ("c:where/0/value", "$record.customer"),
    ("n:set", "2"),
    ("p:set/0/key", "credit_limit"),
    ("p:set/0/value", "credit_limit + 1"),
]


def test_an_update_chooses_its_records_with_the_condition_builder_over_its_target(demo, demo_api):
    create(demo, kind="update_records")
    assert draft(demo_api)["actions"][0]["entity"] == "customer"  # the first table, where id is empty
    page = panel(demo)
    assert 'name="c:where/0/field"' in page and chosen(page, "c:where/0/field") == "id"
    assert "/design/demo/entity/customer/condition-row" in page  # rows redrawn over the target's fields
    assert 'list="vars-where"' not in page  # an "is empty" row has no value input
    offered = variables_offered(page)
    assert "$record.customer" in offered and "$user.id" in offered and "$today" in offered
    assert not any(v.startswith("$line.") for v in offered)  # no loop around this action
    assert "Which records (condition)" in page and "Set on each matching record" in page
    post(demo, "/action", [("at", "0"), *WHERE_CUSTOMER])
    action = draft(demo_api)["actions"][0]
    assert action["where"] == {"all": [{"field": "id", "op": "=", "value": "$record.customer"}]}
    assert action["set"] == {"credit_limit": "credit_limit + 1"}
    page = panel(demo)
    assert 'list="vars-where"' in page and 'value="$record.customer"' in page
    assert "credit_limit" in options_of(page, "p:set/1/key")  # the keys are the customer's fields
    assert "discount" not in options_of(page, "p:set/1/key")
    assert 'data-problem-for="actions/0' not in page  # the publish would take it
    # a variable the rule does not have, or a field of another table, saves nothing and names its row
    for field, value in (("id", "$nothing.id"), ("discount", "5")):
        bad = [
            *WHERE_CUSTOMER[:2],
            ("c:where/0/field", field),
            ("c:where/0/op", "="),
            ("c:where/0/value", value),
        ]
        refused = post(demo, "/action", [("at", "0"), *bad, *WHERE_CUSTOMER[5:]], expect=422)
        assert 'data-error-for="where/0"' in text(refused), field
    # an update without a condition would touch every record: the schema wants one
    post(demo, "/action", [("at", "0"), *WHERE_CUSTOMER, ("cdel:where/0", "1")], expect=422)
    assert draft(demo_api)["actions"][0]["where"] == action["where"]
    # rows added by the builder's button, saved with the panel
    post(demo, "/action", [("at", "0"), *WHERE_CUSTOMER, ("cadd:where", "row")])
    assert len(draft(demo_api)["actions"][0]["where"]["all"]) == 2


def test_what_the_builder_cannot_say_is_edited_as_json(demo, demo_api):
    create(demo, kind="update_records")
    post(demo, "/action", [("at", "0"), *WHERE_CUSTOMER])
    page = panel(demo)
    drawn = re.search(r'name="jbase:where" value="([^"]*)"', page).group(1).replace("&#34;", '"')
    assert '"$record.customer"' in drawn and 'name="j:where"' in page
    # unchanged JSON: the rows win (a row changed in the builder is saved)
    rows = [*WHERE_CUSTOMER[:4], ("c:where/0/value", "$record.id"), *WHERE_CUSTOMER[5:]]
    rows += [("jbase:where", drawn), ("j:where", drawn)]
    post(demo, "/action", [("at", "0"), *rows])
    assert draft(demo_api)["actions"][0]["where"]["all"][0]["value"] == "$record.id"
    # changed JSON replaces the rows
    doc = '{"not": {"field": "level", "op": "in", "value": ["vip", "$record.status"]}}'
    post(demo, "/action", [("at", "0"), *WHERE_CUSTOMER, ("jbase:where", drawn), ("j:where", doc)])
    assert draft(demo_api)["actions"][0]["where"] == {
        "not": {"field": "level", "op": "in", "value": ["vip", "$record.status"]}
    }
    refused = post(
        demo, "/action", [("at", "0"), *WHERE_CUSTOMER, ("jbase:where", ""), ("j:where", "{nope")], expect=422
    )
    assert 'data-error-for="actions/0/where"' in text(refused)
    assert draft(demo_api)["actions"][0]["where"]["not"]["field"] == "level"


def test_a_loop_inside_a_loop_offers_the_outer_row_as_values(demo, demo_api):
    create(demo, kind="for_each_child")
    post(demo, "/actions", {"type": "for_each_record", "into": "0"})
    post(demo, "/actions", {"type": "collect", "into": "0"})
    inner = [
        ("p:entity", "product"),
        ("c:where/mode", "all"),
        ("c:where/0/field", "id"),
        ("c:where/0/op", "="),
        ("c:where/0/value", "$line.product"),
    ]
    post(demo, "/action", [("at", "0/actions/0"), *inner])
    assert draft(demo_api)["actions"][0]["actions"][0]["where"] == {
        "all": [{"field": "id", "op": "=", "value": "$line.product"}]
    }
    page = panel(demo, "0/actions/0")
    assert "$line.product" in variables_offered(page) and "/entity/product/condition-row" in page
    assert not any("0/actions/0/where" in p for p in re.findall(r'data-problem-for="([^"]*)"', page))
    # a collect may filter its records too (optional: no rows, no condition), and its value has its label
    post(
        demo,
        "/action",
        [
            ("at", "0/actions/1"),
            ("p:entity", "order"),
            ("p:value", "item.id"),
            ("p:into", "ids"),
            ("c:where/mode", "all"),
        ],
    )
    collect = draft(demo_api)["actions"][0]["actions"][1]
    assert "where" not in collect and collect["entity"] == "order"
    page = panel(demo, "0/actions/1")
    assert "Value collected from each record" in page and "$line.qty" in variables_offered(page)
    # outside the loop the line is not there to read
    create(demo, name="other", kind="collect")
    assert not any(
        v.startswith("$line") for v in variables_offered(text(demo.get("/design/demo/rule/other?action=0")))
    )


def test_the_trigger_condition_on_the_record_before_the_change(demo, demo_api):
    create(demo)
    old = [
        ("c:old_condition/mode", "all"),
        ("c:old_condition/0/field", "status"),
        ("c:old_condition/0/op", "="),
        ("c:old_condition/0/value", "draft"),
    ]
    post(demo, "/trigger", [*TRIGGER.items(), ("events", "update"), *old])
    assert draft(demo_api)["trigger"]["old_condition"] == {
        "all": [{"field": "status", "op": "=", "value": "draft"}]
    }
    page = text(demo.get(RULE))
    assert chosen(page, "c:old_condition/0/value") == "draft" and "before the change" in page
    post(demo, "/trigger", [*TRIGGER.items(), ("events", "update")])  # a post without it keeps it
    assert "old_condition" in draft(demo_api)["trigger"]
    bad = [old[0], ("c:old_condition/0/field", "discount"), ("c:old_condition/0/op", ">")]
    bad += [("c:old_condition/0/value", "lots")]
    refused = post(demo, "/trigger", [*TRIGGER.items(), ("events", "update"), *bad], expect=422)
    assert 'data-error-for="old_condition/0"' in text(refused)
    post(demo, "/trigger", [*TRIGGER.items(), ("events", "update"), *old, ("cdel:old_condition/0", "1")])
    assert "old_condition" not in draft(demo_api)["trigger"]


def with_user_field_and_role(demo_api) -> None:
    """A draft of the order with a user field, and a role of the app."""
    body = (
        draft(demo_api, "order") if False else demo_api.get("/api/definitions/demo/entity/order").get_json()
    )
    order = body["draft"] or body["published"]
    order["fields"].append({"name": "handler", "label": {"en": "Handler"}, "type": "user"})
    assert demo_api.put("/api/definitions/demo/entity/order", json=order).status_code == 200
    role = {"name": "clerk", "label": {"en": "Clerk"}, "grants": [{"entity": "order", "actions": ["read"]}]}
    assert demo_api.put("/api/definitions/demo/role/clerk", json=role).status_code in (200, 201)


def test_notify_chooses_roles_user_fields_or_an_expression(demo, demo_api):
    with_user_field_and_role(demo_api)
    create(demo, kind="notify")
    page = panel(demo)
    assert chosen(page, "p:to/0/kind") == "user" and 'name="p:to/0/user" value="user.id"' in page
    assert options_of(page, "p:to/0/role") == ["clerk"] and options_of(page, "p:to/0/field") == ["handler"]
    assert "Link (empty: the record&#39;s page)" in page
    three = {
        "n:to": "4",
        "p:title:en": "Hi",
        "p:to/0/kind": "role",
        "p:to/0/role": "clerk",
        "p:to/1/kind": "field",
        "p:to/1/field": "handler",
        "p:to/2/kind": "user",
        "p:to/2/user": "record.handler",
        "p:to/3/kind": "",
        "p:to/3/user": "ignored",
    }
    post(demo, "/action", {"at": "0", **three})
    assert draft(demo_api)["actions"][0]["to"] == [
        {"role": "clerk"},
        {"field": "handler"},
        {"user": "record.handler"},
    ]
    page = panel(demo)
    assert [chosen(page, f"p:to/{i}/kind") for i in range(4)] == ["role", "field", "user", ""]
    assert chosen(page, "p:to/1/field") == "handler" and 'data-problem-for="actions/0' not in page
    post(demo, "/action", {"at": "0", **three, "del:to/0": "1", "del:to/1": "1"})  # one left: an object
    assert draft(demo_api)["actions"][0]["to"] == {"user": "record.handler"}
    # a row count out of reason reads at most the rows there can be; nothing breaks
    post(demo, "/action", {"at": "0", **three, "n:to": "99999999"})
    assert len(draft(demo_api)["actions"][0]["to"]) == 3


def test_create_record_lines_are_rows_from_a_list_with_values_by_field(demo, demo_api):
    create(demo, kind="create_record")
    base = {"p:entity": "order", "n:values": "1", "p:values/0/key": "note", "p:values/0/value": "'copy'"}
    post(demo, "/action", {"at": "0", **base})
    page = panel(demo)
    assert options_of(page, "p:children/0/table") == ["lines"] and "Lines of the new record" in page
    assert options_of(page, "p:children/0/from") == ["lines"]
    assert "note" in options_of(page, "p:values/0/key") and "total" not in options_of(page, "p:values/0/key")
    lines = {
        "n:children": "2",
        "p:children/0/table": "lines",
        "p:children/0/from": "lines",
        "n:children/0/values": "3",
        "p:children/0/values/0/key": "product",
        "p:children/0/values/0/value": "line.product",
        "p:children/0/values/1/key": "qty",
        "p:children/0/values/1/value": "line.qty",
        "p:children/1/table": "",
    }
    post(demo, "/action", {"at": "0", **base, **lines})
    assert draft(demo_api)["actions"][0]["children"] == {
        "lines": [{"from": "lines", "values": {"product": "line.product", "qty": "line.qty"}}]
    }
    page = panel(demo)
    assert chosen(page, "p:children/0/values/1/key") == "qty"
    assert set(options_of(page, "p:children/0/values/2/key")) == {"product", "qty", "unit_price"}
    assert not any("actions/0/children" in p for p in re.findall(r'data-problem-for="([^"]*)"', page))
    # a fixed line beside the copied ones, then the copied ones removed
    fixed = {
        "n:children": "2",
        "p:children/1/table": "lines",
        "p:children/1/when": "discount > 0",
        "n:children/1/values": "1",
        "p:children/1/values/0/key": "qty",
        "p:children/1/values/0/value": "1",
    }
    post(demo, "/action", {"at": "0", **base, **lines, **fixed})
    assert draft(demo_api)["actions"][0]["children"]["lines"][1] == {
        "when": "discount > 0",
        "values": {"qty": "1"},
    }
    post(demo, "/action", {"at": "0", **base, **lines, **fixed, "del:children/0": "1"})
    assert draft(demo_api)["actions"][0]["children"] == {
        "lines": [{"when": "discount > 0", "values": {"qty": "1"}}]
    }
    # a table the new record does not have is posted anyway: the publish names it
    post(demo, "/action", {"at": "0", **base, **lines, "p:children/0/table": "nothing"})
    assert "actions/0/children/nothing" in text(demo.get(RULE))


def test_rule_expressions_are_called_expressions_and_rows_offer_variables_only_when_asked(demo):
    before_update_rule(demo)
    page = text(demo.get(RULE))
    data = [("base", base_of(page)), ("at", "0"), ("p:when", "status = 'cancelled'")]
    checked = text(
        demo.post(f"{RULE}/check-expression", data, htmx=True, headers={"HX-Trigger-Name": "p:when"})
    )
    assert "Valid expression" in checked and "formula" not in checked
    demo.post("/language", {"lang": "zh_CN", "next": RULE})
    checked = text(
        demo.post(f"{RULE}/check-expression", data, htmx=True, headers={"HX-Trigger-Name": "p:when"})
    )
    assert "表达式有效" in checked
    url = "/design/demo/entity/order/condition-row"
    row = [("_row", "where/0"), ("c:where/0/field", "order_date"), ("c:where/0/op", "=")]
    plain = text(demo.post(url, row, htmx=True))
    assert 'type="date"' in plain and "list=" not in plain
    offered = text(demo.post(url, [*row, ("_suggest", "vars-where")], htmx=True))
    assert (
        'type="text"' in offered and 'list="vars-where"' in offered and '"_suggest": "vars-where"' in offered
    )
    assert demo.post(url, [*row, ("_suggest", 'vars-x" onfocus="x')], htmx=True).status_code == 400
