"""Definitions are checked as a whole before publish (issue 9, item 5), through the API: a rename under a
rule's expression is a 422 naming the rule and the JSON path - not a 200 followed by "unknown name" on
every create; an entity publish that drops a field which published views, forms, roles or rules use is
refused unless they are published with it; dry runs, rollbacks and template imports check the same; a
literal local webhook address is refused at publish unless LOWCODE_WEBHOOK_ALLOW names it."""

from __future__ import annotations

import pytest

APP = {"name": "shop", "label": "Shop"}
STATUS = {"name": "status", "type": "select", "options": {"choices": [{"value": "open"}, {"value": "done"}]}}


def _item(*fields) -> dict:
    return {"name": "item", "label": "Item", "fields": [{"name": "name", "type": "text"}, *fields]}


ITEM = _item(
    {"name": "qty", "type": "integer"},
    {"name": "price", "type": "decimal", "options": {"scale": 2}},
    {"name": "total", "type": "decimal", "options": {"scale": 2}},
    STATUS,
)
RULE = {
    "name": "price_total",
    "entity": "item",
    "trigger": {"events": ["create", "update"], "phase": "before"},
    "actions": [{"type": "set_fields", "values": {"total": "qty * price"}}],
}


def _put(api, kind: str, body: dict) -> None:
    response = api.put(f"/api/definitions/shop/{kind}/{body['name']}", json=body)
    assert response.status_code == 200, response.get_json()


def _publish(api, kind: str, name: str, expect: int = 200, **options):
    response = api.post(f"/api/definitions/shop/{kind}/{name}/publish", json=options or None)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


@pytest.fixture
def shop(api):
    """The shop app: item (qty, price, total, status) and a before-rule computing total = qty * price."""
    for kind, body in (("app", APP), ("entity", ITEM), ("rule", RULE)):
        _put(api, kind, body)
        _publish(api, kind, body["name"])
    return api


def _create(api, **values) -> dict:
    response = api.post("/api/data/shop/item", json={"name": "x", **values})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_renaming_a_field_a_rule_expression_uses_is_refused_naming_the_rule_and_path(shop):
    assert _create(shop, qty=2, price="1.50")["total"] == "3.00"
    renamed = _item({"name": "quantity", "type": "integer"}, *ITEM["fields"][2:])
    _put(shop, "entity", renamed)
    refused = _publish(shop, "entity", "item", expect=422, renames={"qty": "quantity"})
    assert refused["error"]["code"] == "definition_invalid"
    assert refused["error"]["fields"] == {"rule:price_total/actions/0/values/total": ["unknown name 'qty'"]}
    assert _publish(shop, "entity", "item", expect=422, renames={"qty": "quantity"}, dry_run=True)["error"][
        "fields"
    ]
    assert _create(shop, qty=3, price="2.00")["total"] == "6.00"  # nothing changed: writes still work
    _put(shop, "rule", {**RULE, "actions": [{"type": "set_fields", "values": {"total": "quantity * price"}}]})
    done = shop.post(
        "/api/definitions/shop/publish", json={"entities": {"item": {"renames": {"qty": "quantity"}}}}
    )
    assert done.status_code == 200, done.get_json()
    assert {p["name"] for p in done.get_json()["published"]} == {"item", "price_total"}
    assert _create(shop, quantity=4, price="2.00")["total"] == "8.00"


def test_a_rule_draft_with_an_unknown_name_is_refused_and_the_published_version_keeps_running(shop):
    broken = {
        **RULE,
        "actions": [
            {"type": "set_fields", "values": {"total": "qty * unit_price"}},
            {"type": "refuse", "when": "record.qty < 0", "message": "{record.sku}"},
        ],
    }
    _put(shop, "rule", broken)
    fields = _publish(shop, "rule", "price_total", expect=422)["error"]["fields"]
    assert fields == {
        "rule:price_total/actions/0/values/total": ["unknown name 'unit_price'"],
        "rule:price_total/actions/1/message": ["{record.sku}: 'record' (a item record) has no field 'sku'"],
    }
    assert shop.post("/api/definitions/shop/publish").status_code == 422  # publishing all drafts: the same
    assert _create(shop, qty=1, price="5.00")["total"] == "5.00"


def test_dropping_a_field_that_published_views_forms_roles_and_rules_use_is_refused(shop):
    view = {
        "name": "open_items",
        "entity": "item",
        "columns": ["name", "status"],
        "filter": {"field": "status", "op": "=", "value": "open"},
        "sort": [{"field": "status"}],
    }
    form = {"name": "item_form", "entity": "item", "sections": [{"fields": ["name", "status"]}]}
    role = {
        "name": "clerk",
        "label": "Clerk",
        "grants": [
            {
                "entity": "item",
                "actions": ["read"],
                "record_rule": {"field": "status", "op": "=", "value": "open"},
            }
        ],
    }
    rule = {
        "name": "close",
        "entity": "item",
        "trigger": {"events": ["update"], "fields_changed": ["status"]},
        "actions": [{"type": "refuse", "when": "old.status = 'done'", "message": "closed"}],
    }
    for kind, body in (("view", view), ("form", form), ("role", role), ("rule", rule)):
        _put(shop, kind, body)
        _publish(shop, kind, body["name"])
    _put(shop, "entity", _item(*ITEM["fields"][1:4]))
    fields = _publish(shop, "entity", "item", expect=422)["error"]["fields"]
    assert set(fields) == {
        "view:open_items/columns/1",
        "view:open_items/filter/field",
        "view:open_items/sort/0/field",
        "form:item_form/sections/0/fields/1",
        "role:clerk/grants/0/record_rule/field",
        "rule:close/trigger/fields_changed/0",
    }
    assert (
        shop.post("/api/definitions/shop/publish").status_code == 422
    )  # the dependants' drafts are not updated
    assert _create(shop, status="open")["status"] == "open"  # the field and its column are still there
    _put(
        shop,
        "view",
        {**view, "columns": ["name"], "filter": {"field": "qty", "op": ">", "value": 0}, "sort": []},
    )
    _put(shop, "form", {**form, "sections": [{"fields": ["name"]}]})
    _put(shop, "role", {**role, "grants": [{"entity": "item", "actions": ["read"]}]})
    _put(
        shop,
        "rule",
        {
            **rule,
            "trigger": {"events": ["update"]},
            "actions": [{"type": "refuse", "when": "qty < 0", "message": "negative"}],
        },
    )
    done = shop.post("/api/definitions/shop/publish")
    assert done.status_code == 200, done.get_json()
    assert "status" not in _create(shop, qty=1)


def test_a_rollback_to_a_version_whose_names_are_gone_is_refused(shop):
    _put(shop, "rule", {**RULE, "actions": [{"type": "set_fields", "values": {"total": "price"}}]})
    _publish(shop, "rule", "price_total")  # version 2 no longer reads qty
    _put(shop, "entity", _item(*ITEM["fields"][2:]))
    _publish(shop, "entity", "item")  # qty goes to the trash
    refused = shop.post("/api/definitions/shop/rule/price_total/rollback/1")
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["fields"] == {
        "rule:price_total/actions/0/values/total": ["unknown name 'qty'"]
    }


def test_a_template_whose_rule_names_an_unknown_field_installs_nothing(api):
    bundle = {
        "app": {"name": "tpl", "label": "Tpl"},
        "entities": [ITEM],
        "rules": [{**RULE, "actions": [{"type": "set_fields", "values": {"totl": "qty"}}]}],
    }
    response = api.post("/api/templates/import", json=bundle)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"] == {
        "rules/price_total.json: $.actions[0].values.totl": ["'totl' is not a writable field of item"]
    }
    assert api.get("/api/definitions/tpl").get_json()["data"] == []


def _webhook_rule(url: str) -> dict:
    return {
        "name": "tell",
        "entity": "item",
        "trigger": {"events": ["create"]},
        "actions": [{"type": "call_webhook", "url": url, "payload": {"name": "name"}}],
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:9000/x",
        "http://localhost/x",
        "http://[::1]/x",
        "http://0x7f.1/x",
        "http://192.168.1.10/x",
    ],
)
def test_a_webhook_to_a_literal_local_address_is_refused_at_publish(shop, url):
    _put(shop, "rule", _webhook_rule(url))
    fields = _publish(shop, "rule", "tell", expect=422)["error"]["fields"]
    assert list(fields) == ["rule:tell/actions/0/url"]
    assert "LOWCODE_WEBHOOK_ALLOW" in fields["rule:tell/actions/0/url"][0]


def test_a_webhook_to_a_host_name_is_left_to_the_delivery_check(shop):
    """No DNS at publish (a name that cannot resolve publishes); delivery resolves and checks it."""
    _put(shop, "rule", _webhook_rule("https://hooks.example.invalid/orders"))
    _publish(shop, "rule", "tell")


class TestAllowedWebhooks:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"WEBHOOK_ALLOW": "127.0.0.1, hooks.internal"}

    def test_an_allowed_local_address_publishes(self, shop):
        _put(shop, "rule", _webhook_rule("http://127.0.0.1:9000/x"))
        _publish(shop, "rule", "tell")
        _put(shop, "rule", _webhook_rule("http://10.0.0.5/x"))  # not on the list
        assert list(_publish(shop, "rule", "tell", expect=422)["error"]["fields"]) == [
            "rule:tell/actions/0/url"
        ]
