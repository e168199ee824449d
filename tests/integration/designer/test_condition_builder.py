"""The visual condition builder: a document drawn as rows and read back from the posted rows is the same
document; rows the condition parser refuses come back with their own errors; the add/remove buttons; the
htmx row refresh decides the operators and the value input on the server."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from flask import get_template_attribute
from werkzeug.datastructures import MultiDict

from lowcode.designer.conditions import ConditionBuilder, ConditionField, Row
from tests.integration.pages.helpers import text

FIELDS = [
    ConditionField("title", "Title", "text"),
    ConditionField("qty", "Quantity", "integer"),
    ConditionField("price", "Price", "decimal"),
    ConditionField("due", "Due", "date"),
    ConditionField("paid", "Paid", "boolean"),
    ConditionField("stage", "Stage", "text", (("open", "Open"), ("won", "Won"), ("lost", "Lost"))),
    ConditionField("owner", "Owner", "integer"),
]
NESTED = {
    "all": [
        {"field": "title", "op": "contains", "value": "bolt"},
        {"field": "qty", "op": "between", "value": [2, 10]},
        {"any": [
            {"field": "stage", "op": "in", "value": ["open", "won"]},
            {"field": "due", "op": "is_empty"},
            {"not": {"any": [
                {"field": "paid", "op": "=", "value": True},
                {"field": "price", "op": ">=", "value": "12.50"},
                {"field": "owner", "op": "=", "value": "$user.id"},
            ]}},
        ]},
        {"field": "title", "op": "not_in", "value": ["a", "b c"]},
    ]
}  # fmt: skip


def builder() -> ConditionBuilder:
    return ConditionBuilder(FIELDS, "en")


def posted(app, node, extra=()) -> MultiDict:
    """What a browser posts for the builder as drawn (inputs with their values, selected options)."""
    with app.test_request_context():
        html = str(get_template_attribute("designer/_conditions.html", "condition_group")(node, "/row"))
    return MultiDict([*form_values(html), *extra])


def form_values(html: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for match in re.finditer(r'<input[^>]*name="(c:[^"]+)"[^>]*value="([^"]*)"', html):
        pairs.append((match.group(1), match.group(2)))
    for match in re.finditer(r'<select[^>]*name="(c:[^"]+)"[^>]*>(.*?)</select>', html, re.S):
        for value in re.findall(r'<option value="([^"]*)" selected>', match.group(2)):
            pairs.append((match.group(1), value))
    for match in re.finditer(r'<textarea[^>]*name="(c:[^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        pairs.append((match.group(1), match.group(2)))
    return [(name, html_lib.unescape(value)) for name, value in pairs]


def test_a_document_drawn_as_rows_and_posted_back_is_the_same_document(app):
    node = builder().rows(NESTED, "filter")
    assert [item.is_group for item in node.items] == [False, False, True, False]
    between = node.items[1]
    assert (between.widget, between.values, between.input_type) == ("pair", ["2", "10"], "text")
    group = node.items[2]
    assert group.mode == "any" and group.items[1].widget == "none" and group.items[2].mode == "none"
    assert group.items[0].widget == "choices" and group.items[0].values == ["open", "won"]
    assert node.items[3].widget == "lines"
    parsed = builder().parse(posted(app, node), "filter")
    assert parsed.errors == {}
    assert parsed.doc == NESTED


def test_operators_follow_the_fields_kind():
    b = builder()
    ops = lambda name: [op for op, _label in b.row("f/0", name, "", []).operators]  # noqa: E731
    assert ops("title")[:3] == ["=", "!=", "contains"] and "between" in ops("title")
    assert "between" in ops("qty") and "contains" not in ops("qty")
    assert ops("paid") == ["=", "!=", "in", "not_in", "is_empty", "is_not_empty"]
    assert b.row("f/0", "qty", "", []).op == "="
    choice = b.row("f/0", "stage", "=", ["won"])
    assert choice.widget == "choice" and ("won", "Won") in choice.choices
    # an operator that does not apply to the new field is replaced by one that does
    assert b.row("f/0", "paid", "contains", []).op == "="
    assert b.row("f/0", "qty", "is_empty", ["x"]).widget == "none"


def test_refused_rows_come_back_with_their_own_errors_and_the_posted_values(app):
    form = MultiDict([
        ("c:filter/mode", "all"),
        ("c:filter/0/field", "qty"), ("c:filter/0/op", ">"), ("c:filter/0/value", "many"),
        ("c:filter/1/field", "title"), ("c:filter/1/op", "contains"), ("c:filter/1/value", "ok"),
        ("c:filter/2/mode", "any"),
        ("c:filter/2/0/field", "due"), ("c:filter/2/0/op", "between"),
        ("c:filter/2/0/value/0", "2026-01-01"), ("c:filter/2/0/value/1", "soon"),
        ("c:filter/3/field", "nope"), ("c:filter/3/op", "="), ("c:filter/3/value", "1"),
        ("c:filter/4/field", "owner"), ("c:filter/4/op", "="), ("c:filter/4/value", "$boss.id"),
    ])  # fmt: skip
    parsed = builder().parse(form, "filter")
    assert set(parsed.errors) == {"filter/0", "filter/2/0", "filter/3", "filter/4"}
    assert "whole number" in parsed.errors["filter/0"][0]
    assert "date" in parsed.errors["filter/2/0"][0]
    assert "unknown field" in parsed.errors["filter/3"][0]
    assert "boss" in parsed.errors["filter/4"][0]
    node = builder().rows(parsed.doc, "filter", parsed.errors)
    assert node.items[0].values == ["many"] and node.items[0].errors
    assert node.items[1].errors == []
    with app.test_request_context():
        html = str(get_template_attribute("designer/_conditions.html", "condition_group")(node, "/row"))
    assert 'data-error-for="filter/2/0"' in html and 'value="soon"' in html


def test_add_and_remove_buttons_change_the_rows(app):
    node = builder().rows(NESTED, "filter")
    parsed = builder().parse(
        posted(app, node, [("cdel:filter/2/2", "1"), ("cadd:filter/2", "row")]), "filter"
    )
    inner = parsed.doc["all"][2]["any"]
    assert len(inner) == 3 and inner[2] == {"field": "title", "op": "is_not_empty"}
    parsed = builder().parse(posted(app, node, [("cadd:filter", "group"), ("cdel:filter/0", "1")]), "filter")
    assert len(parsed.doc["all"]) == 4 and parsed.doc["all"][3] == {
        "all": [{"field": "title", "op": "is_not_empty"}]
    }
    emptied = [(f"cdel:filter/{i}", "1") for i in range(4)]
    assert builder().parse(posted(app, node, emptied), "filter").doc is None


def test_a_bare_leaf_and_a_not_become_groups():
    b = builder()
    leaf = b.rows({"field": "qty", "op": "=", "value": 3}, "c")
    assert leaf.mode == "all" and isinstance(leaf.items[0], Row) and leaf.items[0].values == ["3"]
    negated = b.rows({"not": {"field": "qty", "op": "=", "value": 3}}, "c")
    assert negated.mode == "none" and negated.items[0].field == "qty"
    assert b.rows(None, "c").items == []


@pytest.fixture
def demo_designer(demo_api, designer):
    return designer


def test_the_row_refresh_answers_the_row_for_the_new_field(demo_designer):
    data = {"_row": "filter/0", "c:filter/0/field": "status", "c:filter/0/op": "in"}
    response = demo_designer.post("/design/demo/entity/order/condition-row", data, htmx=True)
    assert response.status_code == 200
    page = text(response)
    assert 'id="c-filter-0"' in page and "multiple" in page and '<option value="confirmed"' in page
    assert "Confirmed" in page
    data["c:filter/0/op"] = "contains"  # a text match on a select field: typed, not chosen
    page = text(demo_designer.post("/design/demo/entity/order/condition-row", data, htmx=True))
    assert 'type="text" name="c:filter/0/value"' in page and '<option value="confirmed"' not in page
    data = {"_row": "filter/0", "c:filter/0/field": "order_date", "c:filter/0/op": "between"}
    page = text(demo_designer.post("/design/demo/entity/order/condition-row", data, htmx=True))
    assert 'type="date" name="c:filter/0/value/0"' in page and 'name="c:filter/0/value/1"' in page
    bad = demo_designer.post("/design/demo/entity/order/condition-row", {"_row": "../x"}, htmx=True)
    assert bad.status_code == 400
    assert demo_designer.post("/design/demo/entity/order/condition-row", data, csrf=False).status_code == 403
