"""Headers matched to fields (names and labels in any language; case, spaces, ``_`` and ``-`` ignored), and
the sheet mapping made from the chosen columns: links looked up by the linked entity's unique field, the
target's first matched unique field as the external key; the result compiles."""

from __future__ import annotations

import copy

import sqlalchemy as sa

from lowcode.imports.infer import guess_columns, importable_fields, mapping_for_columns, normalised
from lowcode.mappings.compiled import compile_mapping
from lowcode.runtime.compiler import compile_entity
from tests.unit.mappings.mapping_fixtures import ENTITY_DOCS, entities


def _entities() -> dict:
    found = entities()
    order = copy.deepcopy(ENTITY_DOCS["order"])
    for f in order["fields"]:
        if f["name"] == "order_date":
            f["label"] = {"en": "Order date", "zh-CN": "订单日期"}
    found[("shop", "order")] = compile_entity("shop", order, 1, sa.MetaData())
    return found


def test_normalised_ignores_case_spaces_underscores_and_dashes():
    assert normalised(" Sale_Price ") == normalised("sale-price") == normalised("SALE PRICE") == "saleprice"


def test_headers_match_names_and_labels_in_both_languages():
    found = _entities()
    order = found[("shop", "order")]
    headers = ["External No", "订单日期", "CUSTOMER", "Note", "note", "whatever", "Lines"]
    assert guess_columns(order, found, headers) == {
        "External No": "external_no", "订单日期": "order_date", "CUSTOMER": "customer", "Note": "note"}  # fmt: skip


def test_child_tables_are_not_importable_and_links_need_a_unique_key():
    found = _entities()
    names = [f.name for f in importable_fields(found[("shop", "order")], found)]
    assert "lines" not in names and "customer" in names


def test_the_mapping_made_from_columns_compiles_with_a_lookup_and_a_key():
    found = _entities()
    order = found[("shop", "order")]
    doc = mapping_for_columns(order, found, {"No": "external_no", "Customer": "customer", "Total": "total"})
    assert doc == {
        "name": "import_order",
        "source": {"kind": "sheet"},
        "target": "order",
        "fields": [
            {"field": "external_no", "source": "No"},
            {"field": "customer", "source": "Customer", "lookup": {"entity": "customer", "by": "code"}},
            {"field": "total", "source": "Total"},
        ],
        "key": {"source": "No", "field": "external_no"},
    }
    mapping = compile_mapping("shop", doc, found)
    assert mapping.key is not None and mapping.key[1].name == "external_no"
