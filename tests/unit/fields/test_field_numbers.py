"""Numbers: decimal, money and percent are exact (never float); integers never truncate; ExactDecimal
stores a scaled integer on SQLite so values and SQL sums stay exact."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator
from sqlalchemy.dialects import postgresql, sqlite

from lowcode.core.types import ExactDecimal
from lowcode.fields import FieldDef, field_types, register_builtin_field_types

register_builtin_field_types()

FLOAT = "Floating-point numbers are not accepted; send a decimal string."
NOT_A_NUMBER = "Not a valid number."
TWO_PLACES = "At most 2 decimal places."
SIXTEEN_DIGITS = "Too many digits (at most 16 before the decimal point)."
NOT_AN_INTEGER = "Not a valid integer."
OUT_OF_RANGE = "Out of range."


def load(type_key: str, value: Any, **options: Any) -> Any:
    """The loaded value, or ``("error", messages)``."""
    fdef = FieldDef(name="f", type=type_key, options=options)
    schema = ma.Schema.from_dict({"f": field_types.get(type_key).marshmallow_field(fdef)})()
    try:
        return schema.load({"f": value})["f"]
    except ma.ValidationError as exc:
        return ("error", exc.messages["f"])


DECIMAL_TYPES = ["decimal", "money", "percent"]

REFUSED = [
    (0.1, FLOAT),
    (19.99, FLOAT),
    (1.0, FLOAT),
    (True, NOT_A_NUMBER),
    (False, NOT_A_NUMBER),
    ("NaN", NOT_A_NUMBER),
    ("nan", NOT_A_NUMBER),
    ("Infinity", NOT_A_NUMBER),
    ("-inf", NOT_A_NUMBER),
    (Decimal("NaN"), NOT_A_NUMBER),
    (Decimal("Infinity"), NOT_A_NUMBER),
    ("abc", NOT_A_NUMBER),
    ("", NOT_A_NUMBER),
    ("1,5", NOT_A_NUMBER),
    ([1], NOT_A_NUMBER),
    ([1, [5], 0], NOT_A_NUMBER),
    ({"v": 1}, NOT_A_NUMBER),
    ("19.999", TWO_PLACES),
    (Decimal("0.001"), TWO_PLACES),
    ("0.1000000000000000000000000000001", TWO_PLACES),  # more digits than the 28 of the default context
    ("1e-3000000", TWO_PLACES),  # a non-zero value that would underflow to 0 when normalised
    ("12345678901234567", SIXTEEN_DIGITS),
    ("12345678901234567.00", SIXTEEN_DIGITS),
    (10**16, SIXTEEN_DIGITS),
    ("-12345678901234567", SIXTEEN_DIGITS),
    ("1e3000000", SIXTEEN_DIGITS),  # a huge exponent must not overflow the decimal context
]

ACCEPTED = [
    ("19.99", Decimal("19.99")),
    (" 19.99 ", Decimal("19.99")),
    ("19.9", Decimal("19.90")),
    ("19.990000", Decimal("19.99")),
    (Decimal("19.99"), Decimal("19.99")),
    (Decimal("0.10"), Decimal("0.10")),
    (7, Decimal("7.00")),
    (0, Decimal("0.00")),
    ("-0", Decimal("0.00")),
    ("-5.5", Decimal("-5.50")),
    ("1E+2", Decimal("100.00")),
    ("9999999999999999.99", Decimal("9999999999999999.99")),
    ("12345678901234.56", Decimal("12345678901234.56")),
    (None, None),
]


@pytest.mark.parametrize("type_key", DECIMAL_TYPES)
@pytest.mark.parametrize(("value", "message"), REFUSED, ids=[repr(v) for v, _ in REFUSED])
def test_decimal_types_refuse(type_key, value, message):
    assert load(type_key, value) == ("error", [message])


@pytest.mark.parametrize("type_key", DECIMAL_TYPES)
@pytest.mark.parametrize(("value", "expected"), ACCEPTED, ids=[repr(v) for v, _ in ACCEPTED])
def test_decimal_types_accept(type_key, value, expected):
    loaded = load(type_key, value)
    assert loaded == expected
    if expected is not None:
        assert type(loaded) is Decimal
        assert str(loaded) == str(expected)  # the column's scale, exactly
        assert not loaded.is_signed() or loaded < 0


@pytest.mark.parametrize(
    ("options", "value", "expected"),
    [
        ({"scale": 0}, "12", Decimal("12")),
        ({"scale": 0}, "12.5", ("error", ["At most 0 decimal places."])),
        ({"scale": 3}, "1.125", Decimal("1.125")),
        ({"scale": 3}, "1.1255", ("error", ["At most 3 decimal places."])),
        ({"precision": 5, "scale": 2}, "999.99", Decimal("999.99")),
        (
            {"precision": 5, "scale": 2},
            "1000",
            ("error", ["Too many digits (at most 3 before the decimal point)."]),
        ),
        ({"precision": 4, "scale": 4}, "0.1234", Decimal("0.1234")),
        ({"precision": 4, "scale": 4}, "0", Decimal("0.0000")),
        ({"precision": 18, "scale": 0}, "999999999999999999", Decimal("999999999999999999")),
        ({"precision": 18, "scale": 10}, "12345678.1234567891", Decimal("12345678.1234567891")),
    ],
)
def test_precision_and_scale_come_from_the_options(options, value, expected):
    assert load("decimal", value, **options) == expected


def test_money_and_percent_default_to_two_places():
    for type_key in DECIMAL_TYPES:
        ftype = field_types.get(type_key)
        assert ftype.precision_scale(FieldDef("f", type_key)) == (18, 2)


@pytest.mark.parametrize("precision", [19, 30])
def test_precision_beyond_what_a_sqlite_bigint_holds_is_refused_by_the_options_schema(precision):
    """A scaled BIGINT holds 18 digits; NUMERIC(30, 10) would work on PostgreSQL only."""
    validator = Draft202012Validator(field_types.get("decimal").options_schema)
    assert not validator.is_valid({"precision": precision})
    assert validator.is_valid({"precision": 18, "scale": 10})


@pytest.mark.parametrize(
    ("type_key", "options", "value", "text"),
    [
        ("decimal", {}, Decimal("1234567.5"), "1,234,567.5"),
        ("decimal", {"scale": 3}, Decimal("55.000"), "55"),
        ("decimal", {"scale": 3}, Decimal("2.500"), "2.5"),
        ("decimal", {"scale": 3}, Decimal("1234.125"), "1,234.125"),
        ("decimal", {"scale": 4, "display_scale": 4}, Decimal("12.5"), "12.5000"),
        ("decimal", {"scale": 0}, Decimal("12"), "12"),
        ("integer", {}, 1234567, "1,234,567"),
        ("money", {"currency": "CNY"}, Decimal("19.9"), "19.90 CNY"),
        ("money", {"currency": "CNY"}, Decimal("1234.5"), "1,234.50 CNY"),
        ("money", {}, Decimal("-3"), "-3.00"),
        ("percent", {}, Decimal("12.5"), "12.50 %"),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh_CN", "zh-CN"])
def test_format(type_key, options, value, text, language):
    """Thousands separators, currency codes, whole quantities without trailing zeros, declared places;
    English and Chinese share these separators."""
    fdef = FieldDef("f", type_key, options=options)
    assert field_types.get(type_key).format(fdef, value, language) == text
    assert field_types.get(type_key).format(fdef, None, language) == ""


def test_format_rounds_half_up_to_the_places_shown_and_never_shows_minus_zero():
    fdef = FieldDef("f", "decimal", options={"scale": 4, "display_scale": 2})
    assert field_types.get("decimal").format(fdef, Decimal("0.125"), "en") == "0.13"
    assert field_types.get("decimal").format(fdef, Decimal("-0.001"), "en") == "0.00"


def test_format_follows_the_locale():
    """A locale with other separators (German) gets them: the text is Babel's, not hand-made."""
    fdef = FieldDef("f", "money", options={"currency": "EUR"})
    assert field_types.get("money").format(fdef, Decimal("1234.5"), "de") == "1.234,50 EUR"


@pytest.mark.parametrize("type_key", DECIMAL_TYPES)
def test_dump_is_an_exact_string(type_key):
    fdef = FieldDef("f", type_key)
    assert field_types.get(type_key).dump(fdef, Decimal("12345678901234.56")) == "12345678901234.56"
    assert field_types.get(type_key).dump(fdef, Decimal("0.10")) == "0.10"
    assert field_types.get(type_key).dump(fdef, Decimal("100.00")) == "100.00"  # never 1E+2
    assert field_types.get(type_key).dump(fdef, None) is None


# -- integer ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (" 12 ", 12),
        ("-12", -12),
        (12, 12),
        (Decimal("12"), 12),
        (Decimal("12.0"), 12),  # a JSON 12.0 arrives as Decimal and is whole
        ("1e3", 1000),
        (0, 0),
        (2**63 - 1, 2**63 - 1),
        (-(2**63 - 1), -(2**63 - 1)),
        (None, None),
    ],
)
def test_integer_accepts(value, expected):
    loaded = load("integer", value)
    assert loaded == expected
    assert loaded is None or type(loaded) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5.5, NOT_AN_INTEGER),
        (5.0, NOT_AN_INTEGER),  # floats are refused outright
        (Decimal("5.5"), NOT_AN_INTEGER),
        ("5.5", NOT_AN_INTEGER),
        ("abc", NOT_AN_INTEGER),
        ("", NOT_AN_INTEGER),
        (True, NOT_AN_INTEGER),
        ("NaN", NOT_AN_INTEGER),
        ("Infinity", NOT_AN_INTEGER),
        ([1], NOT_AN_INTEGER),
        ([1, [5], 0], NOT_AN_INTEGER),  # Decimal() would read this list as the tuple form of -5
        ({"v": 1}, NOT_AN_INTEGER),
        ("1e-3000000", NOT_AN_INTEGER),
        (2**63, OUT_OF_RANGE),
        ("-9223372036854775808", OUT_OF_RANGE),
        ("1e19", OUT_OF_RANGE),
    ],
)
def test_integer_refuses(value, message):
    assert load("integer", value) == ("error", [message])


def test_integer_refuses_a_huge_exponent_at_once():
    """``int(Decimal("1e3000000"))`` takes minutes; the input must answer before converting."""
    started = time.perf_counter()
    assert load("integer", "1e3000000") == ("error", [OUT_OF_RANGE])
    assert load("link", "1e999999999", entity="target") == ("error", [OUT_OF_RANGE])
    assert time.perf_counter() - started < 0.5


# -- ExactDecimal -----------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_table():
    """A real SQLite table with two ExactDecimal columns."""
    engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    table = sa.Table(
        "t",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("amount", ExactDecimal(18, 2)),
        sa.Column("qty", ExactDecimal(12, 4)),
    )
    metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def test_sqlite_stores_a_scaled_integer(sqlite_table):
    engine, table = sqlite_table
    with engine.begin() as conn:
        conn.execute(
            table.insert(),
            [{"amount": Decimal("0.10"), "qty": Decimal("1.2345")}, {"amount": "-7", "qty": None}],
        )
        raw = conn.exec_driver_sql("SELECT amount, typeof(amount), qty, typeof(qty) FROM t ORDER BY id").all()
    assert raw == [(10, "integer", 12345, "integer"), (-700, "integer", None, "null")]


@pytest.mark.parametrize(
    "value",
    [
        Decimal("0.10"),
        Decimal("-0.01"),
        Decimal("12345678901234.56"),
        Decimal("9999999999999999.99"),
        Decimal("-9999999999999999.99"),
        Decimal("0.00"),
    ],
)
def test_sqlite_round_trips_exactly(sqlite_table, value):
    engine, table = sqlite_table
    with engine.begin() as conn:
        conn.execute(table.insert(), {"amount": value})
        got = conn.execute(sa.select(table.c.amount)).scalar_one()
    assert type(got) is Decimal
    assert got == value and str(got) == str(value)


def test_sql_sum_of_tenths_is_exact_and_decimal(sqlite_table):
    engine, table = sqlite_table
    with engine.begin() as conn:
        conn.execute(
            table.insert(), [{"amount": Decimal("0.10")}, {"amount": Decimal("0.20")}, {"amount": None}]
        )
        total = conn.execute(sa.select(sa.func.sum(table.c.amount))).scalar_one()
        raw_total = conn.exec_driver_sql("SELECT sum(amount), typeof(sum(amount)) FROM t").one()
    assert type(total) is Decimal
    assert total == Decimal("0.30") and str(total) == "0.30"
    assert raw_total == (30, "integer")  # SQLite added integers: no float anywhere
    assert 0.1 + 0.2 != 0.3  # what a float column would have given


def test_sql_sum_of_many_cents_is_exact(sqlite_table):
    engine, table = sqlite_table
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"amount": Decimal("0.01")}] * 1000)
        total = conn.execute(sa.select(sa.func.sum(table.c.amount))).scalar_one()
    assert total == Decimal("10.00")


def test_comparisons_bind_on_the_same_scale(sqlite_table):
    engine, table = sqlite_table
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"amount": Decimal("0.10")}, {"amount": Decimal("2.50")}])
        found = (
            conn.execute(sa.select(table.c.amount).where(table.c.amount == Decimal("0.1"))).scalars().all()
        )
        bigger = conn.execute(sa.select(table.c.amount).where(table.c.amount > 1)).scalars().all()
        # a guarded atomic update: amount = amount + :delta
        conn.execute(
            table.update()
            .where(table.c.amount == Decimal("2.50"))
            .values(amount=table.c.amount + Decimal("0.05"))
        )
        after = conn.execute(sa.select(table.c.amount).order_by(table.c.id)).scalars().all()
    assert found == [Decimal("0.10")]
    assert bigger == [Decimal("2.50")]
    assert after == [Decimal("0.10"), Decimal("2.55")]


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan")])
def test_exact_decimal_refuses_floats(sqlite_table, value):
    engine, table = sqlite_table
    with pytest.raises(sa.exc.StatementError) as info, engine.begin() as conn:
        conn.execute(table.insert(), {"amount": value})
    assert isinstance(info.value.orig, TypeError)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        with pytest.raises(TypeError, match="float"):
            ExactDecimal(18, 2).process_bind_param(value, dialect)


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity"])
def test_exact_decimal_refuses_non_numbers(value):
    with pytest.raises(ValueError):
        ExactDecimal(18, 2).process_bind_param(value, sqlite.dialect())


def test_exact_decimal_bind_and_result_per_dialect():
    column = ExactDecimal(18, 2)
    assert column.process_bind_param(Decimal("1.5"), sqlite.dialect()) == 150
    assert type(column.process_bind_param(Decimal("1.5"), sqlite.dialect())) is int
    assert column.process_bind_param(3, sqlite.dialect()) == 300
    assert column.process_bind_param("0.10", sqlite.dialect()) == 10
    assert column.process_bind_param(None, sqlite.dialect()) is None
    assert column.process_result_value(150, sqlite.dialect()) == Decimal("1.50")
    assert str(column.process_result_value(150, sqlite.dialect())) == "1.50"
    assert column.process_result_value(None, sqlite.dialect()) is None
    bound = column.process_bind_param(Decimal("1.5"), postgresql.dialect())
    assert bound == Decimal("1.50") and type(bound) is Decimal
    assert str(column.process_result_value(Decimal("1.5"), postgresql.dialect())) == "1.50"
    assert column.python_type is Decimal


def test_exact_decimal_column_ddl():
    column = ExactDecimal(12, 4)
    assert column.compile(dialect=postgresql.dialect()) == "NUMERIC(12, 4)"
    assert column.compile(dialect=sqlite.dialect()) == "BIGINT"
    assert (column.precision, column.scale) == (12, 4)
