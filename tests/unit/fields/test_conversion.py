"""The conversion hook of each field type: what a stored value becomes under another definition."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lowcode.fields import FieldDef, field_types, register_builtin_field_types
from lowcode.fields.conversion import EXACT, FAILED, LOSSY

register_builtin_field_types()


def convert(value, to_type, source_type="text", **options):
    target = FieldDef(name="f", type=to_type, options=options)
    result = field_types.get(to_type).convert_from(target, value, FieldDef(name="f", type=source_type))
    return result.value, result.outcome


CHOICES = {"choices": [{"value": "a"}, {"value": "b"}]}


@pytest.mark.parametrize(
    ("value", "to_type", "source", "options", "expected"),
    [
        (5, "money", "integer", {}, (Decimal("5.00"), EXACT)),
        (Decimal("1.235"), "decimal", "decimal", {"scale": 2}, (Decimal("1.24"), LOSSY)),
        (Decimal("-1.235"), "decimal", "decimal", {"scale": 2}, (Decimal("-1.24"), LOSSY)),
        (Decimal("-0.001"), "decimal", "decimal", {"scale": 2}, (Decimal("0.00"), LOSSY)),
        (Decimal("123456789.5"), "decimal", "decimal", {"precision": 8, "scale": 0}, (None, FAILED)),
        ("1,250.5", "decimal", "text", {"scale": 1}, (Decimal("1250.5"), EXACT)),
        ("abc", "money", "text", {}, (None, FAILED)),
        (True, "money", "boolean", {}, (None, FAILED)),
        (" 12 ", "integer", "text", {}, (12, EXACT)),
        (Decimal("2.5"), "integer", "decimal", {}, (3, LOSSY)),
        (Decimal("-2.5"), "integer", "decimal", {}, (-3, LOSSY)),
        (Decimal("1e30"), "integer", "decimal", {}, (None, FAILED)),
        (Decimal("12.50"), "text", "money", {"max_length": 10}, ("12.50", EXACT)),
        ("abcdef", "text", "text", {"max_length": 3}, ("abc", LOSSY)),
        (["a", "b"], "text", "multi_select", {}, ("a, b", EXACT)),
        (dt.date(2024, 1, 2), "text", "date", {}, ("2024-01-02", EXACT)),
        ("yes", "boolean", "text", {}, (True, EXACT)),
        ("maybe", "boolean", "text", {}, (None, FAILED)),
        ("2024-01-02", "date", "text", {}, (dt.date(2024, 1, 2), EXACT)),
        (dt.datetime(2024, 1, 2, 0, 0), "date", "datetime", {}, (dt.date(2024, 1, 2), EXACT)),
        (dt.datetime(2024, 1, 2, 13, 5), "date", "datetime", {}, (dt.date(2024, 1, 2), LOSSY)),
        (dt.date(2024, 1, 2), "datetime", "date", {}, (dt.datetime(2024, 1, 2), EXACT)),
        ("b", "select", "text", CHOICES, ("b", EXACT)),
        ("c", "select", "text", CHOICES, (None, FAILED)),
        (["a"], "select", "multi_select", CHOICES, ("a", EXACT)),
        (["a", "b"], "select", "multi_select", CHOICES, (None, FAILED)),
        ("a, b", "multi_select", "text", CHOICES, (["a", "b"], EXACT)),
        ("a, z", "multi_select", "text", CHOICES, (None, FAILED)),
        ("x@example.com", "email", "text", {}, ("x@example.com", EXACT)),
        ("not an address", "email", "text", {}, (None, FAILED)),
        (7, "link", "integer", {"entity": "thing"}, (7, EXACT)),
        (Decimal("3.456"), "formula", "decimal", {"expression": "a", "scale": 2}, (Decimal("3.46"), LOSSY)),
    ],
)
def test_conversion_outcomes(value, to_type, source, options, expected):
    assert convert(value, to_type, source, **options) == expected
