"""``min``/``max`` options of numeric fields: their schema, their checks at definition time and the
validator every write is held to (client input, rule writes and guarded updates alike)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma

from lowcode.core.numbers import decimal_from_text
from lowcode.fields.base import FieldDef

DECIMAL_BOUND_SCHEMA = {"type": ["string", "integer"], "pattern": r"^-?\d{1,18}(\.\d{1,10})?$"}
"""A bound of a decimal field: a decimal string (``"0.01"``) or an integer, never a float."""
INTEGER_BOUND_SCHEMA = {"type": "integer"}


def bounds(fdef: FieldDef) -> tuple[Decimal | None, Decimal | None]:
    """The field's (min, max) as exact decimals; None where not set. Assumes checked options."""
    return _bound(fdef.options.get("min")), _bound(fdef.options.get("max"))


def _bound(raw: Any) -> Decimal | None:
    if raw is None:
        return None
    return decimal_from_text(raw) if isinstance(raw, str) else Decimal(raw)


def bound_problems(fdef: FieldDef, scale: int) -> list[str]:
    """Messages for bounds that cannot work: unreadable, finer than the field's scale, or min above max."""
    try:
        low, high = bounds(fdef)
    except (InvalidOperation, ValueError):
        return [f"field '{fdef.name}': min and max must be exact numbers"]
    problems = [
        f"field '{fdef.name}': {name} has more than {scale} decimal places"
        for name, value in (("min", low), ("max", high))
        if value is not None and value != value.quantize(Decimal(1).scaleb(-scale))
    ]
    if low is not None and high is not None and low > high:
        problems.append(f"field '{fdef.name}': min {low} is above max {high}")
    return problems


class InRange(ma.validate.Validator):
    """Refuses a number below ``low`` or above ``high`` (either may be None), naming the bound."""

    def __init__(self, low: Decimal | None, high: Decimal | None):
        self.low = low
        self.high = high

    def __call__(self, value):
        if value is None:
            return value
        if self.low is not None and value < self.low:
            raise ma.ValidationError(f"Must be at least {self.low}.")
        if self.high is not None and value > self.high:
            raise ma.ValidationError(f"Must be at most {self.high}.")
        return value


def range_validators(fdef: FieldDef) -> list[InRange]:
    """The validators for a field's bounds (none when it has neither)."""
    low, high = bounds(fdef)
    return [] if low is None and high is None else [InRange(low, high)]
