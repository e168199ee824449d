"""The dialects: how SQLite and PostgreSQL spell the integer operations, and exact AVG."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import Grouping

from lowcode.core.exactsql.scaled import INT64_MAX, MAX_DIGITS, Arithmetic, Check, Scaled
from lowcode.core.types import ExactDecimal
from lowcode.errors import ExpressionEvaluationError
from lowcode.registry import Registry


class SqliteArithmetic(Arithmetic):
    """SQLite: 64-bit INTEGER arithmetic; an ExactDecimal column is already its scaled integer."""

    dialect = "sqlite"

    def constant(self, n):
        return sa.literal(n, sa.BigInteger())

    def read(self, column, scale):
        return sa.type_coerce(column, sa.BigInteger())

    def quotient(self, a, b):
        return _integer_op("/", a, b)  # SQLAlchemy's own "/" would divide as REAL

    def remainder(self, a, b):
        return _integer_op("%", a, b)

    def overflow(self, value):
        # SQLite answers an integer overflow of + - * / with a REAL, and every later operation stays REAL;
        # abs() of the smallest integer raises instead, so that value counts as an overflow too
        too_large = sa.or_(sa.func.typeof(value) == "real", value == self.constant(-INT64_MAX - 1))
        return (Check(too_large, "the numbers are too large for exact arithmetic on SQLite (64-bit)"),)

    def stored(self, value, scale):
        return value


class PostgresArithmetic(Arithmetic):
    """PostgreSQL: NUMERIC integers (no overflow short of the result's own column)."""

    dialect = "postgresql"

    def constant(self, n):
        return sa.cast(sa.literal(n, sa.BigInteger()), sa.Numeric())

    def read(self, column, scale):
        value = sa.cast(column, sa.Numeric())
        return value * self.constant(10**scale) if scale else value

    def quotient(self, a, b):
        return sa.func.div(a, b, type_=sa.Numeric())

    def remainder(self, a, b):
        return sa.func.mod(a, b, type_=sa.Numeric())

    def stored(self, value, scale):
        return value * sa.literal_column(f"1e-{scale}", sa.Numeric()) if scale else value


def average(column: Any, dialect: str, scale: int | None = None) -> Any:
    """``AVG(column)`` of a numeric column, exact and rounded half-up to ``scale`` places (default: the
    column's), typed so it reads back as a ``Decimal``. Plain ``func.avg`` is neither: on SQLite it is a
    float of the scaled integers (100 times too large for a scale-2 column), on PostgreSQL a long NUMERIC.
    """
    arithmetic = arithmetics.get(dialect)
    value = arithmetic.column(column)
    if value is None:
        raise ExpressionEvaluationError(f"'{column.name}' is not a number column")
    places = value.scale if scale is None else scale
    count = sa.func.nullif(sa.func.count(column), 0)
    mean = arithmetic.rounded(Scaled(sa.func.sum(value.num), value.scale, count), places)
    return sa.type_coerce(arithmetic.stored(mean.num, places), ExactDecimal(MAX_DIGITS, places))


def _integer_op(op: str, a: Any, b: Any) -> Any:
    """``(a op b)`` with both operands and the result parenthesized (custom operators bind loosest)."""
    return Grouping(a.op(op, precedence=100, return_type=sa.BigInteger())(b))


arithmetics: Registry[Arithmetic] = Registry("SQL arithmetic")
for _arithmetic in (SqliteArithmetic(), PostgresArithmetic()):
    arithmetics.register(_arithmetic.dialect, _arithmetic)
