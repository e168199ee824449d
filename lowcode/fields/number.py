"""Numeric field types: integer, decimal, money and percent. Decimals are exact end to end."""

from __future__ import annotations

import sqlalchemy as sa

from lowcode.core.number_styles import NumberStyle, format_number
from lowcode.core.types import ExactDecimal
from lowcode.fields import fast
from lowcode.fields.base import FieldDef, FieldType
from lowcode.fields.bounds import (
    DECIMAL_BOUND_SCHEMA,
    INTEGER_BOUND_SCHEMA,
    bound_problems,
    bounds,
    range_validators,
)
from lowcode.fields.conversion import to_decimal, to_integer
from lowcode.fields.inputs import ExactDecimalInput, IntegerInput

DISPLAY_SCALE_SCHEMA = {"type": "integer", "minimum": 0, "maximum": 10}
"""Decimal places pages show (costs: 4), whatever the stored scale; the stored value stays exact."""


class IntegerFieldType(FieldType):
    """A whole number (64-bit)."""

    type = "integer"
    kind = "integer"
    widget = "number"
    options_schema = {
        "type": "object",
        "properties": {"min": INTEGER_BOUND_SCHEMA, "max": INTEGER_BOUND_SCHEMA},
        "additionalProperties": False,
    }

    def column_type(self, fdef):
        return sa.BigInteger()

    def number_style(self, fdef, style_of=None):
        return NumberStyle.fixed(0)

    def format(self, fdef, value, language):
        return format_number(value, NumberStyle.fixed(0), language)

    def marshmallow_field(self, fdef):
        return IntegerInput(allow_none=True, validate=range_validators(fdef))

    def coerce(self, fdef):
        return fast.whole(*bounds(fdef))

    def check_definition(self, fdef, entity_names):
        return bound_problems(fdef, 0)

    def json_schema(self, fdef):
        return {"type": ["integer", "null"]}

    def convert_from(self, fdef, value, source):
        return to_integer(value)


class DecimalFieldType(FieldType):
    """A fixed-point number with ``precision`` digits, ``scale`` of them after the point."""

    type = "decimal"
    kind = "decimal"
    widget = "decimal"
    default_scale = 2
    options_schema = {
        "type": "object",
        "properties": {
            "precision": {"type": "integer", "minimum": 1, "maximum": 18},  # SQLite stores a scaled BIGINT
            "scale": {"type": "integer", "minimum": 0, "maximum": 10},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "display_scale": DISPLAY_SCALE_SCHEMA,
            "min": DECIMAL_BOUND_SCHEMA,
            "max": DECIMAL_BOUND_SCHEMA,
        },
        "additionalProperties": False,
    }

    def precision_scale(self, fdef: FieldDef) -> tuple[int, int]:
        """(precision, scale) from the options, with this type's defaults."""
        return int(fdef.options.get("precision", 18)), int(fdef.options.get("scale", self.default_scale))

    def column_type(self, fdef):
        return ExactDecimal(*self.precision_scale(fdef))

    def marshmallow_field(self, fdef):
        return ExactDecimalInput(
            *self.precision_scale(fdef), allow_none=True, validate=range_validators(fdef)
        )

    def coerce(self, fdef):
        return fast.decimal(*self.precision_scale(fdef), *bounds(fdef))

    def check_definition(self, fdef, entity_names):
        return bound_problems(fdef, self.precision_scale(fdef)[1])

    def dump(self, fdef, value):
        return None if value is None else format(value, "f")

    def number_style(self, fdef, style_of=None):
        """Up to ``scale`` places without trailing zeros (quantities), or exactly ``display_scale``."""
        shown = fdef.options.get("display_scale")
        if shown is not None:
            return NumberStyle.fixed(int(shown))
        return NumberStyle.trimmed(self.precision_scale(fdef)[1])

    def format(self, fdef, value, language):
        return format_number(value, self.number_style(fdef), language)

    def json_schema(self, fdef):
        return {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$", "description": "exact decimal"}

    def convert_from(self, fdef, value, source):
        return to_decimal(value, *self.precision_scale(fdef))


class MoneyFieldType(DecimalFieldType):
    """An amount of money (decimal, scale 2 by default, optional ISO currency code)."""

    type = "money"
    widget = "money"

    def number_style(self, fdef, style_of=None):
        """Always ``display_scale`` (else ``scale``) places, followed by the currency code if declared."""
        places = fdef.options.get("display_scale", self.precision_scale(fdef)[1])
        return NumberStyle.amount(int(places), fdef.options.get("currency"))


class PercentFieldType(DecimalFieldType):
    """A percentage stored as the number shown (12.5 means 12.5 %), scale 2 by default."""

    type = "percent"
    widget = "percent"

    def number_style(self, fdef, style_of=None):
        places = fdef.options.get("display_scale", self.precision_scale(fdef)[1])
        return NumberStyle.fixed(int(places), suffix=" %")
