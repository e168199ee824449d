"""The mapping engine and its reverse (issue 15 item 1): values and child rows or errors with source path and
target field; lookups once per batch; computed values; hostile inputs."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from mapping_fixtures import SHOP_ORDER, compiled

from lowcode.core.jsonutil import loads_exact
from lowcode.mappings.engine import NewLookup, map_payload, map_record, map_rows
from lowcode.mappings.lookups import DictLookups
from lowcode.mappings.reverse import to_payload, to_payloads

GOOD = """{"order_id": "X1", "buyer": {"code": "C1"}, "state": "PAID", "created": "03/02/2025",
 "amounts": {"total": 12.50}, "items": [{"sku": "A", "qty": 2, "price": "1.25"}, {"sku": "A", "qty": "3",
 "price": "2"}]}"""


def lookups() -> DictLookups:
    return DictLookups({("customer", "code"): {"C1": 7}, ("product", "sku"): {"A": 1, "B": 2}})


def test_a_payload_maps_to_values_and_child_rows():
    item = map_payload(compiled(), loads_exact(GOOD), lookups())
    assert item.ok, item.errors
    assert item.key == "X1"
    assert item.values == {
        "external_no": "X1",
        "customer": 7,
        "status": "confirmed",
        "order_date": dt.date(2025, 2, 3),
        "total": Decimal("12.50"),
        "note": "from the shop",
    }
    assert item.children["lines"] == [
        {"product": 1, "qty": 2, "price": Decimal("1.25"), "amount": Decimal("2.50")},
        {"product": 1, "qty": 3, "price": Decimal("2"), "amount": Decimal("6")},
    ]


def test_errors_name_the_source_path_and_the_target_field():
    bad = loads_exact(GOOD)
    bad["state"] = "LOST"
    bad["buyer"]["code"] = "C404"
    bad["items"][1] = {"sku": "A", "price": "x"}
    item = map_payload(compiled(), bad, lookups())
    found = {(e.source, e.field): e.message for e in item.errors}
    assert found[("$.state", "status")] == "unknown code 'LOST'"
    assert found[("buyer.code", "customer")] == "no customer with code 'C404'"
    assert found[("items[1].qty", "lines[1].qty")] == "missing value"
    assert ("items[1].price", "lines[1].price") in found
    assert not item.ok


def test_lookups_run_once_per_lookup_for_a_whole_batch():
    counted = lookups()
    items = [loads_exact(GOOD) for _ in range(50)]
    results = map_rows(compiled(), items, counted)
    assert all(r.ok for r in results)
    assert counted.queries == 2  # customer by code, product by sku: not one per row


def test_unknown_keys_of_a_create_lookup_become_records_to_create_once():
    payload = loads_exact(GOOD)
    payload["items"] = [{"sku": "NEW", "qty": 1, "price": "1", "title": "New thing"}] * 2
    item = map_payload(compiled(), payload, lookups())
    assert item.ok
    assert item.children["lines"][0]["product"] == NewLookup("product", "sku", "NEW", {"name": "New thing"})
    assert item.creates == [NewLookup("product", "sku", "NEW", {"name": "New thing"})]


def test_missing_keys_and_defaults():
    payload = loads_exact(GOOD)
    del payload["amounts"]
    payload["remark"] = None
    item = map_payload(compiled(), payload, lookups())
    assert "total" not in item.values  # missing: left to the record service's default
    assert item.values["note"] == "from the shop"  # null: the default
    del payload["order_id"]
    item = map_payload(compiled(), payload, lookups())
    assert [(e.source, e.field) for e in item.errors] == [("order_id", "external_no")]


@pytest.mark.parametrize(
    ("change", "source", "field"),
    [
        ({"buyer": "C1"}, "buyer.code", "customer"),  # an object expected, a text sent
        ({"items": {"sku": "A"}}, "items", "lines"),  # a list expected
        ({"items": ["A"]}, "items[0]", "lines[0]"),  # a row that is not an object
        ({"amounts": {"total": 12.5}}, "amounts.total", "total"),  # float money (a Python float)
        ({"amounts": {"total": True}}, "amounts.total", "total"),
        ({"created": 20250203}, "created", "order_date"),
        ({"state": ["PAID"]}, "$.state", "status"),
    ],
)
def test_wrong_types_are_errors_at_their_paths(change, source, field):
    payload = {**loads_exact(GOOD), **change}
    item = map_payload(compiled(), payload, lookups())
    assert (source, field) in {(e.source, e.field) for e in item.errors}, item.errors


def test_items_that_are_not_objects_and_deep_nesting():
    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    results = map_rows(compiled(), ["text", None, deep], lookups())
    assert [e.message for e in results[0].errors] == ["the item is not an object"]
    assert not results[1].ok
    assert [e.field for e in results[2].errors] == ["external_no"]  # only the paths are read


def test_expressions_read_source_parent_and_mapped_values():
    doc = copy.deepcopy(SHOP_ORDER)
    doc["fields"].append({"field": "note", "expression": "concat(source.buyer.code, '/', status)"})
    doc["children"][0]["fields"].append({"field": "amount", "expression": "qty * price + parent.total * 0"})
    item = map_payload(compiled(doc), loads_exact(GOOD), lookups())
    assert item.ok, item.errors
    assert item.values["note"] == "C1/confirmed"


def test_an_expression_that_fails_is_an_error_of_its_field():
    doc = copy.deepcopy(SHOP_ORDER)
    doc["children"][0]["fields"][3] = {"field": "amount", "expression": "qty / 0"}
    item = map_payload(compiled(doc), loads_exact(GOOD), lookups())
    assert {(e.source, e.field) for e in item.errors} >= {("items[0].=qty / 0", "lines[0].amount")}


def test_map_record_needs_a_record_source():
    with pytest.raises(Exception, match="does not map records"):
        map_record(compiled(), {}, lookups())
    doc = {
        "name": "copy",
        "source": {"kind": "record", "entity": "order"},
        "target": "order",
        "fields": [{"field": "customer", "source": "customer"}, {"field": "note", "source": "note"}],
        "children": [{"field": "lines", "source": "lines", "fields": [{"field": "qty", "source": "qty"}]}],
    }
    item = map_record(
        compiled(doc), {"customer": 7, "note": "n", "lines": [{"qty": 2}, {"qty": 1}]}, lookups()
    )
    assert item.data() == {"customer": 7, "note": "n", "lines": [{"qty": 2}, {"qty": 1}]}


def test_sheet_columns_by_header():
    doc = {
        "name": "products",
        "source": {"kind": "sheet"},
        "target": "product",
        "key": {"source": "SKU.code", "field": "sku"},
        "fields": [
            {"field": "name", "source": "Name [zh]"},
            {"field": "kind", "source": "Kind", "default": "x"},
        ],
    }
    rows = [{"SKU.code": "A", "Name [zh]": "衬衫", "Kind": ""}, {"SKU.code": 12, "Name [zh]": "x"}]
    first, second = map_rows(compiled(doc), rows, lookups())
    assert first.values == {"sku": "A", "name": "衬衫", "kind": "x"}
    assert second.key == "12"


def test_reverse_gives_the_payload_back_from_invertible_entries():
    counted = lookups()
    item = map_payload(compiled(), loads_exact(GOOD), counted)
    record = {"id": 5, **item.data()}
    payload = to_payload(compiled(), record, counted)
    assert payload == {
        "order_id": "X1",
        "buyer": {"code": "C1"},
        "state": "PAID",
        "created": "03/02/2025",
        "amounts": {"total": "12.50"},
        "remark": "from the shop",
        "items": [{"sku": "A", "qty": 2, "price": "1.25"}, {"sku": "A", "qty": 3, "price": "2.00"}],
    }
    counted.queries = 0
    to_payloads(compiled(), [record] * 20, counted)
    assert counted.queries == 2


def test_declared_outbound_entries_replace_the_reversed_top_level():
    doc = copy.deepcopy(SHOP_ORDER)
    doc["outbound"] = [
        {"path": "id", "field": "external_no"},
        {"path": "money.total", "expression": "total * 100"},
    ]
    payload = to_payload(
        compiled(doc), {"external_no": "X1", "total": Decimal("1.25"), "lines": []}, lookups()
    )
    assert payload == {"id": "X1", "money": {"total": "125.00"}, "items": []}


def test_reverse_leaves_out_an_entry_whose_path_crosses_another_value():
    doc = copy.deepcopy(SHOP_ORDER)
    doc["fields"].append({"field": "note", "source": "state.note"})  # state holds a text already
    payload = to_payload(compiled(doc), {"status": "confirmed", "note": "x", "lines": []}, lookups())
    assert payload["state"] == "PAID" and payload["items"] == []
