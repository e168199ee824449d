"""Column types that keep values exact on every database."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

_INEXACT = "not exact on the scaled integers of SQLite (use lowcode.core.exactsql)"


class ExactDecimal(TypeDecorator):
    """A fixed-scale decimal: NUMERIC(precision, scale) on PostgreSQL, a scaled BIGINT elsewhere.

    SQLite's NUMERIC affinity silently turns values into floats; storing ``value * 10**scale`` as an integer
    keeps them exact, and SUM() over the column stays exact too (divide by ``10**scale`` afterwards, which
    :meth:`process_result_value` does for plain column reads).
    """

    impl = sa.BigInteger
    cache_ok = True

    class Comparator(TypeDecorator.Comparator):
        """Arithmetic on the column keeps the column's type, so results are unscaled on the way out. Only what
        stays exact on the scaled integers is allowed: ``+``/``-`` with a literal or a column of the same scale,
        ``*`` by an integer. Anything else (``a * b``, ``a / 7``, mixed scales) would be wrong on SQLite and
        raises ``TypeError``; :mod:`lowcode.core.exactsql` does it exactly."""

        def _adapt_expression(self, op, other_comparator):
            other = other_comparator.type
            if op in (operators.add, operators.sub):
                if not (isinstance(other, ExactDecimal) and other.scale == self.type.scale):
                    raise TypeError(f"{_INEXACT}: adding {_name(other)} to {_name(self.type)}")
                return op, self.type
            if op is operators.mul:
                if isinstance(other, ExactDecimal) or not isinstance(other, sa.Integer | sa.Numeric):
                    raise TypeError(f"{_INEXACT}: multiplying {_name(self.type)} by {_name(other)}")
                return op, self.type
            if op in (operators.truediv, operators.floordiv, operators.mod):
                raise TypeError(f"{_INEXACT}: dividing {_name(self.type)}")
            return super()._adapt_expression(op, other_comparator)

    comparator_factory = Comparator

    def __init__(self, precision: int = 18, scale: int = 2):
        super().__init__()
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(self.precision, self.scale, asdecimal=True))
        return dialect.type_descriptor(sa.BigInteger())

    def _quantize(self, value) -> Decimal:
        if isinstance(value, float):
            raise TypeError("ExactDecimal refuses float values; pass Decimal, int or str")
        try:
            dec = value if isinstance(value, Decimal) else Decimal(str(value))
            return dec.quantize(self._quantum, rounding=ROUND_HALF_UP)
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal: {value!r}") from exc

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        dec = self._quantize(value)
        if dialect.name == "postgresql":
            return dec
        return int(dec.scaleb(self.scale))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            return Decimal(value).quantize(self._quantum, rounding=ROUND_HALF_UP)
        if not isinstance(value, int):  # a REAL: float arithmetic (AVG) or an overflow of the scaled integers
            raise TypeError(f"{_INEXACT}: the database returned {value!r} for {_name(self)}")
        return Decimal(value).scaleb(-self.scale).quantize(self._quantum)

    def coerce_compared_value(self, op, value):
        # Comparing or adding a literal: scale it like the column. Multiplying by a literal: the literal
        # is a plain factor (scaling it too would multiply the result by 10**scale on SQLite).
        if op is operators.mul:
            if isinstance(value, bool) or not isinstance(value, int | Decimal) or value != int(value):
                raise TypeError(f"{_INEXACT}: multiplying {_name(self)} by {value!r}")
            return sa.BigInteger()
        return self

    @property
    def python_type(self):
        return Decimal


def _name(kind) -> str:
    if isinstance(kind, ExactDecimal):
        return f"a decimal of scale {kind.scale}"
    return f"a {type(kind).__name__}"
