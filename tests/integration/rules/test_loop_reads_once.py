"""What a loop's lines look up is read once (``rules/lockahead.loop_rows``, ``runtime/row_cache.py``): the
records a ``for_each_record`` inside the loop names by an equality, with the guarded updates nested in it;
the rows an upsert creates stay known to the later lines; and the records a ``for_each_record`` read serve
its own actions' updates of them by id. Each case checks the outcome is the one of reading per line."""

from __future__ import annotations

import copy

from tests.integration.rules.stock_bundle import BUNDLE
from tests.integration.rules.test_loop_rows_read_once import _balance, _confirm, _order
from tests.integration.rules.test_unit_rows_together import _statements

RESERVE = {"type": "update_records", "entity": "stock_balance", "expect": "one",
           "where": {"all": [{"field": "product", "op": "=", "value": "$line.product"},
                             {"field": "warehouse", "op": "=", "value": "$record.warehouse"}]},
           "set": {"reserved": "reserved + line.qty"},
           "guard": "on_hand - reserved >= line.qty",
           "refuse_message": "Not enough stock of {prod.sku}: short by {line.qty - (target.on_hand - target.reserved)}"}  # fmt: skip


def _shop_reserving(api, actions):
    """The stock app whose confirm runs ``actions`` per line (as ``line``); products A, B (50 on hand in
    WH1) and C (no balance)."""
    bundle = copy.deepcopy(BUNDLE)
    reserve = next(r for r in bundle["rules"] if r["name"] == "reserve_on_confirm")
    reserve["actions"][0]["actions"] = actions
    imported = api.post("/api/templates/import", json=bundle)
    assert imported.status_code == 201, imported.get_json()
    warehouse = api.post("/api/data/shop/warehouse", json={"code": "WH1"}).get_json()["id"]
    products = []
    for sku in ("A", "B", "C"):
        product = api.post("/api/data/shop/product", json={"sku": sku}).get_json()["id"]
        if sku != "C":
            receipt = {"product": product, "warehouse": warehouse, "kind": "receipt", "qty": "50"}
            assert api.post("/api/data/shop/stock_ledger", json=receipt).status_code == 201
        products.append(product)
    return warehouse, products


def _reads(sql, table):
    """The SELECTs of whole rows of ``table`` (not link checks, unique checks or lock-ahead id reads)."""
    return [s for s in sql if s.startswith(f"SELECT {table}.id, {table}.version") and f"FROM {table}" in s]


def test_a_lookup_in_a_loop_and_the_update_nested_in_it_are_read_once_for_all_lines(app, api):
    lookup = {"type": "for_each_record", "entity": "product", "as": "prod", "expect": "one",
              "where": {"field": "id", "op": "=", "value": "$line.product"}, "actions": [RESERVE]}  # fmt: skip
    warehouse, (a, b, _c) = _shop_reserving(api, [lookup])
    order = _order(api, warehouse, [(a, "20"), (b, "1"), (a, "25")])

    response, sql = _statements(app, lambda: _confirm(api, order))

    assert response.status_code == 200, response.get_json()
    assert len(_reads(sql, "e_shop_product")) == 1 and " IN " in _reads(sql, "e_shop_product")[0]
    assert len(_reads(sql, "e_shop_stock_balance")) == 1
    assert _balance(api, a, warehouse) == [("50.000", "45.000")]
    assert _balance(api, b, warehouse) == [("50.000", "1.000")]

    # the refusal still names the product read for the line, with the earlier lines' reservations counted
    order = _order(api, warehouse, [(b, "2"), (a, "3"), (a, "4")])  # a: 5 left
    refused = _confirm(api, order)
    assert refused.status_code == 422
    assert "Not enough stock of A: short by 2" in str(refused.get_json()["error"])
    assert _balance(api, a, warehouse) == [("50.000", "45.000")]
    assert _balance(api, b, warehouse) == [("50.000", "1.000")]


def test_a_row_an_upsert_creates_is_found_by_the_later_lines_and_the_other_rows_stay_read(app, api):
    upsert = {"type": "upsert", "entity": "stock_balance", "set": {"reserved": "reserved + line.qty"},
              "key": {"product": "line.product", "warehouse": "record.warehouse"}}  # fmt: skip
    warehouse, (a, b, c) = _shop_reserving(api, [upsert])
    order = _order(api, warehouse, [(c, "2"), (a, "1"), (c, "3"), (b, "4")])

    response, sql = _statements(app, lambda: _confirm(api, order))

    assert response.status_code == 200, response.get_json()
    # one read for the loop, one of the row created for c (its later line and a, b come from there)
    assert len(_reads(sql, "e_shop_stock_balance")) == 2
    assert len([s for s in sql if s.startswith("INSERT INTO e_shop_stock_balance")]) == 1
    assert _balance(api, c, warehouse) == [("0.000", "5.000")]
    assert _balance(api, a, warehouse) == [("50.000", "1.000")]
    assert _balance(api, b, warehouse) == [("50.000", "4.000")]
    versions = {
        (r["product"], r["version"])
        for r in api.get("/api/data/shop/stock_balance?limit=50").get_json()["data"]
    }
    assert (c, 3) in versions  # created, then one guarded update per line


def test_the_records_a_lookup_read_serve_its_own_updates_of_them_by_id(app, api):
    lookup = {"type": "for_each_record", "entity": "stock_balance", "as": "bal", "expect": "one", "lock": True,
              "where": {"all": [{"field": "product", "op": "=", "value": "$line.product"},
                                {"field": "warehouse", "op": "=", "value": "$record.warehouse"}]},
              "actions": [{"type": "update_records", "entity": "stock_balance", "expect": "one",
                           "where": {"field": "id", "op": "=", "value": "$bal.id"},
                           "set": {"reserved": "reserved + line.qty"}, "guard": "on_hand - reserved >= line.qty",
                           "refuse_message": "Short of {line.product}"}]}  # fmt: skip
    warehouse, (a, b, _c) = _shop_reserving(api, [lookup])
    order = _order(api, warehouse, [(a, "20"), (b, "1"), (a, "25")])

    response, sql = _statements(app, lambda: _confirm(api, order))

    assert response.status_code == 200, response.get_json()
    assert len(_reads(sql, "e_shop_stock_balance")) == 3  # the lookup's, one per line; none by the updates
    assert _balance(api, a, warehouse) == [("50.000", "45.000")]
    assert _balance(api, b, warehouse) == [("50.000", "1.000")]
    refused = _confirm(api, _order(api, warehouse, [(a, "6")]))
    assert refused.status_code == 422 and f"Short of {a}" in str(refused.get_json()["error"])
