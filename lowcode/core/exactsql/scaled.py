"""Exact values as scaled rationals of integer SQL, and the operations on them (:class:`Arithmetic`)."""

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
    """The exact value ``num / (den * 10**scale)``; ``fixed`` is ``num`` when it is a known integer."""

    num: Any
    scale: int
    den: Any = None
    checks: tuple[Check, ...] = ()
    fixed: int | None = None

    def is_null(self) -> Any:
        """SQL that is true when the value is NULL."""
        return self.num.is_(None) if self.den is None else sa.or_(self.num.is_(None), self.den.is_(None))


@dataclass(frozen=True)
class Checked:
    """A SQL expression (a value to store, a truth value) with the checks its rows must pass."""

    sql: Any
    checks: tuple[Check, ...] = ()


_ORDER = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


class Arithmetic:
    """Exact operations on :class:`Scaled` values; a subclass per dialect spells the integer SQL."""

    dialect = ""

    # -- dialect hooks --------------------------------------------------------------------------------
    def constant(self, n: int) -> Any:
        """An integer constant (a power of ten or a bound literal)."""
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
        """Checks that ``value`` (and every integer it was computed from) stayed exact."""
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
        return Scaled(self.constant(n), max(-exponent, 0), fixed=n)

    def null(self) -> Scaled:
        """A NULL number."""
        return Scaled(sa.null(), 0)

    def column(self, column: Any) -> Scaled | None:
        """A column as a number, or None when it is not numeric."""
        kind = column.type
        if isinstance(kind, ExactDecimal):
            return Scaled(self.read(column, kind.scale), kind.scale)
        if isinstance(kind, sa.Integer):
            return Scaled(self.read(column, 0), 0)
        return None

    # -- operations -----------------------------------------------------------------------------------
    def negate(self, a: Scaled) -> Scaled:
        """``-a``."""
        fixed = None if a.fixed is None else -a.fixed
        return replace(a, num=self.constant(fixed) if fixed is not None else -a.num, fixed=fixed)

    def add(self, a: Scaled, b: Scaled) -> Scaled:
        """``a + b``."""
        a, b = self._aligned(a, b)
        if a.den is None and b.den is None:
            return Scaled(a.num + b.num, a.scale, None, a.checks + b.checks)
        num = self._times(a.num, b.den) + self._times(b.num, a.den)
        return Scaled(num, a.scale, self._times(a.den, b.den), a.checks + b.checks)

    def subtract(self, a: Scaled, b: Scaled) -> Scaled:
        """``a - b``."""
        return self.add(a, self.negate(b))

    def multiply(self, a: Scaled, b: Scaled) -> Scaled:
        """``a * b``."""
        return Scaled(a.num * b.num, a.scale + b.scale, self._times(a.den, b.den), a.checks + b.checks)

    def divide(self, a: Scaled, b: Scaled, where: str) -> Scaled:
        """``a / b``, exact; a row where ``b`` is zero fails a check."""
        zero = self._zero_divisor(a, b, where)
        num, den = self._times(a.num, b.den), self._times(a.den, b.num)
        if a.scale >= b.scale:
            return Scaled(num, a.scale - b.scale, den, (*a.checks, *b.checks, zero))
        return Scaled(num * self.constant(10 ** (b.scale - a.scale)), 0, den, (*a.checks, *b.checks, zero))

    def modulo(self, a: Scaled, b: Scaled, where: str) -> Scaled:
        """``a % b`` (the sign of ``a``, like ``Decimal``); not over quotients."""
        if a.den is not None or b.den is not None:
            raise ExpressionEvaluationError(f"'{where}': % of a quotient cannot run in the database")
        a, b = self._aligned(a, b)
        checks = (*a.checks, *b.checks, *self.overflow(a.num), *self.overflow(b.num))
        return Scaled(
            self.remainder(a.num, b.num),
            a.scale,
            None,
            (*checks, self._zero_divisor(a, b, where)),
        )

    def absolute(self, a: Scaled) -> Scaled:
        """``abs(a)``."""
        return replace(
            a, num=sa.func.abs(a.num), den=None if a.den is None else sa.func.abs(a.den), fixed=None
        )

    def rounded(self, a: Scaled, scale: int) -> Scaled:
        """``a`` rounded half away from zero to ``scale`` places (an integer at that scale)."""
        if a.den is None and a.scale <= scale:
            return self._scaled_up(a, scale - a.scale)
        num = a.num * self.constant(10 ** (scale - a.scale)) if scale > a.scale else a.num
        power = self.constant(10 ** (a.scale - scale)) if a.scale > scale else None
        den = self._times(a.den, power)
        rest = self.remainder(num, den)
        away = (
            sa.case((rest < 0, -1), else_=1)
            if a.den is None
            else sa.case(((rest < 0) == (den < 0), 1), else_=-1)
        )
        # |rest| >= |den| - |rest| is 2|rest| >= |den| without overflowing
        step = sa.case((sa.func.abs(rest) < sa.func.abs(den) - sa.func.abs(rest), 0), else_=away)
        value = self.quotient(num, den) + step
        return Scaled(value, scale, None, a.checks + self.overflow(value))

    def compare(self, op: str, a: Scaled, b: Scaled) -> Checked:
        """``a op b`` as a two-valued condition (NULL is equal only to NULL and orders false, as in memory)."""
        a, b = self._aligned(a, b)
        left, right = self._times(a.num, b.den), self._times(b.num, a.den)
        checks = (*a.checks, *b.checks, *self.overflow(left), *self.overflow(right))
        if op in ("=", "!="):
            nulls = a.is_null(), b.is_null()
            equal = sa.case((sa.or_(*nulls), sa.and_(*nulls)), else_=left == right)
            return Checked(equal if op == "=" else sa.not_(equal), checks)
        ordered = _ORDER[op](left, right)
        signs = [den < 0 for den in (a.den, b.den) if den is not None]
        if signs:  # cross-multiplied by a negative denominator: the order flips
            negative = signs[0] if len(signs) == 1 else signs[0] != signs[1]
            ordered = sa.case((negative, _ORDER[_MIRROR[op]](left, right)), else_=ordered)
        return Checked(sa.func.coalesce(ordered, sa.false()), checks)

    def assign(self, a: Scaled, column: Any, where: str) -> Checked:
        """``a`` rounded to the column's scale, as the column stores it; a row where it does not fit fails.

        :raises ExpressionEvaluationError: when the column is not numeric.
        """
        kind = column.type
        if isinstance(kind, ExactDecimal):
            scale, digits = kind.scale, kind.precision
            low, high, why = (
                1 - 10**digits,
                10**digits - 1,
                f"at most {digits - scale} digits before the point",
            )
        elif isinstance(kind, sa.Integer):
            scale, low, high, why = 0, -INT64_MAX - 1, INT64_MAX, "beyond the 64-bit integer range"
        else:
            raise ExpressionEvaluationError(
                f"'{where}' is a number, but '{column.name}' is not a number field"
            )
        value = self.rounded(a, scale)
        outside = sa.or_(value.num > self.constant(high), value.num < self.constant(low))
        too_large = Check(outside, f"'{where}' is too large for '{column.name}' ({why})")
        return Checked(self.stored(value.num, scale), (*value.checks, too_large))

    # -- helpers --------------------------------------------------------------------------------------
    @staticmethod
    def _zero_divisor(a: Scaled, b: Scaled, where: str) -> Check:
        # in memory a NULL dividend makes the quotient NULL before the divisor is looked at
        return Check(sa.and_(sa.not_(a.is_null()), b.num == 0), f"division by zero in '{where}'")

    def _aligned(self, a: Scaled, b: Scaled) -> tuple[Scaled, Scaled]:
        scale = max(a.scale, b.scale)
        return self._scaled_up(a, scale - a.scale), self._scaled_up(b, scale - b.scale)

    def _scaled_up(self, a: Scaled, places: int) -> Scaled:
        """The same value with ``places`` more decimal places (its numerator times ``10**places``)."""
        if not places:
            return a
        if a.fixed is None:
            return replace(a, num=a.num * self.constant(10**places), scale=a.scale + places)
        n = a.fixed * 10**places
        if abs(n) > INT64_MAX:
            raise ExpressionEvaluationError(
                f"{Decimal(a.fixed).scaleb(-a.scale)} is too large for exact arithmetic here"
            )
        return replace(a, num=self.constant(n), scale=a.scale + places, fixed=n)

    @staticmethod
    def _times(a: Any, b: Any) -> Any:
        """``a * b`` where None stands for 1."""
        if a is None or b is None:
            return b if a is None else a
        return a * b
