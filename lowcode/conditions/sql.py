"""Compile a condition tree to a SQLAlchemy 2.x Core boolean expression.

Every leaf is two-valued (a NULL column makes it FALSE, see :mod:`lowcode.conditions.operators`), so
``not`` compiles to plain ``NOT`` and agrees with the in-memory evaluation. The expression carries no
dialect decision: text ordering uses a compiler construct that adds ``COLLATE "C"`` on PostgreSQL only.

Decimal columns of type :class:`~lowcode.core.types.ExactDecimal` round every bound value to the column's
scale, which would change the meaning of ``amount > 1.005``. Values are therefore first fitted to the
column's grid without changing the result for any storable amount: bounds of ``<``/``>=`` are rounded up,
of ``>``/``<=`` down, out-of-range bounds are clamped to the type's limit, and ``=``/``in`` values that
no column value can equal are dropped. Integers (and decimals of other column types) are bound as
BIGINT (NUMERIC), never cast to a narrower column type.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from lowcode.conditions.model import Group, Leaf, Not, resolve
from lowcode.conditions.operators import OPERATORS
from lowcode.core.types import ExactDecimal


def compile_sql(node: Leaf | Group | Not, columns: Mapping[str, ColumnElement], variables: Mapping) -> Any:
    """The boolean SQL expression for ``node`` over ``columns`` (field name -> column element)."""
    if isinstance(node, Not):
        return sa.not_(compile_sql(node.item, columns, variables))
    if isinstance(node, Group):
        parts = [compile_sql(item, columns, variables) for item in node.items]
        if node.mode == "all":
            return sa.and_(sa.true(), *parts)
        return sa.or_(sa.false(), *parts)
    return _leaf(node, columns, variables)


def _leaf(leaf: Leaf, columns: Mapping[str, ColumnElement], variables: Mapping):
    try:
        column = columns[leaf.field]
    except KeyError:
        raise KeyError(f"no column given for condition field {leaf.field!r}") from None
    op = OPERATORS.get(leaf.op)
    value = resolve(leaf, op.arity, variables)
    if op.arity == "none":
        return op.to_sql(column, None, kind=leaf.kind)
    if value is None or (op.arity == "pair" and None in value):
        return sa.false()
    if leaf.kind == "decimal" and isinstance(column.type, ExactDecimal):
        value = _fit(op.name, value, column.type)
        if isinstance(value, _Fixed):
            return column.is_not(None) if value.result else sa.false()
    elif leaf.kind in _WIDE:
        value = _widened(value, _WIDE[leaf.kind])
    return op.to_sql(column, value, kind=leaf.kind)


_WIDE = {"integer": sa.BigInteger, "decimal": sa.Numeric}
"""Bind types for integer/decimal values: PostgreSQL would otherwise cast a bound value to the column's own
type (``::INTEGER``, ``::NUMERIC(p, s)``), overflowing or rounding it."""


def _widened(value: Any, type_: type) -> Any:
    if isinstance(value, list | tuple):
        return type(value)(sa.literal(v, type_()) for v in value)
    return sa.literal(value, type_())


class _Fixed:
    """The comparison has the same result for every non-NULL value of the column."""

    def __init__(self, result: bool):
        self.result = result


def _fit(op: str, value: Any, coltype: ExactDecimal) -> Any:
    """``value`` moved onto the column's grid (or a :class:`_Fixed` result); see the module docstring."""
    quantum = Decimal(1).scaleb(-coltype.scale)
    limit = Decimal(10) ** (coltype.precision - coltype.scale)

    def rounded(v: Decimal, rounding: str) -> Decimal:
        return min(max(v, -limit), limit).quantize(quantum, rounding=rounding)

    def storable(v: Decimal) -> bool:
        return -limit < v < limit and v == v.quantize(quantum, rounding=ROUND_FLOOR)

    if op in ("=", "!="):
        return value if storable(value) else _Fixed(op == "!=")
    if op in ("in", "not_in"):
        return [v for v in value if storable(v)]
    if op in ("<", ">="):
        return rounded(value, ROUND_CEILING)
    if op in (">", "<="):
        return rounded(value, ROUND_FLOOR)
    if op == "between":
        return (rounded(value[0], ROUND_CEILING), rounded(value[1], ROUND_FLOOR))
    return value
