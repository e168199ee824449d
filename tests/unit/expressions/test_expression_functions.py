"""Built-in functions, the function registry and custom functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from lowcode.errors import DuplicateType, ExpressionEvaluationError, ExpressionSyntaxError
from lowcode.expressions import Function, compile_expression, functions, register_builtin_functions
from lowcode.registry import Registry

BUILTINS = [
    "abs",
    "coalesce",
    "concat",
    "date_add_days",
    "format_date",
    "if",
    "join",
    "len",
    "lower",
    "max",
    "min",
    "month",
    "now",
    "round",
    "sum",
    "text",
    "today",
    "upper",
    "year",
]

NAMES = {
    "d": date(2024, 2, 27),
    "t": datetime(2024, 12, 31, 23, 30, tzinfo=UTC),
    "items": [1, 2.5, None, Decimal("0.25")],
    "words": ["a", "b"],
    "empty": [],
    "nothing": None,
    "name": "Ada",
    "record": {"a": 1},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("if(true, 'yes', 'no')", "yes"),
        ("if(false, 'yes', 'no')", "no"),
        ("if(nothing, 'yes', 'no')", "no"),
        ("if(1 < 2, 1 / 1, 1 / 0)", Decimal(1)),
        ("round(2.5)", Decimal(3)),
        ("round(-2.5)", Decimal(-3)),
        ("round(2.4)", Decimal(2)),
        ("round(1.005, 2)", Decimal("1.01")),
        ("round(1.2345, 3)", Decimal("1.235")),
        ("round(2, 2)", Decimal("2.00")),
        ("round(1250, -2)", Decimal("1300")),
        ("round(nothing, 2)", None),
        ("abs(-3.5)", Decimal("3.5")),
        ("abs(2)", Decimal(2)),
        ("abs(nothing)", None),
        ("min(3, 1, 2)", Decimal(1)),
        ("min(3, null, 2)", Decimal(2)),
        ("min(items)", Decimal("0.25")),
        ("min('b', 'a')", "a"),
        ("min(null, null)", None),
        ("min(empty)", None),
        ("max(3, 1, 2)", Decimal(3)),
        ("max(null, -1)", Decimal(-1)),
        ("max(items)", Decimal("2.5")),
        ("max(d, date_add_days(d, 1))", date(2024, 2, 28)),
        ("sum(items)", Decimal("3.75")),
        ("sum(empty)", Decimal(0)),
        ("sum(nothing)", Decimal(0)),
        ("len('hello')", Decimal(5)),
        ("len(words)", Decimal(2)),
        ("len('')", Decimal(0)),
        ("len(nothing)", Decimal(0)),
        ("concat('a', 'b', 'c')", "abc"),
        ("concat(name, null, ' ', 1.50, ' ', true)", "Ada 1.50 true"),
        ("concat()", ""),
        ("concat(d)", "2024-02-27"),
        ("join(words, ', ')", "a, b"),
        ("join(items, '/')", "1/2.5/0.25"),
        ("join(words, ', ', 1)", "a"),
        ("join(words, ', ', 0)", ""),
        ("join(words, ', ', 5)", "a, b"),
        ("join(empty, ', ')", ""),
        ("join(nothing, ', ')", ""),
        ("upper(name)", "ADA"),
        ("upper(nothing)", None),
        ("lower('MiXeD')", "mixed"),
        ("lower(nothing)", None),
        ("coalesce(nothing, null, 'x', 'y')", "x"),
        ("coalesce(nothing)", None),
        ("coalesce(1, 1 / 0)", Decimal(1)),
        ("date_add_days(d, 3)", date(2024, 3, 1)),
        ("date_add_days(d, -27)", date(2024, 1, 31)),
        ("date_add_days(t, 1)", datetime(2025, 1, 1, 23, 30, tzinfo=UTC)),
        ("date_add_days(nothing, 1)", None),
        ("date_add_days(d, nothing)", None),
        ("year(d)", Decimal(2024)),
        ("year(t)", Decimal(2024)),
        ("year(nothing)", None),
        ("month(d)", Decimal(2)),
        ("month(t)", Decimal(12)),
        ("month(nothing)", None),
        ("text(1.50)", "1.50"),
        ("text(100 * 10)", "1000"),
        ("text(nothing)", ""),
        ("text(true)", "true"),
        ("text(false)", "false"),
        ("text(d)", "2024-02-27"),
        ("text(t)", "2024-12-31T23:30:00+00:00"),
        ("text('x')", "x"),
        ("text(1) + text(2)", "12"),
    ],
)
def test_builtin_functions(text: str, expected: object) -> None:
    result = compile_expression(text).evaluate(NAMES)
    assert result == expected
    assert type(result) is type(expected)
    if isinstance(expected, Decimal):
        assert str(result) == str(expected)


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("today()", {"$today": date(2020, 5, 17)}, date(2020, 5, 17)),
        ("now()", {"$now": datetime(2020, 5, 17, 8, tzinfo=UTC)}, datetime(2020, 5, 17, 8, tzinfo=UTC)),
        ("year(today())", {"$today": date(1999, 1, 1)}, Decimal(1999)),
        ("date_add_days(today(), 1)", {"$today": date(2020, 12, 31)}, date(2021, 1, 1)),
    ],
)
def test_today_and_now_come_from_the_names(text: str, names: dict[str, object], expected: object) -> None:
    assert compile_expression(text).evaluate(names) == expected


def test_today_and_now_default_to_the_clock() -> None:
    before = datetime.now(UTC)
    now = compile_expression("now()").evaluate({})
    after = datetime.now(UTC)
    assert before <= now <= after
    assert now.tzinfo is not None
    assert compile_expression("today()").evaluate({}) in (date.today(), date.today() - timedelta(days=1))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("if(1, 2, 3)", "if() expects true/false, got number"),
        ("if(true, 1 / 0, 2)", "division by zero"),
        ("round('x')", "round() expects a number, got text"),
        ("round(1.5, 0.5)", "round() expects a whole number, got 0.5"),
        ("round(1.5, 'a')", "round() expects a number, got text"),
        ("round(123456789012345678901234567, 5)", "round() failed"),
        ("abs('x')", "abs() expects a number, got text"),
        ("min(1, 'a')", "min() cannot compare number and text"),
        ("max(true, false)", "max() cannot compare boolean and boolean"),
        ("max(record, record)", "max() cannot compare record and record"),
        ("sum(1)", "sum() expects a list, got number"),
        ("sum(words)", "sum() expects a number, got text"),
        ("len(1)", "len() expects text or a list, got number"),
        ("concat(record)", "cannot convert a record to text"),
        ("text(words)", "cannot convert a list to text"),
        ("join(name, ', ')", "join() expects a list, got text"),
        ("join(words, 1)", "join() expects a text separator, got number"),
        ("join(words, ', ', 1.5)", "join() expects a whole number, got 1.5"),
        ("join(words, ', ', -1)", "join() expects a count of 0 or more, got -1"),
        ("upper(1)", "upper() expects text, got number"),
        ("lower(true)", "lower() expects text, got boolean"),
        ("date_add_days('2024-01-01', 1)", "date_add_days() expects a date, got text"),
        ("date_add_days(d, 1.5)", "date_add_days() expects a whole number, got 1.5"),
        ("date_add_days(d, 10000000)", "date_add_days() failed"),
        ("year('2024')", "year() expects a date, got text"),
        ("month(1)", "month() expects a date, got number"),
    ],
)
def test_function_errors(text: str, fragment: str) -> None:
    expression = compile_expression(text)
    with pytest.raises(ExpressionEvaluationError) as info:
        expression.evaluate(NAMES)
    assert fragment in info.value.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("if(true, 1)", "if() takes 3 arguments, got 2"),
        ("if(true, 1, 2, 3)", "if() takes 3 arguments, got 4"),
        ("round(1, 2, 3)", "round() takes 1 to 2 arguments, got 3"),
        ("abs()", "abs() takes 1 arguments, got 0"),
        ("max()", "max() takes 1 or more arguments, got 0"),
        ("sum(1, 2)", "sum() takes 1 arguments, got 2"),
        ("len()", "len() takes 1 arguments, got 0"),
        ("upper('a', 'b')", "upper() takes 1 arguments"),
        ("lower()", "lower() takes 1 arguments"),
        ("coalesce()", "coalesce() takes 1 or more arguments, got 0"),
        ("now(1)", "now() takes 0 arguments"),
        ("date_add_days(d)", "date_add_days() takes 2 arguments, got 1"),
        ("year()", "year() takes 1 arguments"),
        ("month(d, d)", "month() takes 1 arguments"),
        ("text()", "text() takes 1 arguments"),
        ("join(words)", "join() takes 2 to 3 arguments, got 1"),
    ],
)
def test_wrong_argument_counts_fail_at_compile_time(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match="at position 0") as info:
        compile_expression(text)
    assert fragment in info.value.message


def test_default_registry_holds_the_builtins() -> None:
    assert isinstance(functions, Registry)
    assert functions.keys() == BUILTINS
    assert all(isinstance(item, Function) for item in functions.all())


def test_register_builtin_functions_fills_any_registry_once() -> None:
    registry: Registry = Registry("test functions")
    register_builtin_functions(registry)
    assert registry.keys() == BUILTINS
    with pytest.raises(DuplicateType):
        register_builtin_functions(registry)


def test_custom_registry_with_plain_callables() -> None:
    registry: Registry = Registry("custom functions")
    register_builtin_functions(registry)
    registry.register("double", lambda x: x * 2)
    registry.register("glue", lambda sep, *parts: sep.join(parts))
    registry.register("answer", Function(lambda: 42, 0, 0))

    assert compile_expression("double(a)", functions=registry).evaluate({"a": Decimal("1.5")}) == Decimal(
        "3.0"
    )
    assert compile_expression("glue('-', 'a', 'b')", functions=registry).evaluate({}) == "a-b"
    result = compile_expression("answer() + 1", functions=registry).evaluate({})
    assert result == Decimal(43)
    assert type(result) is Decimal  # a function's int result is normalised too
    with pytest.raises(ExpressionSyntaxError, match="double\\(\\) takes 1 arguments, got 2"):
        compile_expression("double(1, 2)", functions=registry)
    with pytest.raises(ExpressionSyntaxError, match="glue\\(\\) takes 1 or more arguments, got 0"):
        compile_expression("glue()", functions=registry)
    with pytest.raises(ExpressionSyntaxError, match="unknown function 'double'"):
        compile_expression("double(1)")


def test_custom_function_failures_become_evaluation_errors() -> None:
    registry: Registry = Registry("failing functions")
    registry.register("boom", lambda: int("not a number"))
    with pytest.raises(ExpressionEvaluationError, match="boom\\(\\) failed"):
        compile_expression("boom()", functions=registry).evaluate({})
