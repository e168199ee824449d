"""Fast ``coerce`` converters shared by field types: plain type checks in the exact subset of input their
marshmallow fields accept; anything else raises :class:`~lowcode.fields.base.Doubt` (the marshmallow field
decides). Used by :mod:`lowcode.runtime.fast_input`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from lowcode.fields.base import Coerce, Doubt

INT_LIMIT = 2**63 - 1
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE = re.compile(r"-?[0-9]{1,18}")


def text(max_length: int, pattern: str | None = None) -> Coerce:
    """Text of at most ``max_length`` characters, no NUL, matching ``pattern`` as a whole where given."""
    regex = re.compile(pattern) if pattern else None

    def fast(value: Any) -> str:
        if type(value) is not str or len(value) > max_length or "\x00" in value:
            raise Doubt
        if regex is not None and regex.fullmatch(value) is None:
            raise Doubt
        return value

    return fast


def whole(low: Decimal | int | None, high: Decimal | int | None) -> Coerce:
    """A JSON integer (not a bool), or a string of at most 18 digits with an optional minus (a rule's
    evaluated id, an import's cell), within 64 bits and within ``low``/``high`` where set."""
    lowest = -INT_LIMIT if low is None else max(-INT_LIMIT, low)
    highest = INT_LIMIT if high is None else min(INT_LIMIT, high)

    def fast(value: Any) -> int:
        kind = type(value)
        if kind is str and _WHOLE.fullmatch(value) is not None:
            value = int(value)
        elif kind is not int:
            raise Doubt
        if not lowest <= value <= highest:
            raise Doubt
        return value

    return fast


def decimal(precision: int, scale: int, low: Decimal | None, high: Decimal | None) -> Coerce | None:
    """A decimal string with at most ``precision - scale`` digits before the point and ``scale`` after it,
    a JSON integer or a Decimal of the same shape; quantized to ``scale`` places (no negative zero)."""
    digits = precision - scale
    if digits < 1:
        return None
    fraction = rf"(?:\.[0-9]{{1,{scale}}})?" if scale else ""
    shape = re.compile(rf"-?[0-9]{{1,{digits}}}{fraction}")
    quantum = Decimal(1).scaleb(-scale)
    limit = 10**digits

    def fast(value: Any) -> Decimal:
        kind = type(value)
        if kind is str:
            if shape.fullmatch(value) is None:
                raise Doubt
            number = Decimal(value)
        elif kind is int:
            if not -limit < value < limit:
                raise Doubt
            number = Decimal(value)
        elif kind is Decimal:
            if not value.is_finite() or value.as_tuple().exponent < -scale or not -limit < value < limit:
                raise Doubt
            number = value
        else:
            raise Doubt
        number = number.quantize(quantum)
        if not number:
            number = abs(number)
        if (low is not None and number < low) or (high is not None and number > high):
            raise Doubt
        return number

    return fast


def boolean(value: Any) -> bool:
    """A JSON true or false."""
    if type(value) is not bool:
        raise Doubt
    return value


def one_of(allowed: Collection[str]) -> Coerce:
    """Text that is one of ``allowed``."""
    choices = frozenset(allowed)

    def fast(value: Any) -> str:
        if type(value) is not str or value not in choices:
            raise Doubt
        return value

    return fast


def date(value: Any) -> dt.date:
    """``YYYY-MM-DD`` naming a real day."""
    if type(value) is not str or _DATE.fullmatch(value) is None:
        raise Doubt
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Doubt from None
