"""Strict reading of numbers and JSON text: underscores, other scripts' digits and lone surrogates refused."""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
import pytest

from lowcode.conditions.model import parse_condition
from lowcode.core.jsonutil import loads_exact
from lowcode.core.numbers import decimal_from_text, digits_to_int, int_from_text
from lowcode.errors import BadRequest, ConditionInvalid, ExpressionSyntaxError
from lowcode.expressions import compile_expression
from lowcode.fields.inputs import ExactDecimalInput, IntegerInput

NOT_NUMBERS = ["1_000", "1_000.5", "١٢", "NaN", "Infinity", "1e", "", "0x10", "1 000"]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_text_that_python_might_read_as_a_number_is_refused(text):
    with pytest.raises(ValueError):
        decimal_from_text(text)
    with pytest.raises(ValueError):
        int_from_text(text)


def test_plain_numbers_still_read():
    assert decimal_from_text(" -12.50 ") == Decimal("-12.50")
    assert decimal_from_text("1e3") == Decimal(1000)
    assert int_from_text("+42") == 42
    with pytest.raises(ValueError):
        int_from_text("1" * 20)  # beyond 64 bits


@pytest.mark.parametrize("field", [ExactDecimalInput(precision=18, scale=2), IntegerInput()])
@pytest.mark.parametrize("text", ["1_000", "١٢"])
def test_number_inputs_refuse_underscores_and_other_digits(field, text):
    with pytest.raises(ma.ValidationError):
        field.deserialize(text)


def test_condition_values_refuse_underscores():
    kinds = {"amount": "decimal", "qty": "integer"}
    for leaf in (
        {"field": "amount", "op": ">", "value": "1_000"},
        {"field": "qty", "op": "=", "value": "1_000"},
    ):
        with pytest.raises(ConditionInvalid):
            parse_condition(leaf, kinds)


def test_expression_number_literals_refuse_underscores():
    with pytest.raises(ExpressionSyntaxError):
        compile_expression("1_000 + 1")


@pytest.mark.parametrize(
    "text", ['"\\ud800"', '{"a": "x\\udfff"}', '["ok", {"\\ud800": 1}]', '{"a": ["\\udc00y"]}']
)
def test_json_with_a_lone_surrogate_is_refused(text):
    with pytest.raises(BadRequest, match="lone surrogate"):
        loads_exact(text)


def test_json_with_escaped_pairs_and_plain_escapes_still_reads():
    assert loads_exact('{"a": "\\ud83d\\ude00 \\u00e9"}') == {"a": "\U0001f600 é"}


@pytest.mark.parametrize(
    "text", ["²", "١٢", "-1", "+1", " 1", "1 ", "1_000", "1.0", "", "9" * 20, "0x1", "1\n"]
)
def test_digits_to_int_takes_ascii_digits_only(text):
    assert digits_to_int(text) is None


def test_digits_to_int_reads_plain_digits_within_its_length():
    assert digits_to_int("0") == 0 and digits_to_int("0042") == 42
    assert digits_to_int("9" * 19) == 10**19 - 1
    assert digits_to_int("12345", max_digits=4) is None and digits_to_int(None) is None
