"""Exact decimal arithmetic in SQL, with one rounding rule, on SQLite and PostgreSQL.

A number is carried as a *scaled rational* ``num / (den * 10**scale)`` of integer-valued SQL expressions
(:class:`Scaled`; no ``den`` means 1). ``+ - * /`` are exact on that form; the only rounding is
:meth:`Arithmetic.rounded` - half away from zero, like ``Decimal`` with ``ROUND_HALF_UP`` - done where a value
is stored (at the target column's scale) or where ``round(x, n)`` asks for it. Integers are SQLite's 64-bit
INTEGER (an :class:`~lowcode.core.types.ExactDecimal` column *is* its scaled integer there) and PostgreSQL's
NUMERIC (a decimal column times ``10**scale``), so the same integer algorithm runs on both.

What can fail on a row is returned as :class:`Check` conditions (true on a failing row) for the caller to
test before writing: a zero divisor, a result too large for its field and, on SQLite only, an intermediate
integer beyond 64 bits (SQLite turns such a result into a REAL instead of raising; the check looks for that).
"""

from lowcode.core.exactsql.dialects import PostgresArithmetic, SqliteArithmetic, arithmetics, average
from lowcode.core.exactsql.scaled import (
    INT64_MAX,
    MAX_DIGITS,
    Arithmetic,
    Check,
    Checked,
    Scaled,
    divide_half_up,
)

__all__ = [
    "INT64_MAX",
    "MAX_DIGITS",
    "Arithmetic",
    "Check",
    "Checked",
    "PostgresArithmetic",
    "Scaled",
    "SqliteArithmetic",
    "arithmetics",
    "average",
    "divide_half_up",
]
