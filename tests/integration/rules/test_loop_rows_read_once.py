"""A loop's guarded updates read their rows in one statement before the loop (``runtime/row_cache.py``):
each line still sees what the lines before it wrote (two lines on one balance), a line whose row does not
exist is refused as before, a condition that is not an equality on integer fields reads per line, and a
write of the table by another path makes the lines read again."""

from __future__ import annotations

import copy

from tests.integration.rules.stock_bundle import BUNDLE
from tests.integration.rules.test_rule_rows_batched import _shop
from tests.integration.rules.test_unit_rows_together import _statements


def _balance_reads(sql):
    """The SELECTs of balance rows (not PostgreSQL's lock-ahead of their ids, ``rules/lockahead.py``)."""
    return [
        s
        for s in sql
        if s.startswith("SELECT")
        and "FROM e_shop_stock_balance" in s
        and not s.startswith("SELECT e_shop_stock_balance.id FROM")
    ]


def _balance(api, product, warehouse):
    rows = api.get("/api/data/shop/stock_balance?limit=500").get_json()["data"]
    return [
        (b["on_hand"], b["reserved"]) for b in rows if (b["product"], b["warehouse"]) == (product, warehouse)
    ]


def _order(api, warehouse, lines):
    body = {"warehouse": warehouse, "lines": [{"product": p, "qty": q} for p, q in lines]}
    response = api.post("/api/data/shop/sales_order", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _confirm(api, order_id):
    return api.patch(f"/api/data/shop/sales_order/{order_id}", json={"status": "confirmed", "version": 1})


def test_the_rows_are_read_once_and_two_lines_on_one_balance_both_count(app, api):
    warehouse, (a, b, c), _ = _shop(api)  # 50 of each on hand
    order = _order(api, warehouse, [(a, "20"), (b, "1"), (a, "25"), (c, "2")])

    response, sql = _statements(app, lambda: _confirm(api, order))

    assert response.status_code == 200, response.get_json()
    balance_reads = _balance_reads(sql)
    assert len(balance_reads) == 1 and " IN " in balance_reads[0]
    assert _balance(api, a, warehouse) == [("50.000", "45.000")]
    assert _balance(api, b, warehouse) == [("50.000", "1.000")]
    assert _balance(api, c, warehouse) == [("50.000", "2.000")]


def test_the_second_line_on_one_balance_is_refused_by_the_guard_with_the_first_lines_reservation(app, api):
    warehouse, (a, b, _c), _ = _shop(api)
    order = _order(api, warehouse, [(a, "30"), (b, "1"), (a, "25")])

    response = _confirm(api, order)

    assert response.status_code == 422
    assert f"Not enough stock of product {a}: short by 5" in str(response.get_json()["error"])
    assert _balance(api, a, warehouse) == [("50.000", "0.000")]
    assert api.get(f"/api/data/shop/sales_order/{order}").get_json()["status"] == "draft"


def test_a_line_without_a_balance_is_refused_as_before(app, api):
    warehouse, (a, b, _c), _ = _shop(api)
    other = api.post("/api/data/shop/warehouse", json={"code": "WH2"}).get_json()["id"]
    order = _order(api, other, [(a, "1"), (b, "1")])  # no balance of a or b in the other warehouse

    response = _confirm(api, order)

    assert response.status_code == 422
    assert f"No stock of product {a} in this warehouse" in str(response.get_json()["error"])


def _shop_with(api, change):
    """The stock app with its rules changed by ``change`` (a function of a deep copy of the bundle)."""
    bundle = copy.deepcopy(BUNDLE)
    change(bundle)
    imported = api.post("/api/templates/import", json=bundle)
    assert imported.status_code == 201, imported.get_json()
    warehouse = api.post("/api/data/shop/warehouse", json={"code": "WH1"}).get_json()["id"]
    products = []
    for sku in ("A", "B"):
        product = api.post("/api/data/shop/product", json={"sku": sku}).get_json()["id"]
        receipt = {"product": product, "warehouse": warehouse, "kind": "receipt", "qty": "50"}
        assert api.post("/api/data/shop/stock_ledger", json=receipt).status_code == 201
        products.append(product)
    return warehouse, products


def test_a_balance_written_by_an_after_rule_of_the_ledger_is_read_again(app, api):
    top_up = {
        "name": "top_up",
        "entity": "stock_ledger",
        "trigger": {"events": ["create"], "phase": "after", "condition": {"field": "kind", "op": "=", "value": "reserve"}},
        "actions": [{"type": "update_records", "entity": "stock_balance", "expect": "any",
                     "where": {"field": "product", "op": "=", "value": "$record.product"},
                     "set": {"on_hand": "on_hand + 100"}}],
    }  # fmt: skip
    warehouse, (a, b) = _shop_with(api, lambda bundle: bundle["rules"].append(top_up))
    order = _order(api, warehouse, [(a, "50"), (b, "1"), (a, "60")])  # the second a-line needs the top-up

    response = _confirm(api, order)

    assert response.status_code == 200, response.get_json()
    assert _balance(api, a, warehouse) == [("250.000", "110.000")]
    assert _balance(api, b, warehouse) == [("150.000", "1.000")]


def test_a_condition_that_is_not_an_integer_equality_reads_per_line(app, api):
    def on_hand_too(bundle):
        reserve = next(r for r in bundle["rules"] if r["name"] == "reserve_on_confirm")
        where = reserve["actions"][0]["actions"][0]["where"]
        where["all"].append({"field": "on_hand", "op": ">=", "value": "0"})

    warehouse, (a, b) = _shop_with(api, on_hand_too)
    order = _order(api, warehouse, [(a, "20"), (b, "1"), (a, "25")])

    response, sql = _statements(app, lambda: _confirm(api, order))

    assert response.status_code == 200, response.get_json()
    assert len(_balance_reads(sql)) == 3
    assert _balance(api, a, warehouse) == [("50.000", "45.000")]
