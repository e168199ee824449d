"""Dry runs through the API: what a write would do with one rule (or all of an entity's) - the record, every
touched record's diff, the outbox events, the rule runs - and that nothing of it is committed or logged."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa

from lowcode.auth.users import create_user
from lowcode.core.models import AuditEntry, OutboxEvent, RoleAssignment, RuleRunEntry
from tests.conftest import ApiClient, login
from tests.integration.rules.stock_bundle import BUNDLE

PASSWORD = "user-pass-123"
URL = "/api/rules/shop/dry-run"


def dry_run_bundle() -> dict:
    bundle = copy.deepcopy(BUNDLE)
    bundle["rules"] += [
        {"name": "restock_on_cancel", "entity": "sales_order", "enabled": False,
         "trigger": {"events": ["update"], "transition": {"field": "status", "to": ["cancelled"]}},
         "actions": [{"type": "for_each_child", "child": "lines", "actions": [
             {"type": "create_record", "entity": "stock_ledger", "values": {
                 "product": "line.product", "warehouse": "record.warehouse", "kind": "'receipt'", "qty": "line.qty"}}]}]},
        {"name": "flag_low_stock", "entity": "stock_balance",
         "schedule": {"cron": "0 8 * * *", "condition": {"field": "on_hand", "op": "<", "value": 10}},
         "actions": [{"type": "update_records", "entity": "stock_balance", "expect": "one",
                      "where": {"field": "id", "op": "=", "value": "$record.id"}, "set": {"reserved": "on_hand"}}]},
    ]  # fmt: skip
    bundle["roles"] = [
        {"name": "clerk", "label": "Clerk", "grants": [
            {"entity": "sales_order", "actions": ["read", "update"], "fields": {"note": "hidden"}}]},
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "sales_order", "actions": ["read"]}]},
    ]  # fmt: skip
    return bundle


@pytest.fixture
def shop(app, api):
    response = api.post("/api/templates/import", json=dry_run_bundle())
    assert response.status_code == 201, response.get_json()
    product = api.post("/api/data/shop/product", json={"sku": "TEE-1"}).get_json()["id"]
    warehouse = api.post("/api/data/shop/warehouse", json={"code": "WH1"}).get_json()["id"]
    receipt = {"product": product, "warehouse": warehouse, "kind": "receipt", "qty": "100"}
    assert api.post("/api/data/shop/stock_ledger", json=receipt).status_code == 201
    body = {"warehouse": warehouse, "lines": [{"product": product, "qty": "7"}]}
    order = api.post("/api/data/shop/sales_order", json=body).get_json()
    return api, product, warehouse, order


def counts(app) -> tuple[int, int, int]:
    with app.extensions["lowcode"].db.read() as s:
        return tuple(
            s.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (AuditEntry, OutboxEvent, RuleRunEntry)
        )


def test_dry_run_of_one_rule_shows_every_change_and_commits_nothing(app, shop):
    api, product, warehouse, order = shop
    before = counts(app)
    body = {"entity": "sales_order", "record_id": order["id"], "changes": {"status": "confirmed"},
            "version": 1, "rule": "reserve_on_confirm"}  # fmt: skip
    response = api.post(URL, json=body)
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert (result["outcome"], result["message"], result["rules"]) == ("ok", "", ["reserve_on_confirm"])
    assert result["record"]["status"] == "confirmed" and result["record"]["version"] == 2
    assert result["record"]["lines"][0]["qty"] == "7.000"
    touched = [(c["entity"], c["action"], c["diff"]) for c in result["changes"]]
    # the write itself first, then what its after-rule did (audit and outbox follow cause and version order)
    assert touched[0] == ("sales_order", "update", {"status": ["draft", "confirmed"]})
    assert touched[1] == (
        "stock_balance",
        "update",
        {"reserved": ["0.000", "7.000"], "available": ["100.000", "93.000"]},
    )
    assert touched[2][:2] == ("stock_ledger", "create") and touched[2][2]["qty"] == [None, "7.000"]
    assert [c["actor"] for c in result["changes"]] == ["admin"] + ["system:rule:reserve_on_confirm"] * 2
    assert [(e["entity"], e["kind"]) for e in result["events"]] == [
        ("sales_order", "updated"), ("stock_balance", "updated"), ("stock_ledger", "created")]  # fmt: skip
    [run] = result["runs"]  # needs_lines (a before-rule of the same transition) was not enabled
    assert (run["rule"], run["record_id"], run["trigger"], run["phase"], run["outcome"]) == (
        "reserve_on_confirm", order["id"], "update", "after", "ok")  # fmt: skip
    assert run["actions"][0] == "updated 1 stock_balance" and run["duration_ms"] >= 0
    # nothing was committed: the order, the stock, the logs are as they were
    assert counts(app) == before
    assert api.get(f"/api/data/shop/sales_order/{order['id']}").get_json()["status"] == "draft"
    ledger = api.get("/api/data/shop/stock_ledger").get_json()["data"]
    assert [r["kind"] for r in ledger] == ["receipt"]
    # and the real confirm then does just what the dry run said
    real = api.patch(
        f"/api/data/shop/sales_order/{order['id']}", json={"status": "confirmed"}, headers={"If-Match": '"1"'}
    )
    assert real.status_code == 200


def test_a_refusal_is_the_would_be_outcome_with_every_rule_of_the_entity(app, shop):
    api, product, warehouse, order = shop
    big = api.post("/api/data/shop/sales_order",
                   json={"warehouse": warehouse, "lines": [{"product": product, "qty": "130"}]}).get_json()  # fmt: skip
    before = counts(app)
    response = api.post(
        URL, json={"entity": "sales_order", "record_id": big["id"], "changes": {"status": "confirmed"}}
    )
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["outcome"] == "refused"
    assert result["message"] == f"Not enough stock of product {product}: short by 30"
    assert result["rules"] == ["label_note", "needs_lines", "release_on_cancel", "reserve_on_confirm"]
    assert [(r["rule"], r["outcome"]) for r in result["runs"]] == [
        ("needs_lines", "ok"),
        ("reserve_on_confirm", "refused"),
    ]
    assert result["runs"][1]["message"] == result["message"] and result["record"] is None
    assert counts(app) == before  # the refused run was not logged for real either


def test_dry_run_of_a_new_record_keeps_the_numbering_gap_free(app, shop):
    api, product, warehouse, order = shop
    body = {
        "entity": "sales_order",
        "changes": {"warehouse": warehouse, "lines": [{"product": product, "qty": "2"}]},
    }
    result = api.post(URL, json=body).get_json()
    assert result["outcome"] == "ok" and result["record"]["note"] == "lines: 1"  # the before-rule set it
    assert result["record"]["number"] == "SO-00002"
    assert [(c["entity"], c["action"]) for c in result["changes"]] == [("sales_order", "create")]
    assert [r["rule"] for r in result["runs"]] == ["label_note"]
    assert result["other"] == []  # the naming series' counter row is not reported
    created = api.post("/api/data/shop/sales_order", json=body["changes"]).get_json()
    assert created["number"] == "SO-00002"  # the dry run's number was rolled back with it


def test_a_disabled_rule_can_be_tried_and_cascades_can_be_turned_off(app, shop):
    api, product, warehouse, order = shop
    body = {"entity": "sales_order", "record_id": order["id"], "changes": {"status": "cancelled"}}
    everything = api.post(URL, json=body).get_json()
    assert "restock_on_cancel" not in everything["rules"] and everything["runs"] == []
    tried = api.post(URL, json={**body, "rule": "restock_on_cancel"}).get_json()
    assert [r["rule"] for r in tried["runs"]] == [
        "receive_into_stock",
        "restock_on_cancel",
    ]  # the cascade ran
    balance = [c for c in tried["changes"] if c["entity"] == "stock_balance"]
    assert balance[0]["diff"] == {"on_hand": ["100.000", "107.000"], "available": ["100.000", "107.000"]}
    alone = api.post(URL, json={**body, "rule": "restock_on_cancel", "cascade": False}).get_json()
    assert [r["rule"] for r in alone["runs"]] == ["restock_on_cancel"]
    assert not [c for c in alone["changes"] if c["entity"] == "stock_balance"]


def test_a_scheduled_rule_runs_its_actions_for_the_record(app, shop):
    api, product, warehouse, order = shop
    [balance] = api.get("/api/data/shop/stock_balance").get_json()["data"]
    body = {"entity": "stock_balance", "record_id": balance["id"], "rule": "flag_low_stock"}
    skipped = api.post(URL, json=body).get_json()
    assert skipped["outcome"] == "skipped" and "does not match the schedule condition" in skipped["message"]
    low = api.post(URL, json={**body, "changes": {"on_hand": "4"}}).get_json()  # applied first, no rule
    assert low["outcome"] == "ok", low
    assert [c["diff"] for c in low["changes"]] == [
        {"on_hand": ["100.000", "4.000"], "available": ["100.000", "4.000"]},
        {"reserved": ["0.000", "4.000"], "available": ["4.000", "0.000"]},
    ]
    assert [(r["rule"], r["trigger"], r["phase"]) for r in low["runs"]] == [
        ("flag_low_stock", "dry-run", "schedule")
    ]
    assert api.get(f"/api/data/shop/stock_balance/{balance['id']}").get_json()["on_hand"] == "100.000"


def test_invalid_changes_are_the_would_be_outcome_and_bad_requests_are_errors(shop):
    api, product, warehouse, order = shop
    invalid = api.post(
        URL, json={"entity": "sales_order", "record_id": order["id"], "changes": {"status": "shipped"}}
    )
    assert invalid.status_code == 200 and invalid.get_json()["outcome"] == "invalid"
    assert "status" in invalid.get_json()["fields"]
    cases = [
        ({"record_id": 1}, 400, "entity is required"),
        ({"entity": "sales_order", "record_id": "1"}, 400, "record_id must be a positive integer"),
        ({"entity": "sales_order", "changes": []}, 400, "changes must be an object"),
        ({"entity": "sales_order", "oops": 1}, 400, "Unknown keys: oops"),
        ({"entity": "sales_order", "cascade": "no"}, 400, "cascade must be true or false"),
        ({"entity": "sales_order", "rule": "nope"}, 404, "No published rule 'nope'"),
        ({"entity": "stock_ledger", "rule": "reserve_on_confirm"}, 400, "is a rule of 'sales_order'"),
        ({"entity": "order_line"}, 400, "written through their parent"),
        ({"entity": "sales_order", "record_id": 999, "changes": {"note": "x"}}, 404, "No sales_order record"),
        (
            {"entity": "sales_order", "record_id": order["id"], "version": 7, "changes": {"note": "x"}},
            409,
            "changed by",
        ),
    ]
    for body, status, message in cases:
        response = api.post(URL, json=body)
        assert response.status_code == status, (body, response.get_json())
        assert message in response.get_json()["error"]["message"], (body, response.get_json())
    assert api.post("/api/rules/nowhere/dry-run", json={"entity": "x"}).status_code == 404


def test_dry_runs_need_the_write_permission_and_hide_hidden_fields(app, shop):
    api, product, warehouse, order = shop
    svc = app.extensions["lowcode"]
    with svc.db.write() as s:
        for name, role in (("clerk", "clerk"), ("viewer", "viewer")):
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="shop", role=role, granted_by="test"))
    clerk, viewer = (
        ApiClient(c, login(c, n, PASSWORD))
        for n, c in (("clerk", app.test_client()), ("viewer", app.test_client()))
    )
    body = {"entity": "sales_order", "record_id": order["id"], "changes": {"status": "confirmed"}}
    assert viewer.post(URL, json=body).status_code == 403
    assert (
        viewer.post(URL, json={"entity": "sales_order", "changes": {}}).status_code == 403
    )  # no create either
    result = clerk.post(URL, json=body).get_json()
    assert result["outcome"] == "ok" and "note" not in result["record"]
    assert all("note" not in c["diff"] for c in result["changes"] if c["entity"] == "sales_order")
    assert result["other"] == []
