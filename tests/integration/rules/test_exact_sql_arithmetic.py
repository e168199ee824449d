"""Decimal arithmetic that a rule's guarded update runs in SQL is exact on SQLite and PostgreSQL (issue 8,
hole 3): products and quotients of two decimal columns, mixed scales, half-up rounding at the target's scale,
and division by zero or a result too large for its field refused with a clear 422 that changes nothing.
Formulas and rollups, computed in memory, round the same way."""

from __future__ import annotations

import pytest

MONEY = {"type": "decimal", "options": {"scale": 2}}
QTY3 = {"type": "decimal", "options": {"scale": 3}}

BUNDLE = {
    "app": {"name": "calc", "label": "Calc"},
    "entities": [
        {"name": "line", "label": "Line", "child": True, "fields": [{"name": "amount", **MONEY}]},
        {"name": "sheet", "label": "Sheet", "fields": [
            {"name": "a", **MONEY}, {"name": "b", **MONEY}, {"name": "c", **QTY3},
            {"name": "n", "type": "integer"}, {"name": "go", "type": "integer"},
            {"name": "product", **MONEY}, {"name": "quotient", **MONEY}, {"name": "mixed", **QTY3},
            {"name": "mixed_product", **QTY3}, {"name": "seventh", **MONEY}, {"name": "whole", "type": "integer"},
            {"name": "small", "type": "decimal", "options": {"precision": 4, "scale": 2}},
            {"name": "total", "type": "formula", "options": {"expression": "a * b", "scale": 2}},
            {"name": "eighth", "type": "formula", "options": {"expression": "a / 8", "scale": 2}},
            {"name": "lines", "type": "child_table", "options": {"entity": "line"}},
            {"name": "mean", "type": "rollup", "options": {"child": "lines", "field": "amount", "function": "avg"}}]},
    ],
    "rules": [
        {"name": "compute", "entity": "sheet",
         "trigger": {"events": ["update"], "phase": "after", "fields_changed": ["go"]},
         "actions": [
             {"type": "update_records", "entity": "sheet", "expect": "one", "when": "go = 1",
              "where": {"field": "id", "op": "=", "value": "$record.id"},
              "set": {"product": "a * b", "quotient": "a / b", "mixed": "a + c", "mixed_product": "c * a",
                      "seventh": "b / 7", "whole": "b / 2 * n"},
              "guard": "a / b > c / b"},
             {"type": "update_records", "entity": "sheet", "expect": "one", "when": "go = 2",
              "where": {"field": "id", "op": "=", "value": "$record.id"},
              "set": {"quotient": "a / (b - 3)"}},
             {"type": "update_records", "entity": "sheet", "expect": "one", "when": "go = 3",
              "where": {"field": "id", "op": "=", "value": "$record.id"},
              "set": {"small": "a * b * 10"}},
             {"type": "update_records", "entity": "sheet", "expect": "one", "when": "go = 4",
              "where": {"field": "id", "op": "=", "value": "$record.id"},
              "set": {"product": "a * b"}, "guard": "a * b >= 6.01"}]},
    ],
}  # fmt: skip


@pytest.fixture
def calc(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    return api


def _sheet(api, **values):
    response = api.post("/api/data/calc/sheet", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _go(api, sheet, go):
    return api.patch(f"/api/data/calc/sheet/{sheet['id']}", json={"go": go, "version": sheet["version"]})


def test_guarded_update_multiplies_and_divides_decimal_columns_exactly(calc):
    sheet = _sheet(calc, a="2.00", b="3.00", c="0.125", n=3)
    response = _go(calc, sheet, 1)
    assert response.status_code == 200, response.get_json()
    stored = calc.get(f"/api/data/calc/sheet/{sheet['id']}").get_json()
    assert stored["product"] == "6.00"  # was 600.00 on SQLite
    assert stored["quotient"] == "0.67"  # was 0.00 on SQLite
    assert stored["mixed"] == "2.125"  # scale-2 + scale-3 column
    assert stored["mixed_product"] == "0.250"
    assert stored["seventh"] == "0.43"  # 0.428571... rounds half-up, was truncated to 0.42 on SQLite
    assert stored["whole"] == 5  # 3.00 / 2 * 3 = 4.5 -> 5 (half-up at scale 0)


def test_negative_quotients_round_half_away_from_zero(calc):
    sheet = _sheet(calc, a="-1.00", b="8.00", c="-100.000", n=-1)
    assert _go(calc, sheet, 1).status_code == 200
    stored = calc.get(f"/api/data/calc/sheet/{sheet['id']}").get_json()
    assert stored["quotient"] == "-0.13"  # -0.125
    assert stored["product"] == "-8.00"
    assert stored["whole"] == -4  # 8.00 / 2 * -1 = -4
    assert stored["seventh"] == "1.14"  # 1.142857...


def test_the_guard_compares_products_exactly(calc):
    refused = _sheet(calc, a="2.00", b="3.00")  # 6.00 >= 6.01 is false (600.00 >= 6.01 was true on SQLite)
    response = _go(calc, refused, 4)
    assert response.status_code == 422
    assert "fails the guard" in response.get_json()["error"]["message"]
    assert calc.get(f"/api/data/calc/sheet/{refused['id']}").get_json()["product"] is None
    passed = _sheet(calc, a="2.00", b="3.01")
    assert _go(calc, passed, 4).status_code == 200
    assert calc.get(f"/api/data/calc/sheet/{passed['id']}").get_json()["product"] == "6.02"


def test_division_by_zero_is_a_clear_refusal_that_changes_nothing(calc):
    sheet = _sheet(calc, a="1.00", b="3.00", n=1)
    response = _go(calc, sheet, 2)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "refused"
    assert "division by zero" in error["message"]
    stored = calc.get(f"/api/data/calc/sheet/{sheet['id']}").get_json()
    assert stored["version"] == sheet["version"] and stored["go"] is None and stored["quotient"] is None


def test_a_result_too_large_for_its_field_is_refused_not_stored(calc):
    sheet = _sheet(calc, a="10.00", b="10.00", n=1)  # 10 * 10 * 10 = 1000 does not fit decimal(4, 2)
    response = _go(calc, sheet, 3)
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert "small: Too many digits (at most 2 before the decimal point)" in message
    assert calc.get(f"/api/data/calc/sheet/{sheet['id']}").get_json()["small"] is None


def test_formulas_multiply_columns_exactly_and_round_half_up(calc):
    sheet = _sheet(calc, a="1.00", b="3.00")
    assert sheet["total"] == "3.00"
    assert sheet["eighth"] == "0.13"  # 0.125 half-up (was half-even: 0.12)


def test_rollup_average_rounds_half_up_from_the_exact_mean(calc):
    sheet = _sheet(calc, lines=[{"amount": "0.02"}, {"amount": "0.03"}])
    assert sheet["mean"] == "0.03"  # 0.025 (was 0.02, half-even)
    assert calc.get(f"/api/data/calc/sheet/{sheet['id']}").get_json()["mean"] == "0.03"
