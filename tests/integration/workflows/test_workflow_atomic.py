"""Guarded atomic updates (rule actions ``update_records``) follow the workflow too: the state field moves
only along a declared transition (grants do not bind the system identity of rules, conditions do), a
locked record or field is not touched, and rules on the transition fire."""

from __future__ import annotations

import pytest

from .bundle import install

URL = "/api/data/shop/order"
RULE = {
    "name": "ship_by_log", "entity": "shipment_log", "trigger": {"events": ["create"], "phase": "after"},
    "actions": [
        {"type": "update_records", "entity": "order", "when": "what = 'ship'", "expect": "one",
         "where": {"field": "id", "op": "=", "value": "$record.order_id"}, "set": {"status": "'shipped'"}},
        {"type": "update_records", "entity": "order", "when": "what = 'rename'", "expect": "one",
         "where": {"field": "id", "op": "=", "value": "$record.order_id"}, "set": {"customer": "'Renamed'"}},
        {"type": "update_records", "entity": "order", "when": "what = 'note'", "expect": "one",
         "where": {"field": "id", "op": "=", "value": "$record.order_id"}, "set": {"note": "'noted'"}},
    ],
}  # fmt: skip


@pytest.fixture
def shop(app, api):
    install(app, api, users=())
    assert api.put("/api/definitions/shop/rule/ship_by_log", json=RULE).status_code == 200
    response = api.post("/api/definitions/shop/rule/ship_by_log/publish")
    assert response.status_code == 200, response.get_json()
    return api


def _order(api, confirmed: bool) -> dict:
    order = api.post(URL, json={"customer": "Acme", "lines": [{"item": "a", "amount": "5"}]}).get_json()
    if confirmed:
        response = api.post(
            f"{URL}/{order['id']}/transitions/confirm", headers={"If-Match": f'"{order["version"]}"'}
        )
        assert response.status_code == 200, response.get_json()
        order = response.get_json()
    return order


def _log(api, order: dict, what: str):
    return api.post("/api/data/shop/shipment_log", json={"order_id": order["id"], "what": what})


def _logs(api) -> list[tuple]:
    return [
        (r["order_id"], r["what"]) for r in api.get("/api/data/shop/shipment_log?sort=id").get_json()["data"]
    ]


def test_a_rule_moves_the_state_along_a_transition_and_its_rules_fire(shop):
    order = _order(shop, confirmed=True)
    response = _log(shop, order, "ship")
    assert response.status_code == 201, response.get_json()
    assert shop.get(f"{URL}/{order['id']}").get_json()["status"] == "shipped"
    assert _logs(shop) == [(order["id"], "ship"), (order["id"], "shipped")]  # log_ship fired once


def test_a_rule_cannot_skip_states(shop):
    order = _order(shop, confirmed=False)
    response = _log(shop, order, "ship")
    assert response.status_code == 422, response.get_json()  # what a rule's action runs into is its refusal
    error = response.get_json()["error"]
    assert error["code"] == "refused" and error["rule"] == "ship_by_log"
    assert "no transition leads to 'Shipped'" in error["message"]
    assert shop.get(f"{URL}/{order['id']}").get_json()["status"] == "draft"
    assert _logs(shop) == []  # the whole write rolled back


def test_a_rule_cannot_change_a_locked_field(shop):
    order = _order(shop, confirmed=True)
    refused = _log(shop, order, "rename")
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"] == {
        "customer": ["Locked while the record is 'Confirmed'."]
    }
    assert shop.get(f"{URL}/{order['id']}").get_json()["customer"] == "Acme"
    allowed = _log(shop, order, "note")  # 'note' is excepted from the confirmed state's lock
    assert allowed.status_code == 201, allowed.get_json()
    assert shop.get(f"{URL}/{order['id']}").get_json()["note"] == "noted"
    draft = _order(shop, confirmed=False)
    assert _log(shop, draft, "rename").status_code == 201  # a draft locks nothing
