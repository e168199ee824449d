"""ExactDecimal in SQL expressions: comparisons, guarded increments and factors stay exact on SQLite."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

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
