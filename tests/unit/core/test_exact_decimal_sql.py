"""ExactDecimal in SQL expressions: comparisons, guarded increments and factors stay exact on SQLite."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lowcode.core.exactsql import average
from lowcode.core.types import ExactDecimal


@pytest.fixture
def table():
    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    t = sa.Table(
        "t", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", ExactDecimal(18, 2))
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"a": Decimal("10.25")}, {"a": Decimal("0.10")}])
    return engine, t


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (lambda a: a * 2, [Decimal("20.50"), Decimal("0.20")]),
        (lambda a: a + Decimal("1.10"), [Decimal("11.35"), Decimal("1.20")]),
        (lambda a: a - Decimal("0.10"), [Decimal("10.15"), Decimal("0.00")]),
    ],
)
def test_arithmetic_results_are_unscaled(table, expression, expected):
    engine, t = table
    with engine.connect() as conn:
        assert conn.execute(sa.select(expression(t.c.a)).order_by(t.c.id)).scalars().all() == expected


def test_guarded_atomic_increment(table):
    engine, t = table
    with engine.begin() as conn:
        guarded = (
            t.update()
            .where(t.c.id == 2, t.c.a + Decimal("0.05") <= Decimal("0.15"))
            .values(a=t.c.a + Decimal("0.05"))
        )
        assert conn.execute(guarded).rowcount == 1
        assert conn.execute(guarded).rowcount == 0  # 0.20 would exceed the guard
        assert conn.execute(sa.select(t.c.a).where(t.c.id == 2)).scalar_one() == Decimal("0.15")
        assert conn.execute(sa.select(sa.func.sum(t.c.a))).scalar_one() == Decimal("10.40")


@pytest.mark.parametrize(
    "expression",
    [
        lambda t: t.c.a * t.c.b,  # 2.00 * 3.00 read back as 600.00 on SQLite
        lambda t: t.c.a / 7,  # integer division: 3.00 / 7 was 0.42
        lambda t: t.c.a / t.c.b,
        lambda t: t.c.a + t.c.c,  # scale 2 + scale 3
        lambda t: t.c.a * Decimal("1.5"),  # a REAL on SQLite, truncated on the way out
    ],
)
def test_inexact_arithmetic_on_the_type_is_refused_when_built(expression):
    meta = sa.MetaData()
    t = sa.Table("t", meta, *(sa.Column(n, ExactDecimal(18, s)) for n, s in (("a", 2), ("b", 2), ("c", 3))))
    with pytest.raises(TypeError, match="lowcode.core.exactsql"):
        expression(t)


def test_a_float_from_sqlite_is_refused_not_truncated(table):
    """AVG over the scaled integers is a REAL (here 5.175 * 100); reading it as the column would have given
    517.00. Exact averages come from :func:`lowcode.core.exactsql.average`."""
    engine, t = table
    with engine.connect() as conn:
        with pytest.raises(TypeError, match="returned 517.5"):
            conn.execute(sa.select(sa.type_coerce(sa.func.avg(t.c.a), ExactDecimal(18, 2)))).scalar_one()
        assert conn.execute(sa.select(average(t.c.a, "sqlite"))).scalar_one() == Decimal(
            "5.18"
        )  # 5.175 half-up


def test_bound_values_round_half_up_to_the_scale(table):
    engine, t = table
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"id": 3, "a": Decimal("0.125")}, {"id": 4, "a": Decimal("-0.125")}])
        values = conn.execute(sa.select(t.c.a).where(t.c.id > 2).order_by(t.c.id)).scalars().all()
    assert values == [Decimal("0.13"), Decimal("-0.13")]
