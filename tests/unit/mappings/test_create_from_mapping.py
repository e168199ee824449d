""" "Create from" parts of mappings (issue 15 item 2), without a database: the offer and related-row children
compiled, mapped (filtered rows given by the caller, computed values, the matched source line), checked at
publish with every problem at its JSON path, and found as field usages."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
import sqlalchemy as sa
from mapping_fixtures import ENTITY_DOCS

from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.mapping_checks import mapping_errors
from lowcode.definitions.validate import validate_document
from lowcode.errors import DefinitionInvalid
from lowcode.mappings.compiled import compile_mapping
from lowcode.mappings.engine import map_record
from lowcode.mappings.lookups import DictLookups
from lowcode.mappings.reverse import to_payload
from lowcode.runtime.compiler import compile_entity

PROGRESS = {
    "name": "order_progress",
    "fields": [
        {"name": "order", "type": "link", "options": {"entity": "order"}},
        {"name": "product", "type": "link", "options": {"entity": "product"}},
        {"name": "ordered", "type": "integer"},
        {"name": "done", "type": "integer"},
    ],
}
DOCS = {**ENTITY_DOCS, "order_progress": PROGRESS}

FOLLOW_UP = {
    "name": "follow_up",
    "source": {"kind": "record", "entity": "order"},
    "target": "order",
    "offer": {"label": {"en": "Follow up", "zh-CN": "跟进"}, "when": {"field": "status", "op": "=", "value": "confirmed"}},
    "fields": [{"field": "customer", "source": "customer"}, {"field": "note", "source": "external_no"}],
    "children": [
        {
            "field": "lines",
            "related": {
                "entity": "order_progress",
                "link": "order",
                "where": {"field": "ordered", "op": ">", "value": 0},
                "match": {"child": "lines", "on": "product"},
            },
            "fields": [
                {"field": "product", "source": "product"},
                {"field": "qty", "expression": "source.ordered - source.done"},
                {"field": "price", "expression": "matched.price"},
                {"field": "amount", "expression": "qty * price"},
            ],
        }
    ],
}  # fmt: skip

RECORD = {
    "id": 7,
    "external_no": "X7",
    "customer": 3,
    "status": "confirmed",
    "lines": [
        {"id": 1, "product": 10, "qty": 5, "price": Decimal("2.50")},
        {"id": 2, "product": 11, "qty": 1, "price": Decimal("9.00")},
    ],
}


def entities() -> dict:
    metadata = sa.MetaData()
    return {("shop", n): compile_entity("shop", d, 1, metadata) for n, d in DOCS.items()}


def docs() -> AppDocuments:
    return AppDocuments({"entity": copy.deepcopy(DOCS)})


def follow_up(**changes) -> dict:
    doc = copy.deepcopy(FOLLOW_UP)
    doc.update(changes)
    return doc


def test_the_offer_and_related_rows_compile():
    mapping = compile_mapping("shop", follow_up(), entities())
    assert mapping.offer.when == {"field": "status", "op": "=", "value": "confirmed"}
    assert mapping.offer.order == 100 and mapping.offer.require_rows == ()
    assert compile_mapping(
        "shop", follow_up(offer={"label": "x", "require_rows": ["lines"]}), entities()
    ).offer.require_rows == ("lines",)
    (child,) = mapping.children
    assert child.related.entity == "order_progress" and child.related.match == ("lines", "product")


def test_related_rows_become_lines_with_computed_qty_and_the_matched_lines_price():
    mapping = compile_mapping("shop", follow_up(), entities())
    related = {"lines": [{"id": 40, "order": 7, "product": 11, "ordered": 1, "done": 0},
                         {"id": 41, "order": 7, "product": 10, "ordered": 5, "done": 2}]}  # fmt: skip
    item = map_record(mapping, RECORD, DictLookups({}), related)
    assert item.ok, item.errors
    assert item.values == {"customer": 3, "note": "X7"}
    assert item.children["lines"] == [
        {"product": 11, "qty": 1, "price": Decimal("9.00"), "amount": Decimal("9.00")},
        {"product": 10, "qty": 3, "price": Decimal("2.50"), "amount": Decimal("7.50")},
    ]
    assert map_record(mapping, RECORD, DictLookups({})).children["lines"] == []  # none given: none made
    assert "lines" not in to_payload(mapping, {**item.values, **item.children}, DictLookups({}))


def test_a_related_row_without_a_matching_line_is_an_error_at_its_source():
    mapping = compile_mapping("shop", follow_up(), entities())
    related = {"lines": [{"order": 7, "product": 99, "ordered": 2, "done": "x"}]}
    item = map_record(mapping, RECORD, DictLookups({}), related)
    assert not item.ok
    assert {e.field for e in item.errors} >= {"lines[0].qty"}
    assert [e.source for e in item.errors] == ["order_progress[0].=source.ordered - source.done"]
    assert item.children["lines"][0]["price"] is None  # no line of product 99: nothing matched


def test_expressions_of_related_rows_read_the_source_record():
    doc = follow_up()
    doc["children"][0]["fields"].append({"field": "amount", "expression": "len(record.lines) * 1"})
    doc["children"][0]["fields"] = [
        f for f in doc["children"][0]["fields"] if f.get("expression") != "qty * price"
    ]
    assert mapping_errors(doc, docs()) == {}
    item = map_record(compile_mapping("shop", doc, entities()), RECORD, DictLookups({}),
                      {"lines": [{"product": 10, "ordered": 1, "done": 0}]})  # fmt: skip
    assert item.children["lines"][0]["amount"] == Decimal(2)


def test_the_json_schema_takes_a_source_or_related_rows_not_both():
    validate_document("mapping", "follow_up", follow_up())
    both = follow_up()
    both["children"][0]["source"] = "lines[*]"
    with pytest.raises(DefinitionInvalid):
        validate_document("mapping", "follow_up", both)
    neither = follow_up()
    del neither["children"][0]["related"]
    with pytest.raises(DefinitionInvalid):
        validate_document("mapping", "follow_up", neither)
    with pytest.raises(DefinitionInvalid):
        validate_document("mapping", "follow_up", follow_up(offer={"when": {}}))  # a label is needed


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d["offer"].update(when={"field": "nope", "op": "=", "value": 1}), "offer/when/field", "unknown field 'nope'"),
        (lambda d: d.update(source={"kind": "payload"}), "offer", "only a mapping whose source is a record"),
        (lambda d: d["children"][0]["related"].update(entity="ghost"), "children/0/related/entity", "unknown entity 'ghost'"),
        (lambda d: d["children"][0]["related"].update(link="product"), "children/0/related/link", "'product' is not a link of order_progress to order"),
        (lambda d: d["children"][0]["related"].update(where={"field": "zzz", "op": "=", "value": 1}), "children/0/related/where/field", "unknown field 'zzz'"),
        (lambda d: d["children"][0]["related"]["match"].update(child="customer"), "children/0/related/match/child", "'customer' is not a child table of order"),
        (lambda d: d["children"][0]["related"]["match"].update(on="qty"), "children/0/related/match/on", "'qty' is not a field of both order_progress and order_line"),
        (lambda d: d["children"][0]["fields"][0].update(source="nothing"), "children/0/fields/0/source", "'nothing' is not a field of order_progress"),
        (lambda d: d["offer"].update(require_rows=["nope"]), "offer/require_rows/0", "'nope' is not a child table this mapping fills from related rows"),
        (lambda d: d["children"][0]["fields"][1].update(expression="sauce.ordered"), "children/0/fields/1/expression", "unknown name 'sauce'"),
    ],
)  # fmt: skip
def test_publish_checks_name_each_problem_at_its_path(change, path, message):
    doc = follow_up()
    change(doc)
    errors = mapping_errors(doc, docs())
    found = errors.get(f"mapping:follow_up/{path}", [])
    assert any(message in m for m in found), errors


def test_related_rows_need_a_record_source():
    doc = follow_up(source={"kind": "payload"})
    del doc["offer"]
    errors = mapping_errors(doc, docs())
    assert errors["mapping:follow_up/children/0/related"] == ["related rows need a record source"]


def test_the_designer_finds_fields_used_by_the_offer_and_related_rows():
    from lowcode.designer.usages import find_usages

    found = {"entity": copy.deepcopy(DOCS), "mapping": {"follow_up": follow_up()}}

    def paths(entity: str, field: str) -> set[str]:
        return {u.path for u in find_usages(found, entity, field) if u.kind == "mapping"}

    assert paths("order", "status") == {"/offer/when/field"}
    assert paths("order_progress", "order") == {"/children/0/related/link"}
    assert paths("order_progress", "ordered") == {"/children/0/related/where/field"}
    assert paths("order_progress", "product") == {
        "/children/0/related/match/on",
        "/children/0/fields/0/source",
    }
    assert paths("order_line", "product") >= {"/children/0/related/match/on", "/children/0/fields/0/field"}
    assert paths("order", "lines") >= {"/children/0/related/match/child", "/children/0/field"}
