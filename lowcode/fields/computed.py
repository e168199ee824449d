"""Field types the server computes from other fields: formula and rollup (autonumber: :mod:`.autonumber`)."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import ROUND_HALF_UP, Context, Decimal

import marshmallow as ma
import sqlalchemy as sa

from lowcode.core.exactsql import divide_half_up
from lowcode.core.number_styles import NumberStyle, StyleOf, format_number
from lowcode.core.types import ExactDecimal
from lowcode.errors import ExpressionEvaluationError, LowcodeError
from lowcode.expressions import compile_expression
from lowcode.expressions.functions import to_text, type_name
from lowcode.fields.base import FieldDef, FieldType
from lowcode.fields.conversion import by_validation, to_decimal, to_integer
from lowcode.fields.conversion import to_text as convert_to_text

RESULT_COLUMNS = {
    "text": lambda scale: sa.String(255),
    "integer": lambda scale: sa.BigInteger(),
    "decimal": lambda scale: ExactDecimal(18, scale),
    "boolean": lambda scale: sa.Boolean(),
    "date": lambda scale: sa.Date(),
}


RESULT_SCHEMAS = {
    "text": {"type": ["string", "null"], "maxLength": 255},
    "integer": {"type": ["integer", "null"]},
    "decimal": {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$", "description": "exact decimal"},
    "boolean": {"type": ["boolean", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
}
"""JSON Schema of each result type, as :meth:`ServerComputedFieldType.dump` returns it."""

RESULT_PRECISION = 18
"""Digits of every decimal result column (``ExactDecimal(18, scale)``)."""

DISPLAY_OPTIONS = {
    "display_scale": {"type": "integer", "minimum": 0, "maximum": 10},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
}
"""How pages show a decimal result: places, and as money in a currency (inferred from money sources)."""

_EXACT = Context(prec=60)
"""Enough digits that sums and the final rounding of values that fit a result column never round twice."""


def _as_result(value, result: str, scale: int):
    """The computed value as the result column stores it.

    :raises ExpressionEvaluationError: if it has the wrong type or does not fit the column (instead of a
        database error on write).
    """
    if value is None:
        return None
    if result in ("decimal", "integer"):
        if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
            raise ExpressionEvaluationError(f"the result must be a number, not {type_name(value)}")
        number = Decimal(value)
        digits = RESULT_PRECISION - scale if result == "decimal" else 18
        if number.is_finite() and number.adjusted() < digits:
            places = scale if result == "decimal" else 0
            number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_EXACT)
        if not number.is_finite() or number.adjusted() >= digits:
            raise ExpressionEvaluationError(f"the result {number} is too large (at most {digits} digits)")
        return (number if number else abs(number)) if result == "decimal" else int(number)  # no -0.00
    if result == "text":
        text = to_text(value)
        if len(text) > 255:
            raise ExpressionEvaluationError("the result is longer than 255 characters")
        return text
    if result == "boolean" and not isinstance(value, bool):
        raise ExpressionEvaluationError(f"the result must be true or false, not {type_name(value)}")
    if result == "date":
        if not isinstance(value, dt.date):
            raise ExpressionEvaluationError(f"the result must be a date, not {type_name(value)}")
        return value.date() if isinstance(value, dt.datetime) else value
    return value


class ServerComputedFieldType(FieldType):
    """Base of the field types whose value the server computes (clients may not write it)."""

    computed = True
    widget = "readonly"

    def marshmallow_field(self, fdef):
        return ma.fields.Raw(allow_none=True)

    def result(self, fdef: FieldDef) -> str:
        """The value type of the computed result."""
        return fdef.options.get("result", "decimal")

    def scale(self, fdef: FieldDef) -> int:
        """Decimal places of a decimal result."""
        return int(fdef.options.get("scale", 2))

    def column_type(self, fdef):
        return RESULT_COLUMNS[self.result(fdef)](self.scale(fdef))

    def value_kind(self, fdef):
        return self.result(fdef)

    def number_style(self, fdef, style_of=None):
        """Whole numbers; decimals as money when a ``currency`` is declared or every money field the value
        comes from has the same one (a total of money lines is money), else like a decimal field."""
        result = self.result(fdef)
        if result == "integer":
            return NumberStyle.fixed(0)
        if result != "decimal":
            return None
        places = fdef.options.get("display_scale")
        currency = fdef.options.get("currency")
        money = [s for s in self.source_styles(fdef, style_of) if s and s.money] if style_of else []
        if currency is None and money:
            currencies = {s.currency for s in money}
            currency = currencies.pop() if len(currencies) == 1 else None
        if currency or money:
            return NumberStyle.amount(int(self.scale(fdef) if places is None else places), currency)
        return NumberStyle.trimmed(self.scale(fdef)) if places is None else NumberStyle.fixed(int(places))

    def source_styles(self, fdef: FieldDef, style_of: StyleOf) -> list[NumberStyle | None]:
        """The styles of the fields the value is computed from."""
        return []

    def format(self, fdef, value, language):
        """Without the entity (the API's CSV export) a decimal keeps its stored places, as it always did;
        pages format through :mod:`lowcode.pages.numbers`, which knows what the value is computed from."""
        style = self.number_style(fdef)
        if style is None:
            return super().format(fdef, value, language)
        if self.result(fdef) == "decimal" and "display_scale" not in fdef.options:
            style = NumberStyle.fixed(self.scale(fdef), style.currency)
        return format_number(value, style, language)

    def dump(self, fdef, value):
        if isinstance(value, Decimal):
            return format(value, "f")
        return value.isoformat() if isinstance(value, dt.date) else value

    def json_schema(self, fdef):
        return {**RESULT_SCHEMAS[self.result(fdef)], "readOnly": True}

    def convert_from(self, fdef, value, source):
        result = self.result(fdef)
        if result == "decimal":
            return to_decimal(value, RESULT_PRECISION, self.scale(fdef))
        if result == "integer":
            return to_integer(value)
        if result == "text":
            return convert_to_text(value, 64 if self.type == "autonumber" else 255)
        field = ma.fields.Date() if result == "date" else ma.fields.Boolean()
        return by_validation(field, value.date() if isinstance(value, dt.datetime) else value)


class FormulaFieldType(ServerComputedFieldType):
    """A value computed on every write from other fields of the record, e.g. ``qty * unit_price``."""

    type = "formula"
    options_schema = {
        "type": "object",
        "required": ["expression"],
        "properties": {
            "expression": {"type": "string", "minLength": 1, "maxLength": 2000, "x-widget": "expression"},
            "result": {"enum": sorted(RESULT_COLUMNS)},
            "scale": {"type": "integer", "minimum": 0, "maximum": 10},
            **DISPLAY_OPTIONS,
        },
        "additionalProperties": False,
    }
    starter_options = {"expression": "0"}

    def check_definition(self, fdef, entity_names):
        try:
            compile_expression(fdef.options["expression"])
        except LowcodeError as exc:
            return [exc.message]
        return []

    def depends_on(self, fdef):
        return set(compile_expression(fdef.options["expression"]).names)

    def source_styles(self, fdef, style_of):
        try:
            names = sorted(self.depends_on(fdef))
        except LowcodeError:
            return []
        return [style_of(None, name) for name in names]

    def compute(self, fdef, record, children, ctx):
        names = {**record, "$now": ctx.now, "$today": ctx.now.date()}
        try:
            value = compile_expression(fdef.options["expression"]).evaluate(names)
            return _as_result(value, self.result(fdef), self.scale(fdef))
        except ExpressionEvaluationError as exc:
            raise ExpressionEvaluationError(f"{fdef.name}: {exc.message}") from exc


def _average(values: list, scale: int) -> Decimal | None:
    """The mean rounded half-up to ``scale`` places from the exact quotient (no intermediate rounding)."""
    if not values:
        return None
    return divide_half_up(_sum(values), Decimal(len(values)), scale)


def _sum(values: list) -> Decimal:
    return functools.reduce(_EXACT.add, values, Decimal(0))


AGGREGATES = {
    "sum": lambda values, scale: _sum(values),
    "count": lambda values, scale: len(values),
    "min": lambda values, scale: min(values) if values else None,
    "max": lambda values, scale: max(values) if values else None,
    "avg": _average,
}


class RollupFieldType(ServerComputedFieldType):
    """An aggregate over a child table's rows, e.g. order total = sum of line amounts."""

    type = "rollup"
    options_schema = {
        "type": "object",
        "required": ["child", "function"],
        "properties": {
            "child": {"type": "string", "x-widget": "child_table"},
            "field": {"type": "string", "x-widget": "child_field"},
            "function": {"enum": sorted(AGGREGATES)},
            "scale": {"type": "integer", "minimum": 0, "maximum": 10},
            **DISPLAY_OPTIONS,
        },
        "additionalProperties": False,
    }
    starter_options = {"function": "count"}

    def result(self, fdef):
        return "integer" if fdef.options.get("function") == "count" else "decimal"

    def depends_on(self, fdef):
        return {fdef.options["child"]}

    def source_styles(self, fdef, style_of):
        column = fdef.options.get("field")
        return [style_of(fdef.options["child"], column)] if column else []

    def check_in_entity(self, fdef, fields, entities):
        child = fields.get(fdef.options["child"])
        if child is None or child.get("type") != "child_table":
            return [
                f"field '{fdef.name}' rolls up '{fdef.options['child']}', which is not a child table here"
            ]
        target = entities.get(child.get("options", {}).get("entity"), {})
        column = fdef.options.get("field")
        if column and target and column not in {f["name"] for f in target.get("fields", [])}:
            return [f"field '{fdef.name}' rolls up unknown field '{column}' of '{fdef.options['child']}'"]
        return []

    def compute(self, fdef, record, children, ctx):
        rows = children.get(fdef.options["child"], [])
        column = fdef.options.get("field")
        values = [row.get(column) for row in rows] if column else rows
        values = [v for v in values if v is not None]
        try:
            return _as_result(
                AGGREGATES[fdef.options["function"]](values, self.scale(fdef)),
                self.result(fdef),
                self.scale(fdef),
            )
        except ExpressionEvaluationError as exc:
            raise ExpressionEvaluationError(f"{fdef.name}: {exc.message}") from exc
