"""The index a list view wants: its filter's equality fields then its sort fields, stored fields only, at most
five - and none when an index the table has (declared, unique group, unique/indexed/link field) starts with
them."""

from __future__ import annotations

import pytest

from lowcode.app import register_builtins
from lowcode.definitions.checks import AppDocuments
from lowcode.designer.index_advice import add_index, equality_fields, remove_index, wanted_index
from lowcode.errors import NotFound, ValidationFailed

register_builtins()  # the field types bound by AppDocuments

ORDER = {
    "name": "order",
    "fields": [
        {"name": "number", "type": "text", "unique": True},
        {"name": "status", "type": "text"},
        {"name": "day", "type": "date"},
        {"name": "region", "type": "text"},
        {"name": "customer", "type": "link", "options": {"entity": "customer"}},
        {"name": "shout", "type": "formula", "options": {"expression": "upper(status)", "result": "text"}},
    ],
}
CUSTOMER = {"name": "customer", "fields": [{"name": "name", "type": "text"}]}


def docs(order=ORDER) -> AppDocuments:
    return AppDocuments({"entity": {"order": order, "customer": CUSTOMER}})


def view(sort=(), filter=None) -> dict:
    return {"name": "order_list", "entity": "order", "sort": [{"field": f} for f in sort], "filter": filter}


def test_equality_fields_are_the_pinned_ones_only():
    assert equality_fields({"field": "status", "op": "=", "value": "x"}) == ["status"]
    both = {"all": [{"field": "status", "op": "=", "value": "x"}, {"field": "day", "op": ">", "value": "y"}]}
    assert equality_fields(both) == ["status"]
    assert equality_fields({"any": [{"field": "status", "op": "=", "value": "x"}]}) == []
    assert (
        equality_fields({"field": "status", "op": "in", "value": ["x"]}) == [] and equality_fields(None) == []
    )


def test_the_wanted_index_is_the_filter_then_the_sort():
    pinned = {"field": "status", "op": "=", "value": "open"}
    assert wanted_index(view(["day"], pinned), docs()) == ["status", "day"]
    assert wanted_index(view(["day", "status"], pinned), docs()) == ["status", "day"]  # once each
    assert wanted_index(view(["shout"]), docs()) == ["shout"]  # stored formulas sort from their column
    assert wanted_index(view(), docs()) is None and wanted_index(view(["id"]), docs()) is None


def test_no_advice_when_an_index_already_starts_with_the_fields():
    assert wanted_index(view(["number"]), docs()) is None  # unique
    assert wanted_index(view(["customer"]), docs()) is None  # links are indexed
    declared = {**ORDER, "indexes": [["status", "day", "region"]]}
    pinned = {"field": "status", "op": "=", "value": "open"}
    assert wanted_index(view(["day"], pinned), docs(declared)) is None
    assert wanted_index(view(["region"], pinned), docs(declared)) == ["status", "region"]


def test_adding_and_removing_refuse_what_cannot_be_an_index():
    added = add_index(ORDER, ["status", "day"], docs())
    assert added["indexes"] == [["status", "day"]] and "indexes" not in ORDER
    for bad in ([], ["status", "status"], ["nope"], ["a", "b", "c", "d", "e", "f"]):
        with pytest.raises(ValidationFailed):
            add_index(ORDER, bad, docs())
    with pytest.raises(ValidationFailed):
        add_index(added, ["status", "day"], docs(added))  # declared already
    assert "indexes" not in remove_index(added, 0)
    with pytest.raises(NotFound):
        remove_index(added, 1)
