"""The functions a demo scenario's expressions may call: the expression language's built-ins plus seeded
random choices, calendar helpers and small text helpers. One registry per run, bound to the run's
``random.Random``, so the same seed gives the same data."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Callable, Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from lowcode.errors import ExpressionEvaluationError
from lowcode.expressions import Function, register_builtin_functions
from lowcode.registry import Registry


def _int(value: Any, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value != int(value):
        raise ExpressionEvaluationError(f"{fn}() expects a whole number, got {value!r}")
    return int(value)


def _list(value: Any, fn: str) -> list:
    if not isinstance(value, list | tuple):
        raise ExpressionEvaluationError(f"{fn}() expects a list, got {type(value).__name__}")
    return list(value)


def _date(value: Any, fn: str) -> dt.date:
    if not isinstance(value, dt.date):
        raise ExpressionEvaluationError(f"{fn}() expects a date, got {value!r}")
    return value.date() if isinstance(value, dt.datetime) else value


def key_of(*parts: Any) -> str:
    """The key of a keyed map (``find`` with ``key``, ``lookup()``): the parts as text joined by ':'."""
    return ":".join(str(int(p)) if isinstance(p, Decimal) and p == int(p) else str(p) for p in parts)


def month_start(value: Any, offset: Any = Decimal(0)) -> dt.date:
    """``month_start(d, n)``: the first day of the month ``n`` months after (before, if negative) d's."""
    day = _date(value, "month_start")
    index = day.year * 12 + day.month - 1 + _int(offset, "month_start")
    return dt.date(index // 12, index % 12 + 1, 1)


def month_starts(first: Any, last: Any) -> list[dt.date]:
    """``month_starts(a, b)``: the first days of the months from a's to b's, in order."""
    month, end = month_start(first), _date(last, "month_starts")
    months = []
    while month <= end:
        months.append(month)
        month = month_start(month, Decimal(1))
    return months


def is_month_end(value: Any) -> bool:
    """``is_month_end(d)``: d is the last day of its month."""
    day = _date(value, "is_month_end")
    return day.day == calendar.monthrange(day.year, day.month)[1]


def item(values: Any, index: Any) -> Any:
    """``item(list_or_text, i)``: the element at i, counted round (i modulo the length)."""
    if isinstance(values, str):
        return values[_int(index, "item") % len(values)]
    values = _list(values, "item")
    if not values:
        raise ExpressionEvaluationError("item() of an empty list")
    return values[_int(index, "item") % len(values)]


def pad(value: Any, width: Any) -> str:
    """``pad(n, w)``: the whole number n as text, zero-padded to w digits."""
    return f"{_int(value, 'pad'):0{_int(width, 'pad')}d}"


def check_digit(digits: Any) -> str:
    """``check_digit('690000000001')``: the digits followed by their GS1 (EAN/UPC) check digit."""
    text = str(digits)
    if not text.isascii() or not text.isdigit():
        raise ExpressionEvaluationError(f"check_digit() expects digits, got {text!r}")
    weights = [3 if i % 2 == 0 else 1 for i in range(len(text))][::-1]
    total = sum(int(d) * w for d, w in zip(text, weights, strict=True))
    return text + str((10 - total % 10) % 10)


def lookup(mapping: Any, *keys: Any) -> Any:
    """``lookup(map, k1, k2...)``: the entry of a keyed map (see ``find`` with ``key``), or null."""
    if not isinstance(mapping, Mapping):
        raise ExpressionEvaluationError("lookup() expects a keyed map")
    return mapping.get(key_of(*keys))


def index_by(values: Any, field: Any) -> dict[str, Any]:
    """``index_by(list, 'id')``: a keyed map of the records of a list by one field (see ``lookup()``)."""
    return {key_of(v[field]): v for v in _list(values, "index_by")}


def _floor(value: Any) -> Decimal:
    if not isinstance(value, Decimal):
        raise ExpressionEvaluationError(f"floor() expects a number, got {value!r}")
    return value.to_integral_value(rounding=ROUND_FLOOR)


def _range(low: Any, high: Any) -> list[int]:
    low, high = _int(low, "range"), _int(high, "range")
    if high - low > 100_000:
        raise ExpressionEvaluationError("range() of more than 100000 numbers")
    return list(range(low, high))


def _random_functions(rng: random.Random) -> dict[str, Function]:
    def randint(low: Any, high: Any) -> int:
        return rng.randint(_int(low, "randint"), _int(high, "randint"))

    def chance(probability: Any) -> bool:
        return rng.random() < float(probability)

    def choice(values: Any) -> Any:
        values = _list(values, "choice")
        if not values:
            raise ExpressionEvaluationError("choice() of an empty list")
        return rng.choice(values)

    def sample(values: Any, count: Any) -> list:
        values = _list(values, "sample")
        return rng.sample(values, min(_int(count, "sample"), len(values)))

    def weighted(values: Any, field: Any) -> Any:
        values = _list(values, "weighted")
        return rng.choices(values, [float(v[field]) for v in values])[0]

    return {
        "randint": Function(randint, 2, 2),
        "chance": Function(chance, 1, 1),
        "choice": Function(choice, 1, 1),
        "sample": Function(sample, 2, 2),
        "weighted": Function(weighted, 2, 2),
    }


def _first(values: Any, count: Any) -> list:
    return _list(values, "first")[: _int(count, "first")]


def _last(values: Any, count: Any) -> list:
    count = _int(count, "last")
    return _list(values, "last")[-count:] if count else []


CALENDAR: dict[str, Function] = {
    "weekday": Function(lambda d: _date(d, "weekday").weekday(), 1, 1),
    "day_of_month": Function(lambda d: _date(d, "day_of_month").day, 1, 1),
    "is_month_end": Function(is_month_end, 1, 1),
    "month_start": Function(month_start, 1, 2),
    "month_starts": Function(month_starts, 2, 2),
}
LISTS: dict[str, Callable[..., Any] | Function] = {
    "item": Function(item, 2, 2),
    "first": Function(_first, 2, 2),
    "last": Function(_last, 2, 2),
    "lookup": Function(lookup, 2),
    "pad": Function(pad, 2, 2),
    "floor": Function(_floor, 1, 1),
    "range": Function(_range, 2, 2),
    "index_by": Function(index_by, 2, 2),
    "check_digit": Function(check_digit, 1, 1),
}


def demo_functions(rng: random.Random) -> Registry[Callable[..., Any]]:
    """A function registry for one run: the built-ins, the calendar and list helpers, and random
    functions drawing from ``rng``."""
    registry: Registry[Callable[..., Any]] = Registry("demo expression function")
    register_builtin_functions(registry)
    for name, function in {**CALENDAR, **LISTS, **_random_functions(rng)}.items():
        registry.register(name, function)
    return registry
