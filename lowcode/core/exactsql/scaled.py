"""Exact values as scaled rationals of integer SQL, and the operations on them (:class:`Arithmetic`).

A *term* is an integer: a Python ``int`` when it is known (a literal, a power of ten - folded here, so the
SQL carries no ``7 * 1000``) or an integer-valued SQL expression.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from lowcode.core.types import ExactDecimal
from lowcode.errors import ExpressionEvaluationError

INT64_MAX = 2**63 - 1
MAX_DIGITS = 18
"""Most significant digits of a number bound into SQL arithmetic (what an ExactDecimal column holds)."""


def divide_half_up(a: Decimal, b: Decimal, scale: int) -> Decimal:
    """``a / b`` rounded half away from zero to ``scale`` places from the exact quotient: the rule of
    :meth:`Arithmetic.rounded`, in memory (``Decimal`` division would round to 28 digits first)."""
    quotient = Fraction(a) / Fraction(b) * 10**scale
    whole, rest = divmod(abs(quotient.numerator), quotient.denominator)
    whole += 2 * rest >= quotient.denominator
    return Decimal(-whole if quotient < 0 else whole).scaleb(-scale)


@dataclass(frozen=True)
class Check:
    """A condition that is true on a row where the computation cannot be done, and what to say then."""

    failing: Any
    problem: str


@dataclass(frozen=True)
class Scaled:
    """The exact value ``num / (den * 10**scale)`` of two terms (no ``den`` means 1), with bounds known before
    any row is read: ``|num| <= limit``, ``|den| <= den_limit``, and every integer computed on the way
    ``<= peak`` (when that stays within 64 bits, SQLite needs no overflow check)."""

    num: Any
    scale: int
    den: Any = None
    checks: tuple[Check, ...] = ()
    limit: int = 0
    den_limit: int = 1
    peak: int = 0

    def is_null(self) -> Any:
        """SQL that is true when the value is NULL."""
        parts = [t.is_(None) for t in (self.num, self.den) if t is not None and not isinstance(t, int)]
        return sa.or_(*parts) if parts else sa.false()


@dataclass(frozen=True)
class Checked:
    """A SQL expression (a value to store, a truth value) with the checks its rows must pass."""

    sql: Any
    checks: tuple[Check, ...] = ()


ORDER = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
"""Order comparisons on any two operands, and each one with its operands swapped."""


class Arithmetic:
    """Exact operations on :class:`Scaled` values; a subclass per dialect spells the integer SQL."""

    dialect = ""

    # -- dialect hooks --------------------------------------------------------------------------------
    def constant(self, n: int) -> Any:
        """An integer constant as SQL."""
        raise NotImplementedError

    def read(self, column: Any, scale: int) -> Any:
        """A numeric column as its scaled integer."""
        raise NotImplementedError

    def quotient(self, a: Any, b: Any) -> Any:
        """Integer quotient, truncated toward zero."""
        raise NotImplementedError

    def remainder(self, a: Any, b: Any) -> Any:
        """Integer remainder with the sign of ``a`` (``a - b * quotient(a, b)``)."""
        raise NotImplementedError

    def overflow(self, value: Any) -> tuple[Check, ...]:
        """Checks that ``value`` (and every integer it was computed from) stayed exact and can be negated."""
        return ()

    def stored(self, value: Any, scale: int) -> Any:
        """The scaled integer ``value`` as the column of that scale stores it."""
        raise NotImplementedError

    # -- values ---------------------------------------------------------------------------------------
    def number(self, value: Decimal) -> Scaled:
        """A literal.

        :raises ExpressionEvaluationError: for more than :data:`MAX_DIGITS` significant digits.
        """
        if not value.is_finite():
            raise ExpressionEvaluationError(f"{value} is not a number")
        sign, digits, exponent = value.as_tuple()
        coefficient = int("".join(map(str, digits)) or "0")
        while exponent < 0 and coefficient and coefficient % 10 == 0:
            coefficient, exponent = coefficient // 10, exponent + 1
        if not coefficient:
            exponent = 0
        if len(str(coefficient)) + max(exponent, 0) > MAX_DIGITS:
            raise ExpressionEvaluationError(
                f"{value} has more than {MAX_DIGITS} digits; round it before using it in a database update"
            )
        n = (-coefficient if sign else coefficient) * 10 ** max(exponent, 0)
        return Scaled(n, max(-exponent, 0), limit=abs(n), peak=abs(n))

    def null(self) -> Scaled:
        """A NULL number."""
        return Scaled(sa.null(), 0)

    def column(self, column: Any) -> Scaled | None:
        """A column as a number, or None when it is not numeric."""
        kind = column.type
        if isinstance(kind, ExactDecimal):
            largest = 10**kind.precision - 1
            return Scaled(self.read(column, kind.scale), kind.scale, limit=largest, peak=largest)
        if isinstance(kind, sa.Integer):
            return Scaled(self.read(column, 0), 0, limit=INT64_MAX, peak=INT64_MAX)
        return None

    # -- operations -----------------------------------------------------------------------------------
    def negate(self, a: Scaled) -> Scaled:
        """``-a``."""
        return replace(a, num=-a.num)

    def add(self, a: Scaled, b: Scaled) -> Scaled:
        """``a + b``."""
        return self._sum(a, b, 1)

    def subtract(self, a: Scaled, b: Scaled) -> Scaled:
        """``a - b``."""
        return self._sum(a, b, -1)

    def multiply(self, a: Scaled, b: Scaled) -> Scaled:
        """``a * b``."""
        num, den = self._mul(a.num, b.num), self._mul(a.den, b.den)
        limit, den_limit = a.limit * b.limit, a.den_limit * b.den_limit
        return _scaled(num, a.scale + b.scale, den, a.checks + b.checks, limit, den_limit, a, b)

    def divide(self, a: Scaled, b: Scaled, where: str) -> Scaled:
        """``a / b``, exact; a row where ``b`` is zero fails a check."""
        checks = (*a.checks, *b.checks, *self._zero_divisor(a, b, where))
        num, den = self._mul(a.num, b.den), self._mul(a.den, b.num)
        up = 10 ** max(b.scale - a.scale, 0)
        limit, den_limit = a.limit * b.den_limit * up, a.den_limit * b.limit
        return _scaled(self._mul(num, up), max(a.scale - b.scale, 0), den, checks, limit, den_limit, a, b)

    def modulo(self, a: Scaled, b: Scaled, where: str) -> Scaled:
        """``a % b`` (the sign of ``a``, like ``Decimal``); not over quotients."""
        if a.den is not None or b.den is not None:
            raise ExpressionEvaluationError(f"'{where}': % of a quotient cannot run in the database")
        a, b = self._aligned(a, b)
        exact = self._exact(a.num, a, b) + self._exact(b.num, a, b)
        checks = (*a.checks, *b.checks, *exact, *self._zero_divisor(a, b, where))
        value = self.remainder(self.sql(a.num), self.sql(b.num))
        return _scaled(value, a.scale, None, checks, min(a.limit, b.limit), 1, a, b)

    def absolute(self, a: Scaled) -> Scaled:
        """``abs(a)``."""
        checks = (*a.checks, *self._exact(a.num, a), *self._exact(a.den, a))
        den = None if a.den is None else self._abs(a.den)
        return _scaled(self._abs(a.num), a.scale, den, checks, a.limit, a.den_limit, a)

    def rounded(self, a: Scaled, scale: int) -> Scaled:
        """``a`` rounded half away from zero to ``scale`` places (an integer at that scale)."""
        if a.den is None and a.scale <= scale:
            return self._scaled_up(a, scale - a.scale)
        up, down = 10 ** max(scale - a.scale, 0), 10 ** max(a.scale - scale, 0)
        num, den = self._mul(a.num, up), self._mul(a.den, down)
        rest = self.remainder(self.sql(num), self.sql(den))
        if isinstance(den, int):
            sign = 1 if den > 0 else -1
            away = sa.case((rest < 0, -sign), else_=sign)
        else:
            away = sa.case(((rest < 0) == (den < 0), 1), else_=-1)
        # |rest| < |den| - |rest| is 2|rest| < |den| without overflowing
        step = sa.case((sa.func.abs(rest) < self.sql(self._abs(den)) - sa.func.abs(rest), 0), else_=away)
        value = self.quotient(self.sql(num), self.sql(den)) + step
        limit = a.limit * up // (abs(den) if isinstance(den, int) and den else 1) + 1
        result = _scaled(
            value, scale, None, a.checks, limit, 1, a, _bound(a.limit * up), _bound(a.den_limit * down)
        )
        return replace(result, checks=(*a.checks, *self._exact(den, result), *self._exact(value, result)))

    def compare(self, op: str, a: Scaled, b: Scaled) -> Checked:
        """``a op b`` as a two-valued condition (NULL is equal only to NULL and orders false, as in memory)."""
        a, b = self._aligned(a, b)
        left, right = self._mul(a.num, b.den), self._mul(b.num, a.den)
        sides = _bound(a.limit * b.den_limit), _bound(b.limit * a.den_limit)
        checks = (*a.checks, *b.checks, *self._exact(left, a, b, *sides), *self._exact(right, a, b, *sides))
        left, right = self.sql(left), self.sql(right)
        if op in ("=", "!="):
            nulls = a.is_null(), b.is_null()
            equal = sa.case((sa.or_(*nulls), sa.and_(*nulls)), else_=left == right)
            return Checked(equal if op == "=" else sa.not_(equal), checks)
        # both sides were multiplied by the other's denominator: a negative one flips the order
        flipped = sum(1 for den in (a.den, b.den) if isinstance(den, int) and den < 0) % 2 == 1
        unknown = [den < 0 for den in (a.den, b.den) if den is not None and not isinstance(den, int)]
        negative = unknown[0] if len(unknown) == 1 else unknown[0] != unknown[1] if unknown else None
        kept, mirrored = ORDER[op](left, right), ORDER[MIRROR[op]](left, right)
        if flipped:
            kept, mirrored = mirrored, kept
        ordered = kept if negative is None else sa.case((negative, mirrored), else_=kept)
        return Checked(sa.func.coalesce(ordered, sa.false()), checks)

    def assign(self, a: Scaled, column: Any, where: str) -> Checked:
        """``a`` rounded to the column's scale, as the column stores it; a row where it does not fit fails.

        :raises ExpressionEvaluationError: when the column is not numeric.
        """
        kind = column.type
        if isinstance(kind, ExactDecimal):
            scale, high = kind.scale, 10**kind.precision - 1
            low, why = -high, f"at most {kind.precision - kind.scale} digits before the point"
        elif isinstance(kind, sa.Integer):
            scale, low, high, why = 0, -INT64_MAX - 1, INT64_MAX, "beyond the 64-bit integer range"
        else:
            raise ExpressionEvaluationError(
                f"'{where}' is a number, but '{column.name}' is not a number field"
            )
        value = self.rounded(a, scale)
        too_large = f"'{where}' is too large for '{column.name}' ({why})"
        if isinstance(value.num, int):
            if not low <= value.num <= high:
                raise ExpressionEvaluationError(too_large)
            return Checked(self.stored(self.sql(value.num), scale), value.checks)
        if value.limit <= high:  # cannot be out of range
            return Checked(self.stored(value.num, scale), value.checks)
        outside = sa.or_(value.num > self.constant(high), value.num < self.constant(low))
        return Checked(self.stored(value.num, scale), (*value.checks, Check(outside, too_large)))

    # -- terms ----------------------------------------------------------------------------------------
    def sql(self, term: Any) -> Any:
        """A term as SQL."""
        return self.constant(term) if isinstance(term, int) else term

    def _mul(self, x: Any, y: Any) -> Any:
        """``x * y`` where None stands for 1."""
        if y is None or (isinstance(y, int) and y == 1):
            return x
        if x is None or (isinstance(x, int) and x == 1):
            return y
        if isinstance(x, int) and isinstance(y, int):
            return _fitting(x * y)
        return self.sql(x) * self.sql(y)

    def _abs(self, term: Any) -> Any:
        return abs(term) if isinstance(term, int) else sa.func.abs(term)

    def _exact(self, term: Any, *sources: Scaled) -> tuple[Check, ...]:
        """Overflow checks of ``term`` - unless it is known, or nothing it came from can exceed 64 bits."""
        if term is None or isinstance(term, int) or max(s.peak for s in sources) <= INT64_MAX:
            return ()
        return self.overflow(term)

    def _sum(self, a: Scaled, b: Scaled, sign: int) -> Scaled:
        a, b = self._aligned(a, b)
        left, right = self._mul(a.num, b.den), self._mul(b.num, a.den)
        if isinstance(left, int) and isinstance(right, int):
            num = _fitting(left + sign * right)
        else:
            num = self.sql(left) + self.sql(right) if sign > 0 else self.sql(left) - self.sql(right)
        sides = _bound(a.limit * b.den_limit), _bound(b.limit * a.den_limit)
        limit, den_limit = sides[0].limit + sides[1].limit, a.den_limit * b.den_limit
        return _scaled(
            num, a.scale, self._mul(a.den, b.den), a.checks + b.checks, limit, den_limit, a, b, *sides
        )

    @staticmethod
    def _zero_divisor(a: Scaled, b: Scaled, where: str) -> tuple[Check, ...]:
        # in memory a NULL dividend makes the quotient NULL before the divisor is looked at
        if isinstance(b.num, int) and b.num:
            return ()
        zero = sa.true() if isinstance(b.num, int) else b.num == 0
        return (Check(sa.and_(sa.not_(a.is_null()), zero), f"division by zero in '{where}'"),)

    def _aligned(self, a: Scaled, b: Scaled) -> tuple[Scaled, Scaled]:
        scale = max(a.scale, b.scale)
        return self._scaled_up(a, scale - a.scale), self._scaled_up(b, scale - b.scale)

    def _scaled_up(self, a: Scaled, places: int) -> Scaled:
        """The same value with ``places`` more decimal places (its numerator times ``10**places``)."""
        if not places:
            return a
        limit = a.limit * 10**places
        return replace(
            a, num=self._mul(a.num, 10**places), scale=a.scale + places, limit=limit, peak=max(a.peak, limit)
        )


def _bound(limit: int) -> Scaled:
    """A stand-in carrying only a bound (of an intermediate product) into a peak."""
    return Scaled(None, 0, limit=limit, peak=limit)


def _scaled(num, scale, den, checks, limit: int, den_limit: int, *sources: Scaled) -> Scaled:
    """A result with its bounds; its peak covers everything it was computed from."""
    peak = max(limit, den_limit, *(s.peak for s in sources))
    return Scaled(num, scale, den, checks, limit, den_limit, peak)


def _fitting(n: int) -> int:
    """A folded constant, refused beyond 64 bits (where SQLite's integers end)."""
    if abs(n) > INT64_MAX:
        raise ExpressionEvaluationError(f"the constant {n} is too large for exact arithmetic in the database")
    return n
