"""The rule engine on a stock app: transitions, guarded reservations, refusals that roll everything back,
upserts, set_fields, the run log - and 16 concurrent confirmations that never oversell."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lowcode.core.models import RuleRunEntry
from tests.conftest import ADMIN_PASSWORD, ApiClient, login
from tests.integration.rules.stock_bundle import BUNDLE


@pytest.fixture
def shop(api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    product = api.post("/api/data/shop/product", json={"sku": "TEE-1"}).get_json()["id"]
    warehouse = api.post("/api/data/shop/warehouse", json={"code": "WH1"}).get_json()["id"]
    receipt = {"product": product, "warehouse": warehouse, "kind": "receipt", "qty": "100"}
    assert (
        api.post("/api/data/shop/stock_ledger", json=receipt).status_code == 201
    )  # upsert creates the balance
    return api, product, warehouse


def _balance(api, product, warehouse):
    cond = {
        "all": [
            {"field": "product", "op": "=", "value": product},
            {"field": "warehouse", "op": "=", "value": warehouse},
        ]
    }
    import json

    rows = api.get(f"/api/data/shop/stock_balance?filter={json.dumps(cond)}").get_json()["data"]
    assert len(rows) == 1
    return rows[0]


def _order(api, product, warehouse, qty):
    body = {"warehouse": warehouse, "lines": [{"product": product, "qty": str(qty)}]}
    response = api.post("/api/data/shop/sales_order", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_upsert_created_the_balance_and_set_fields_ran(shop):
    api, product, warehouse = shop
    assert _balance(api, product, warehouse)["on_hand"] == "100.000"
    order = _order(api, product, warehouse, 7)
    assert order["note"] == "lines: 1"
    api.post(
        "/api/data/shop/stock_ledger",
        json={"product": product, "warehouse": warehouse, "kind": "receipt", "qty": "5"},
    )
    assert _balance(api, product, warehouse)["on_hand"] == "105.000"


def test_confirm_reserves_and_cancel_releases(shop):
    api, product, warehouse = shop
    order = _order(api, product, warehouse, 7)
    url = f"/api/data/shop/sales_order/{order['id']}"
    assert api.patch(url, json={"status": "confirmed", "version": 1}).status_code == 200
    balance = _balance(api, product, warehouse)
    assert (balance["reserved"], balance["available"]) == ("7.000", "93.000")
    assert api.patch(url, json={"status": "cancelled", "version": 2}).status_code == 200
    balance = _balance(api, product, warehouse)
    assert (balance["reserved"], balance["available"]) == ("0.000", "100.000")
    runs = api.get("/api/data/shop/stock_ledger?sort=id").get_json()["data"]
    assert [(r["kind"], r["qty"]) for r in runs] == [
        ("receipt", "100.000"),
        ("reserve", "7.000"),
        ("release", "-7.000"),
    ]
    assert [r["order_id"] for r in runs[1:]] == [order["id"], order["id"]]  # parent.id and record.id


def test_shortage_refuses_with_product_and_shortfall_and_rolls_back(app, shop):
    api, product, warehouse = shop
    order = _order(api, product, warehouse, 130)
    response = api.patch(
        f"/api/data/shop/sales_order/{order['id']}", json={"status": "confirmed", "version": 1}
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "refused"
    assert error["message"] == f"Not enough stock of product {product}: short by 30"
    assert api.get(f"/api/data/shop/sales_order/{order['id']}").get_json()["status"] == "draft"
    assert _balance(api, product, warehouse)["reserved"] == "0.000"
    with app.extensions["lowcode"].db.read() as s:
        refused = s.scalars(sa.select(RuleRunEntry).where(RuleRunEntry.outcome == "refused")).all()
        assert [(r.rule, r.record_id, r.message) for r in refused] == [
            ("reserve_on_confirm", order["id"], error["message"])
        ]


def test_before_rule_refuses_an_empty_order(shop):
    api, product, warehouse = shop
    order = api.post("/api/data/shop/sales_order", json={"warehouse": warehouse}).get_json()
    response = api.patch(
        f"/api/data/shop/sales_order/{order['id']}", json={"status": "confirmed", "version": 1}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == f"Order {order['number']} has no lines"


def test_sixteen_concurrent_confirmations_never_oversell(app, shop):
    api, product, warehouse = shop
    orders = [_order(api, product, warehouse, 7) for _ in range(16)]
    outcomes: Counter = Counter()
    messages: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def confirm(order):
        try:
            client = app.test_client()
            user = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
            barrier.wait(timeout=30)
            response = user.patch(
                f"/api/data/shop/sales_order/{order['id']}", json={"status": "confirmed", "version": 1}
            )
            with lock:
                outcomes[response.status_code] += 1
                if response.status_code == 422:
                    messages.append(response.get_json()["error"]["message"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=confirm, args=(o,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert outcomes == Counter({200: 14, 422: 2})
    assert all(m.startswith(f"Not enough stock of product {product}: short by 5") for m in messages)
    balance = _balance(api, product, warehouse)
    assert (balance["reserved"], balance["on_hand"], balance["available"]) == ("98.000", "100.000", "2.000")
    ledger = api.get("/api/data/shop/stock_ledger?limit=500").get_json()["data"]
    reserved = sum(Decimal(r["qty"]) for r in ledger if r["kind"] == "reserve")
    assert reserved == Decimal("98") and sum(1 for r in ledger if r["kind"] == "reserve") == 14
    confirmed = api.get(
        '/api/data/shop/sales_order?filter={"field":"status","op":"=","value":"confirmed"}'
    ).get_json()
    assert confirmed["total"] == 14
