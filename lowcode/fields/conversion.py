"""Converting a stored value from one field definition to another (a type change at publish time).

Each field type converts *into* itself (:meth:`FieldType.convert_from`); the outcome says whether the value
arrived unchanged in meaning (``exact``), changed on the way (``lossy``: rounded, truncated, time dropped) or
could not be converted at all (``failed``: it would become empty). The schema plan counts the outcomes
before anything is written, and a publish that would lose data needs the user's consent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

import marshmallow as ma

EXACT = "exact"
LOSSY = "lossy"
FAILED = "failed"


@dataclass(frozen=True)
class Converted:
    """One value after conversion and how it went."""

    value: Any
    outcome: str = EXACT

    @classmethod
    def failed(cls) -> Converted:
        """A value that cannot be converted (it would be stored as empty)."""
        return cls(None, FAILED)


def as_text(value: Any) -> str:
    """A stored value as plain text (the bridge between unrelated types)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(item.get("name", "") if isinstance(item, dict) else as_text(item) for item in value)
    return str(value)


def as_decimal(value: Any) -> Decimal | None:
    """A number from a stored value (numbers and numeric text; never booleans), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def round_half_up(number: Decimal, scale: int) -> Decimal:
    """``number`` rounded to ``scale`` places, halves away from zero (the platform's one rounding rule).
    Only for numbers that fit a column (at most 18 digits before the point; callers check)."""
    return number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP, context=Context(prec=60))


def to_decimal(value: Any, precision: int, scale: int) -> Converted:
    """Into a fixed-scale decimal: rounded half-up (lossy when digits are dropped), failed when too large."""
    number = as_decimal(value)
    if number is None or number.adjusted() >= precision:
        return Converted.failed()
    rounded = round_half_up(number, scale)
    if rounded and rounded.adjusted() + 1 > precision - scale:
        return Converted.failed()
    rounded = rounded if rounded else abs(rounded)
    return Converted(rounded, EXACT if rounded == number else LOSSY)


def to_integer(value: Any) -> Converted:
    """Into a 64-bit integer: fractions rounded half-up (lossy), out of range failed."""
    number = as_decimal(value)
    if number is None or number.adjusted() > 18:
        return Converted.failed()
    rounded = round_half_up(number, 0)
    if abs(rounded) > 2**63 - 1:
        return Converted.failed()
    return Converted(int(rounded), EXACT if rounded == number else LOSSY)


def to_text(value: Any, max_length: int | None) -> Converted:
    """Into text: anything has a text form; longer than the column allows is truncated (lossy)."""
    text = as_text(value)
    if max_length is not None and len(text) > max_length:
        return Converted(text[:max_length], LOSSY)
    return Converted(text)


def by_validation(field: ma.fields.Field, value: Any) -> Converted:
    """Into a type through its own input validation: accepted as it is, or failed."""
    candidate = value if isinstance(value, (str, int, bool, list)) else as_text(value)
    try:
        return Converted(field.deserialize(candidate))
    except ma.ValidationError:
        if isinstance(candidate, str):
            return Converted.failed()
        try:
            return Converted(field.deserialize(as_text(value)))
        except ma.ValidationError:
            return Converted.failed()
