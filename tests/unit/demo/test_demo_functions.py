"""The functions the demo scenarios add to the expression language, and value specs."""

from __future__ import annotations

import datetime as dt
import random
from collections import ChainMap
from decimal import Decimal

import pytest

from lowcode.demo.functions import demo_functions
from lowcode.demo.values import Values, as_input
from lowcode.errors import ExpressionEvaluationError


def values(seed: int = 1) -> Values:
    return Values(demo_functions(random.Random(seed)))


def ev(spec, seed: int = 1, **names):
    return values(seed).eval(spec, ChainMap(names))


def test_calendar_functions():
    day = dt.date(2026, 1, 31)
    assert ev("=month_start(d, -3)", d=day) == dt.date(2025, 10, 1)
    assert ev("=month_start(d, 1)", d=day) == dt.date(2026, 2, 1)
    assert ev("=month_starts(a, b)", a=dt.date(2025, 11, 20), b=dt.date(2026, 1, 2)) == [
        dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1)]  # fmt: skip
    assert ev("=is_month_end(d)", d=day) is True and ev("=is_month_end(d)", d=dt.date(2024, 2, 28)) is False
    assert ev("=weekday(d)", d=dt.date(2026, 3, 2)) == 0  # a Monday
    assert ev("=day_of_month(d)", d=day) == 31


def test_list_and_text_functions():
    assert ev("=item(xs, 4)", xs=["a", "b", "c"]) == "b"  # counted round
    assert ev("=item('王李张', 5)") == "张"
    assert ev("=pad(7, 3)") == "007"
    assert ev("=check_digit('400638133393')") == "4006381333931"  # a published EAN-13
    assert ev("=floor(7.9) + floor(-0.5)") == Decimal(6)
    assert ev("=range(0, 3)") == [0, 1, 2]
    assert ev("=lookup(index_by(xs, 'id'), 2).n", xs=[{"id": 1, "n": "a"}, {"id": 2, "n": "b"}]) == "b"
    assert ev("=lookup(index_by(xs, 'id'), 3)", xs=[{"id": 1}]) is None
    assert ev("=first(xs, 2)", xs=[1, 2, 3]) == [1, 2] and ev("=last(xs, 1)", xs=[1, 2, 3]) == [3]
    with pytest.raises(ExpressionEvaluationError):
        ev("=pad(1.5, 3)")
    with pytest.raises(ExpressionEvaluationError):
        ev("=choice(xs)", xs=[])


def test_random_functions_follow_the_seed():
    spec = ["=randint(1, 1000)", "=choice(xs)", "=sample(xs, 3)", "=weighted(ws, 'w')", "=chance(0.5)"]
    names = {"xs": list(range(20)), "ws": [{"w": 1, "n": i} for i in range(10)]}
    assert ev(spec, 5, **names) == ev(spec, 5, **names)
    assert [ev(spec, s, **names) for s in range(5)] != [ev(spec, 5, **names)] * 5
    assert ev("=weighted(ws, 'w').n", ws=[{"w": 0, "n": "never"}, {"w": 1, "n": "always"}]) == "always"


def test_value_specs():
    spec = {"lines": {"$each": "=xs", "as": "x", "let": {"y": "=x * 2"}, "where": "=y > 2", "limit": 2,
                      "value": {"n": "=y", "fixed": "a"}}, "when": "=d"}  # fmt: skip
    assert ev(spec, xs=[1, 2, 3, 4], d=dt.date(2026, 1, 2)) == {
        "lines": [{"n": 4, "fixed": "a"}, {"n": 6, "fixed": "a"}], "when": dt.date(2026, 1, 2)}  # fmt: skip
    assert as_input({"a": Decimal("20"), "b": Decimal("9.90"), "c": dt.date(2026, 1, 2), "d": [Decimal(1)]}) == {
        "a": 20, "b": "9.90", "c": "2026-01-02", "d": [1]}  # fmt: skip
