"""Numeric bounds and dated naming series (issue 10, item 5).

``min``/``max`` on integer, decimal, money and percent fields hold for every writer: a client's create and
update, child rows, and a rule's guarded update; a bad bound is refused at publish. An autonumber with a
``date_field`` takes its date tokens from the record's own date, not from the day it was typed in.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

BUNDLE = {
    "app": {"name": "bd", "label": "Bounds"},
    "entities": [
        {"name": "line", "label": "Line", "child": True, "fields": [
            {"name": "qty", "type": "decimal", "required": True, "options": {"scale": 3, "min": "0.001"}},
            {"name": "price", "type": "money", "options": {"min": 0}}]},
        {"name": "doc", "label": "Doc", "fields": [
            {"name": "number", "type": "autonumber",
             "options": {"pattern": "GR-{YYYY}{MM}-{###}", "date_field": "doc_date"}},
            {"name": "doc_date", "type": "date"},
            {"name": "title", "type": "text"},
            {"name": "qty", "type": "integer", "options": {"min": 1, "max": 1000}},
            {"name": "discount", "type": "percent", "options": {"min": "0", "max": "100"}},
            {"name": "lines", "type": "child_table", "options": {"entity": "line"}}]},
    ],
    "rules": [
        {"name": "take_ten", "entity": "doc", "trigger": {"events": ["update"], "phase": "after"},
         "actions": [{"type": "update_records", "entity": "doc", "when": "title = 'take'",
                      "where": {"field": "title", "op": "=", "value": "stock"},
                      "set": {"qty": "qty - 10"}}]},
    ],
}  # fmt: skip
DOCS = "/api/data/bd/doc"


@pytest.fixture
def bd(api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    return api


def _create(api, **data):
    return api.post(DOCS, json={"title": "t", "qty": 5, **data})


def test_values_outside_bounds_are_refused_naming_the_bound(bd):
    cases = [({"qty": 0}, "qty", "Must be at least 1."), ({"qty": -1000}, "qty", "Must be at least 1."),
             ({"qty": 1001}, "qty", "Must be at most 1000."),
             ({"discount": "-0.01"}, "discount", "Must be at least 0."),
             ({"discount": "100.01"}, "discount", "Must be at most 100.")]  # fmt: skip
    for data, field, message in cases:
        response = _create(bd, **data)
        assert response.status_code == 422, (data, response.get_json())
        assert response.get_json()["error"]["fields"][field] == [message]
    assert bd.get(DOCS).get_json()["data"] == []
    for data in ({"qty": 1}, {"qty": 1000}, {"discount": "0"}, {"discount": "100"}):
        assert _create(bd, **data).status_code == 201, data


def test_child_rows_are_held_to_their_bounds(bd):
    for line, field in (({"qty": "0", "price": "1"}, "qty"), ({"qty": "-5", "price": "1"}, "qty"),
                        ({"qty": "1", "price": "-0.01"}, "price")):  # fmt: skip
        response = _create(bd, lines=[{"qty": "2", "price": "3"}, line])
        assert response.status_code == 422, line
        assert field in str(response.get_json()["error"]["fields"]), response.get_json()
    created = _create(bd, lines=[{"qty": "0.001", "price": "0"}])
    assert created.status_code == 201, created.get_json()


def test_an_update_below_the_bound_changes_nothing(bd):
    doc = _create(bd).get_json()
    response = bd.patch(f"{DOCS}/{doc['id']}", json={"qty": -3}, headers={"If-Match": str(doc["version"])})
    assert response.status_code == 422
    assert bd.get(f"{DOCS}/{doc['id']}").get_json()["qty"] == 5


def test_a_rule_cannot_take_a_value_below_its_bound(bd, app):
    stock = _create(bd, title="stock", qty=15).get_json()
    trigger = _create(bd, title="x").get_json()
    ok = bd.patch(f"{DOCS}/{trigger['id']}", json={"title": "take"}, headers={"If-Match": "1"})
    assert ok.status_code == 200, ok.get_json()
    assert bd.get(f"{DOCS}/{stock['id']}").get_json()["qty"] == 5
    again = bd.patch(f"{DOCS}/{trigger['id']}", json={"title": "x"}, headers={"If-Match": "2"})
    assert again.status_code == 200
    refused = bd.patch(f"{DOCS}/{trigger['id']}", json={"title": "take"}, headers={"If-Match": "3"})
    assert refused.status_code == 422, refused.get_json()
    assert "Must be at least 1." in str(refused.get_json())
    assert bd.get(f"{DOCS}/{stock['id']}").get_json()["qty"] == 5
    assert bd.get(f"{DOCS}/{trigger['id']}").get_json()["title"] == "x"


@pytest.mark.parametrize(
    ("options", "message"),
    [({"min": "abc"}, "min"), ({"min": 5, "max": 2}, "min 5 is above max 2"),
     ({"min": "0.005"}, "more than 2 decimal places"), ({"min": 1.5}, "min")],
)  # fmt: skip
def test_bad_bounds_are_refused_at_publish(api, options, message):
    bundle = {"app": {"name": "bb", "label": "B"}, "entities": [
        {"name": "e", "label": "E", "fields": [{"name": "amount", "type": "money", "options": options}]}]}  # fmt: skip
    response = api.post("/api/templates/import", json=bundle)
    assert response.status_code == 422, response.get_json()
    assert message in str(response.get_json())
    assert api.get("/api/data/bb/e").status_code == 404


def test_document_numbers_follow_the_document_date(bd):
    first = _create(bd, doc_date="2026-12-01").get_json()
    second = _create(bd, doc_date="2026-11-05").get_json()
    third = _create(bd, doc_date="2026-12-31").get_json()
    assert (first["number"], second["number"], third["number"]) == (
        "GR-202612-001",
        "GR-202611-001",
        "GR-202612-002",
    )
    undated = _create(bd).get_json()
    assert undated["number"].startswith(f"GR-{dt.date.today():%Y%m}-") or undated["number"].startswith(
        f"GR-{dt.datetime.now(dt.UTC):%Y%m}-"
    )


@pytest.mark.parametrize(
    ("date_field", "message"),
    [("title", "'title', which is not a date field"), ("when", "unknown field 'when'")],
)
def test_a_series_date_field_must_be_a_date_of_the_entity(api, date_field, message):
    bundle = {"app": {"name": "bs", "label": "S"}, "entities": [
        {"name": "e", "label": "E", "fields": [
            {"name": "title", "type": "text"},
            {"name": "number", "type": "autonumber", "options": {"pattern": "N-{YYYY}-{##}", "date_field": date_field}}]}]}  # fmt: skip
    response = api.post("/api/templates/import", json=bundle)
    assert response.status_code == 422, response.get_json()
    assert message in str(response.get_json())


def test_the_database_keeps_one_counter_per_dated_prefix(bd, app):
    _create(bd, doc_date="2026-01-15")
    _create(bd, doc_date="2026-01-20")
    with app.extensions["lowcode"].db.read() as session:
        keys = session.execute(
            sa.text("SELECT key, value FROM lc_counter WHERE key LIKE 'bd.doc.number:GR-2026%'")
        ).all()
    assert dict(keys) == {"bd.doc.number:GR-202601-{###}": 2}
