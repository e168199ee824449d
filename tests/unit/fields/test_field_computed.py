"""Computed field types: autonumber (naming series), formula and rollup."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from lowcode.core.types import ExactDecimal
from lowcode.errors import ExpressionEvaluationError
from lowcode.fields import FieldDef, field_types, register_builtin_field_types
from lowcode.fields.autonumber import AutonumberFieldType
from lowcode.fields.base import ComputeContext

register_builtin_field_types()

NOW = dt.datetime(2026, 11, 5, 9, 30)


class Series:
    """An in-memory naming-series counter."""

    def __init__(self):
        self.counters: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]


def context(is_create: bool = True, now: dt.datetime = NOW, series=None) -> ComputeContext:
    return ComputeContext(None, is_create, now, series or Series())


def compute(type_key: str, options: dict[str, Any], record: dict[str, Any], ctx=None, name: str = "f") -> Any:
    fdef = FieldDef(name=name, type=type_key, options=options)
    children = {k: v for k, v in record.items() if isinstance(v, list)}
    return field_types.get(type_key).compute(fdef, record, children, ctx or context())


# -- autonumber ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "now", "prefix"),
    [
        ("SO-{YYYY}{MM}-{####}", NOW, "SO-202611-{####}"),
        ("INV{YY}{MM}{DD}-{###}", dt.datetime(2027, 1, 9), "INV270109-{###}"),
        ("{#}", NOW, "{#}"),
        ("PO-{####}", NOW, "PO-{####}"),
    ],
)
def test_autonumber_prefix_fills_the_date_tokens(pattern, now, prefix):
    assert AutonumberFieldType.prefix(pattern, now) == prefix


def test_autonumber_formats_the_series_number():
    options = {"pattern": "SO-{YYYY}{MM}-{####}"}
    ctx = context()
    numbers = [compute("autonumber", options, {}, ctx) for _ in range(3)]
    assert numbers == ["SO-202611-0001", "SO-202611-0002", "SO-202611-0003"]


def test_autonumber_counter_restarts_when_the_prefix_changes():
    options = {"pattern": "SO-{YYYY}{MM}-{####}"}
    series = Series()
    november = compute("autonumber", options, {}, context(series=series))
    december = compute("autonumber", options, {}, context(now=dt.datetime(2026, 12, 1), series=series))
    again = compute("autonumber", options, {}, context(series=series))
    assert (november, december, again) == ("SO-202611-0001", "SO-202612-0001", "SO-202611-0002")
    assert set(series.counters) == {"f:SO-202611-{####}", "f:SO-202612-{####}"}


def test_autonumber_series_are_per_field():
    series = Series()
    a = compute("autonumber", {"pattern": "A-{###}"}, {}, context(series=series), name="a")
    b = compute("autonumber", {"pattern": "A-{###}"}, {}, context(series=series), name="b")
    assert a == b == "A-001"


def test_autonumber_grows_past_its_width():
    series = Series()
    series.counters["f:X-{##}"] = 99
    assert compute("autonumber", {"pattern": "X-{##}"}, {}, context(series=series)) == "X-100"


def test_autonumber_is_given_once():
    options = {"pattern": "SO-{####}"}
    series = Series()
    assert (
        compute("autonumber", options, {"f": "SO-0007"}, context(is_create=False, series=series)) == "SO-0007"
    )
    assert (
        compute("autonumber", options, {"f": "SO-0007"}, context(is_create=True, series=series)) == "SO-0007"
    )
    assert series.counters == {}


def test_autonumber_is_text():
    fdef = FieldDef("n", "autonumber", options={"pattern": "SO-{####}"})
    autonumber = field_types.get("autonumber")
    assert autonumber.value_kind(fdef) == "text"  # filters compare it as text, not as a decimal
    assert isinstance(autonumber.column_type(fdef), sa.String)
    assert autonumber.computed


# -- formula ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "record", "expected"),
    [
        ({"expression": "qty * price"}, {"qty": Decimal(3), "price": Decimal("19.99")}, Decimal("59.97")),
        ({"expression": "a + b"}, {"a": Decimal("0.1"), "b": Decimal("0.2")}, Decimal("0.30")),
        ({"expression": "a / 3"}, {"a": Decimal(1)}, Decimal("0.33")),
        ({"expression": "a / 3", "scale": 4}, {"a": Decimal(2)}, Decimal("0.6667")),
        ({"expression": "a / 3", "scale": 0}, {"a": Decimal(2)}, Decimal("1")),
        ({"expression": "a * 1"}, {"a": Decimal("2.125")}, Decimal("2.13")),  # half-up, like SQL updates
        ({"expression": "-a"}, {"a": Decimal("2.125")}, Decimal("-2.13")),  # half away from zero
        ({"expression": "a / 8"}, {"a": Decimal("1")}, Decimal("0.13")),  # 0.125 (was 0.12, half-even)
        ({"expression": "round(a, 2)"}, {"a": Decimal("2.125")}, Decimal("2.13")),  # round() is half-up
        ({"expression": "a"}, {"a": 5}, Decimal("5.00")),
        ({"expression": "a * 2"}, {"a": None}, None),
        ({"expression": "coalesce(a, 0) * 2"}, {"a": None}, Decimal("0.00")),
    ],
)
def test_formula_decimal_result_is_quantized_to_the_scale(options, record, expected):
    value = compute("formula", options, record)
    assert value == expected
    if expected is not None:
        assert type(value) is Decimal
        assert str(value) == str(expected)


@pytest.mark.parametrize(
    ("options", "record", "expected"),
    [
        ({"expression": "qty * 2", "result": "integer"}, {"qty": Decimal(3)}, 6),
        ({"expression": "qty / 2", "result": "integer"}, {"qty": Decimal(7)}, 4),  # 3.5 rounds (was cut to 3)
        ({"expression": "qty / 2", "result": "integer"}, {"qty": Decimal(-7)}, -4),
        ({"expression": "concat(code, '-', qty)", "result": "text"}, {"code": "A", "qty": Decimal(3)}, "A-3"),
        ({"expression": "qty * 100", "result": "text"}, {"qty": Decimal(3)}, "300"),  # not 3E+2
        ({"expression": "qty > 2", "result": "boolean"}, {"qty": Decimal(3)}, True),
        (
            {"expression": "date_add_days(d, 30)", "result": "date"},
            {"d": dt.date(2026, 11, 5)},
            dt.date(2026, 12, 5),
        ),
        ({"expression": "today()", "result": "date"}, {}, NOW.date()),
    ],
)
def test_formula_other_results(options, record, expected):
    value = compute("formula", options, record)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("options", "record"),
    [
        ({"expression": "a / b"}, {"a": Decimal(1), "b": Decimal(0)}),  # division by zero
        ({"expression": "code"}, {"code": "abc"}),  # text for a decimal result
        ({"expression": "a > 1"}, {"a": Decimal(2)}),  # boolean for a decimal result
        ({"expression": "a", "result": "boolean"}, {"a": Decimal(1)}),
        ({"expression": "a", "result": "date"}, {"a": Decimal(1)}),
        ({"expression": "a * 1000"}, {"a": Decimal("9999999999999999.99")}),  # beyond ExactDecimal(18, 2)
        ({"expression": "a", "scale": 10}, {"a": Decimal("100000000")}),  # 9 digits before the point > 8
        ({"expression": "a * a", "result": "integer"}, {"a": Decimal(10**10)}),  # beyond BIGINT
        ({"expression": "concat(a, a)", "result": "text"}, {"a": "x" * 200}),  # beyond VARCHAR(255)
    ],
)
def test_formula_errors_name_the_field(options, record):
    """A value the result column cannot store is a clear 422, never a database error (500)."""
    with pytest.raises(ExpressionEvaluationError) as info:
        compute("formula", options, record, name="total")
    assert info.value.message.startswith("total: ")


def test_formula_results_fit_their_columns_on_sqlite():
    """The largest value a decimal formula accepts is storable in its scaled BIGINT column."""
    largest = compute("formula", {"expression": "a"}, {"a": Decimal("9999999999999999.99")})
    column = field_types.get("formula").column_type(FieldDef("f", "formula", options={"expression": "a"}))
    assert isinstance(column, ExactDecimal)
    engine = sa.create_engine("sqlite://")
    table = sa.Table("t", sa.MetaData(), sa.Column("v", column))
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), {"v": largest})
        assert conn.execute(sa.select(table.c.v)).scalar_one() == largest
    engine.dispose()


def test_formula_depends_on_the_names_it_reads():
    fdef = FieldDef("f", "formula", options={"expression": "round(qty * price, 2) + coalesce(extra, 0)"})
    assert field_types.get("formula").depends_on(fdef) == {"qty", "price", "extra"}


def test_formula_definition_check_reports_syntax_errors():
    formula = field_types.get("formula")
    assert formula.check_definition(FieldDef("f", "formula", options={"expression": "qty *"}), set())
    assert formula.check_definition(FieldDef("f", "formula", options={"expression": "qty * 2"}), set()) == []


@pytest.mark.parametrize(
    ("result", "column"),
    [
        ("decimal", ExactDecimal),
        ("integer", sa.BigInteger),
        ("text", sa.String),
        ("boolean", sa.Boolean),
        ("date", sa.Date),
    ],
)
def test_formula_column_and_kind_follow_the_result(result, column):
    fdef = FieldDef("f", "formula", options={"expression": "a", "result": result})
    formula = field_types.get("formula")
    assert isinstance(formula.column_type(fdef), column)
    assert formula.value_kind(fdef) == result


# -- rollup ----------------------------------------------------------------------------------------------

LINES = [
    {"amount": Decimal("0.10"), "qty": 2},
    {"amount": None, "qty": None},
    {"amount": Decimal("0.20"), "qty": 5},
    {"amount": Decimal("-0.05"), "qty": 1},
]


@pytest.mark.parametrize(
    ("function", "field", "scale", "expected"),
    [
        ("sum", "amount", 2, Decimal("0.25")),
        ("sum", "qty", 0, Decimal("8")),
        ("count", "amount", 2, 3),  # rows with a value
        ("count", None, 2, 4),  # all rows
        ("min", "amount", 2, Decimal("-0.05")),
        ("max", "amount", 2, Decimal("0.20")),
        ("avg", "amount", 2, Decimal("0.08")),  # 0.25 / 3 = 0.0833...
        ("avg", "amount", 4, Decimal("0.0833")),
        ("avg", "qty", 2, Decimal("2.67")),
    ],
)
def test_rollup_over_rows_with_none_values(function, field, scale, expected):
    options = {"child": "lines", "function": function, "scale": scale, **({"field": field} if field else {})}
    value = compute("rollup", options, {"lines": [dict(r) for r in LINES]})
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(expected, Decimal):
        assert str(value) == str(expected)


@pytest.mark.parametrize(
    ("function", "expected"),
    [("sum", Decimal("0.00")), ("count", 0), ("min", None), ("max", None), ("avg", None)],
)
def test_rollup_of_no_rows(function, expected):
    options = {"child": "lines", "field": "amount", "function": function}
    assert compute("rollup", options, {"lines": []}) == expected
    assert compute("rollup", options, {"lines": [{"amount": None}]}) == expected
    assert compute("rollup", options, {}) == expected  # no child rows loaded at all


@pytest.mark.parametrize(
    ("amounts", "scale", "expected"),
    [
        (["0.02", "0.03"], 2, "0.03"),  # 0.025 rounds half-up (was 0.02, half-even)
        (["-0.02", "-0.03"], 2, "-0.03"),
        (["1", "1", "0"], 4, "0.6667"),
        # the exact mean is 0.125000...0001: rounding it to 28 digits first would give 0.12 after a tie
        (["0.250000000000000000000000000002", "0"], 2, "0.13"),
        (["0.249999999999999999999999999998", "0"], 2, "0.12"),
    ],
)
def test_rollup_average_is_rounded_half_up_from_the_exact_mean(amounts, scale, expected):
    rows = [{"amount": Decimal(a)} for a in amounts]
    value = compute(
        "rollup", {"child": "lines", "field": "amount", "function": "avg", "scale": scale}, {"lines": rows}
    )
    assert str(value) == expected


def test_rollup_of_three_tenths_is_exact():
    rows = [{"amount": Decimal("0.1")} for _ in range(3)]
    total = compute("rollup", {"child": "lines", "field": "amount", "function": "sum"}, {"lines": rows})
    assert total == Decimal("0.30") and str(total) == "0.30"


def test_rollup_too_large_for_its_column_names_the_field():
    rows = [{"amount": Decimal("9999999999999999.99")}] * 2
    with pytest.raises(ExpressionEvaluationError) as info:
        compute(
            "rollup", {"child": "lines", "field": "amount", "function": "sum"}, {"lines": rows}, name="total"
        )
    assert info.value.message.startswith("total: ")


def test_rollup_kind_column_and_dependencies():
    rollup = field_types.get("rollup")
    total = FieldDef("t", "rollup", options={"child": "lines", "field": "amount", "function": "sum"})
    count = FieldDef("c", "rollup", options={"child": "lines", "function": "count"})
    assert rollup.value_kind(total) == "decimal" and isinstance(rollup.column_type(total), ExactDecimal)
    assert rollup.value_kind(count) == "integer" and isinstance(rollup.column_type(count), sa.BigInteger)
    assert rollup.depends_on(total) == {"lines"}
