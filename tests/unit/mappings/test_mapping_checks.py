"""The publish checks of mapping definitions (issue 15 item 1): unknown entities, fields and paths, lookups
on non-unique fields, expressions that do not parse or read unknown names - each at its JSON path."""

from __future__ import annotations

import copy

import pytest
from mapping_fixtures import ENTITY_DOCS, SHOP_ORDER

from lowcode.definitions.checks import app_errors_for
from lowcode.definitions.validate import validate_document
from lowcode.errors import DefinitionInvalid


def errors_of(mapping: dict) -> dict[str, list[str]]:
    docs = {"entity": copy.deepcopy(ENTITY_DOCS), "mapping": {mapping["name"]: mapping}}
    return app_errors_for(docs)


def test_the_shared_mapping_is_clean():
    validate_document("mapping", "shop_order", SHOP_ORDER)
    assert errors_of(SHOP_ORDER) == {}


def changed(edit) -> dict:
    doc = copy.deepcopy(SHOP_ORDER)
    edit(doc)
    return doc


P = "mapping:shop_order"


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        (lambda d: d.update(target="nothing"), "target", "unknown entity"),
        (lambda d: d["fields"][0].update(field="nope"), "fields/0/field", "unknown field 'nope'"),
        (lambda d: d["fields"][3].update(source="a..b"), "fields/3/source", "empty key"),
        (lambda d: d["fields"][3].update(source="items[*].x"), "fields/3/source", "[*] may only end"),
        (lambda d: d["fields"][3].update(source="items[*]"), "fields/3/source", "child table"),
        (lambda d: d["fields"][0]["lookup"].update(by="name"), "fields/0/lookup/by", "not a unique field"),
        (lambda d: d["fields"][0]["lookup"].update(entity="product"), "fields/0/lookup/entity", "not a link"),
        (lambda d: d["fields"][1]["values"]["map"].update(X="gone"), "fields/1/values", "not a choice"),
        (lambda d: d["fields"][4].update(date_format="%Y"), "fields/4/date_format", "not a date"),
        (lambda d: d["key"].update(field="note"), "key/field", "not a unique field"),
        (lambda d: d["children"][0].update(field="note"), "children/0/field", "not a child table"),
        (
            lambda d: d["children"][0]["fields"][3].update(expression="qty *"),
            "children/0/fields/3/expression",
            "",
        ),
        (
            lambda d: d["children"][0]["fields"][3].update(expression="qty * cost"),
            "children/0/fields/3/expression",
            "unknown name 'cost'",
        ),
        (lambda d: d["fields"].append({"field": "note"}), "fields/5", "needs a source"),
        (
            lambda d: d["fields"].append({"field": "note", "source": "a", "expression": "1"}),
            "fields/5",
            "not both",
        ),
        (
            lambda d: d["children"][0]["fields"][0]["lookup"]["create"].update(id="x"),
            "children/0/fields/0/lookup/create/id",
            "not a writable field",
        ),
        (lambda d: d.update(outbound=[{"path": "a[0]", "field": "note"}]), "outbound/0/path", "keys only"),
        (lambda d: d.update(outbound=[{"path": "a", "field": "zzz"}]), "outbound/0/field", "unknown field"),
        (
            lambda d: d.update(outbound=[{"path": "a", "field": "note"}, {"path": "$.a.b", "field": "note"}]),
            "outbound/1/path",
            "overlaps",
        ),
    ],
)
def test_problems_are_reported_at_their_json_paths(edit, path, message):
    found = errors_of(changed(edit))
    assert f"{P}/{path}" in found, found
    assert any(message in m for m in found[f"{P}/{path}"])


def test_record_sources_name_the_source_entitys_fields():
    doc = {
        "name": "copy",
        "source": {"kind": "record", "entity": "order"},
        "target": "order",
        "fields": [{"field": "note", "source": "remark"}, {"field": "customer", "source": "customer"}],
        "children": [{"field": "lines", "source": "lines", "fields": [{"field": "qty", "source": "count"}]}],
    }
    found = errors_of(doc)
    assert set(found) == {"mapping:copy/fields/0/source", "mapping:copy/children/0/fields/0/source"}
    doc["source"]["entity"] = "ghost"
    assert "mapping:copy/source/entity" in errors_of(doc)


def test_the_json_schema_refuses_unknown_keys_and_sources():
    with pytest.raises(DefinitionInvalid) as caught:
        validate_document(
            "mapping", "m", {"name": "m", "source": {"kind": "ftp"}, "target": "t", "fields": []}
        )
    assert "source" in caught.value.fields
    with pytest.raises(DefinitionInvalid):
        validate_document(
            "mapping",
            "m",
            {
                "name": "m",
                "source": {"kind": "payload"},
                "target": "t",
                "fields": [{"field": "a", "sql": "x"}],
            },
        )


def test_the_designer_finds_the_fields_a_mapping_uses():
    from lowcode.designer.usages import find_usages

    docs = {"entity": copy.deepcopy(ENTITY_DOCS), "mapping": {"shop_order": SHOP_ORDER}}
    paths = {u.path for u in find_usages(docs, "product", "sku") if u.kind == "mapping"}
    assert paths == {"/children/0/fields/0/lookup/by"}
    paths = {u.path for u in find_usages(docs, "order", "external_no") if u.kind == "mapping"}
    assert paths == {"/key/field"}
    paths = {u.path for u in find_usages(docs, "order_line", "qty") if u.kind == "mapping"}
    assert paths == {"/children/0/fields/1/field"}
