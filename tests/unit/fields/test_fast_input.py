"""The fast input path (``runtime/fast_input.py``, the field types' ``coerce`` hooks) answers exactly as the
marshmallow schema: the same typed values for good input, the same messages for bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import marshmallow as ma
import pytest
import sqlalchemy as sa

from lowcode.fields import register_builtin_field_types
from lowcode.fields.base import Doubt
from lowcode.runtime.compiler import compile_entity

register_builtin_field_types()

ENTITY = {
    "name": "thing",
    "fields": [
        {"name": "code", "type": "text", "required": True, "options": {"max_length": 8}},
        {"name": "sku", "type": "text", "options": {"pattern": "[A-Z]{2}-[0-9]+"}},
        {"name": "note", "type": "long_text"},
        {"name": "qty", "type": "integer", "options": {"min": 0, "max": 1000}},
        {"name": "big", "type": "integer"},
        {"name": "price", "type": "money", "required": True, "options": {"precision": 8, "min": "0.01"}},
        {"name": "rate", "type": "decimal", "options": {"precision": 6, "scale": 3, "max": "100"}},
        {"name": "pct", "type": "percent"},
        {"name": "status", "type": "select", "options": {"choices": [{"value": "open"}, {"value": "done"}]}},
        {"name": "tags", "type": "multi_select", "options": {"choices": [{"value": "a"}, {"value": "b"}]}},
        {"name": "active", "type": "boolean"},
        {"name": "due", "type": "date"},
        {"name": "at", "type": "datetime"},
        {"name": "mail", "type": "email"},
        {"name": "who", "type": "user"},
    ],
}
GOOD = {"code": "A1", "price": "12.50"}

VALUES = {
    "code": ["", "ABCDEFGH", "ABCDEFGHI", "a\x00b", 5, True, None, ["x"], {"a": 1}, b"AB", "汉字"],
    "sku": ["AB-12", "ab-12", "AB-", "AB-12x", "", None, 12],
    "note": ["long " * 10, "\x00", 3, None, False],
    "qty": [
        0,
        1000,
        1001,
        -1,
        True,
        False,
        1.0,
        "12",
        "1000",
        "1001",
        "-1",
        " 12",
        "1e2",
        "1_0",
        Decimal("5"),
        Decimal("5.5"),
        "5.0",
        None,
        2**63,
        [],
        "١٢",
    ],
    "big": [
        2**63 - 1,
        2**63,
        -(2**63 - 1),
        -(2**63),
        0,
        "9" * 30,
        "-7",
        "007",
        "-0",
        "+5",
        "9" * 18,
        "9" * 19,
    ],
    "price": [
        "0.01",
        "0.00",
        "0",
        "-1",
        "12.5",
        "12.505",
        "12.500",
        "999999.99",
        "1000000.00",
        "000012.5",
        "-0.00",
        12,
        0,
        Decimal("1.5"),
        Decimal("1.500"),
        Decimal("1E+2"),
        Decimal("NaN"),
        "NaN",
        "Infinity",
        "1e2",
        " 1.50",
        "1.",
        ".5",
        "+1.5",
        1.5,
        True,
        None,
        "",
        "١",
        "1_0",
    ],
    "rate": [
        "100",
        "100.000",
        "100.001",
        "99.999",
        "-0",
        "-0.000",
        "0.0001",
        "999",
        "1000",
        100,
        101,
        Decimal("-0"),
        Decimal("100.0000"),
    ],
    "pct": ["12.5", "-12.345", "12.34", 50],
    "status": ["open", "done", "Open", "", 1, None, ["open"]],
    "tags": [["a"], ["a", "c"], "a", [], None],
    "active": [True, False, "true", 1, 0, "yes", None, "maybe", 2],
    "due": [
        "2024-02-29",
        "2023-02-29",
        "2024-1-1",
        "20240101",
        "2024-01-01T00:00",
        "",
        20240101,
        None,
        "2024-13-01",
        "0000-01-01",
        " 2024-01-01",
    ],
    "at": ["2024-01-01T10:00:00", "2024-01-01T10:00:00+08:00", "2024-01-01", "nope", None],
    "mail": ["a@example.com", "nope", None],
    "who": [1, 0, -1, 2**31 - 1, 2**31, "1", "0", "2147483648", "01", None, True],
}


def _outcome(load, body):
    try:
        return "ok", load(body)
    except ma.ValidationError as exc:
        return "error", exc.messages


def _cases():
    for name, values in VALUES.items():
        for value in values:
            yield name, value


@pytest.fixture(scope="module")
def entity():
    return compile_entity("t", ENTITY, 1, sa.MetaData())


@pytest.mark.parametrize("partial", [False, True])
@pytest.mark.parametrize(("name", "value"), list(_cases()), ids=lambda v: repr(v)[:30])
def test_fast_path_answers_like_the_schema(entity, partial, name, value):
    body = {**GOOD, name: value}
    fast = _outcome(entity.input_loader(partial).load, dict(body))
    slow = _outcome(entity.input_schema(partial).load, dict(body))
    assert fast == slow
    if fast[0] == "ok":
        assert {k: repr(v) for k, v in fast[1].items()} == {
            k: repr(v) for k, v in slow[1].items()
        }  # 12.5 vs 12.50


@pytest.mark.parametrize(
    "body",
    [
        {},  # required fields missing
        {"price": "1.00"},
        {"code": None, "price": "1.00"},
        {**GOOD, "unknown": 1},
        {**GOOD, "id": 5},
        {"code": "A", "price": None, "qty": -5, "status": "x"},
    ],
)
def test_whole_body_errors_are_the_schemas(entity, body):
    assert _outcome(entity.input_loader(False).load, body) == _outcome(entity.input_schema(False).load, body)


def test_plain_bodies_take_the_fast_path(entity):
    body = {
        **GOOD,
        "sku": "AB-1",
        "qty": 3,
        "rate": "-0.000",
        "status": "open",
        "active": True,
        "due": "2024-02-29",
        "who": 7,
        "at": "2024-01-01T10:00:00+08:00",
    }
    values = entity.input_loader(False)._fast(body)  # no Doubt raised: the fast path decided
    assert values["price"] == Decimal("12.50") and str(values["price"]) == "12.50"
    assert str(values["rate"]) == "0.000"  # no negative zero
    assert values["due"] == dt.date(2024, 2, 29)
    assert values["at"] == dt.datetime(2024, 1, 1, 2, 0)  # a type without a hook: its marshmallow field
    assert values == entity.input_schema(False).load(body)


def test_a_value_the_hooks_doubt_goes_to_the_schema(entity):
    with pytest.raises(Doubt):
        entity.input_loader(False)._fast({**GOOD, "price": "12.500"})
    assert entity.input_loader(False).load({**GOOD, "price": "12.500"})["price"] == Decimal("12.50")
