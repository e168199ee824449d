"""Expressions of the safe expression language compiled to SQL for guarded atomic updates.

``reserved + line.qty`` over the ``stock_balance`` table becomes ``stock_balance.reserved + :p`` where the
bare name ``reserved`` is the target row's column and ``line.qty`` is a value from the rule's context,
evaluated in memory and bound as a parameter. The database then does the arithmetic on the current row, so
concurrent writers never lose an update (no read-modify-write in Python).

Numbers are exact on every database (:mod:`lowcode.core.exactsql`): ``+ - * /`` never round, and a value is
rounded once, half away from zero, to the scale of the field it is stored in (or where ``round(x, n)`` says).
What can fail on a row (a zero divisor, a result too large for its field, 64-bit overflow on SQLite) is
collected as checks: :attr:`UpdatePlan.where` leaves a failing row alone, :meth:`UpdatePlan.verify` says why.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from lowcode.core.exactsql import Check, arithmetics
from lowcode.errors import ExpressionEvaluationError, ExpressionSyntaxError
from lowcode.expressions import compile_expression
from lowcode.expressions.evaluator import _Evaluation
from lowcode.expressions.parser import Literal, Node
from lowcode.rules.sql_compiler import SqlCompiler, children, only_where


@dataclass(frozen=True)
class UpdatePlan:
    """The compiled ``set`` values and ``guard`` of a guarded update, and the checks its rows must pass."""

    values: dict[str, Any]
    guard: Any
    checks: tuple[Check, ...]

    @property
    def where(self) -> Any:
        """The UPDATE's condition: no check fails and the guard holds. One CASE tests the checks in order
        before the guard, so nothing is divided by a zero that a check has found (PostgreSQL would raise).
        None when there is nothing to test."""
        if not self.checks:
            return self.guard
        otherwise = sa.true() if self.guard is None else self.guard
        return sa.case(*[(check.failing, sa.false()) for check in self.checks], else_=otherwise)

    def verify(self, session, id_column, ids: Sequence[int], what: str) -> None:
        """Look for a failing check on rows that :attr:`where` left alone (else the guard refused them).

        :raises ExpressionEvaluationError: naming the first problem and the row (``what`` and its id).
        """
        if not self.checks or not ids:
            return
        first = sa.case(*[(check.failing, i) for i, check in enumerate(self.checks, 1)], else_=0)
        query = sa.select(id_column, first).where(id_column.in_(list(ids))).order_by(id_column)
        for row_id, failed in session.execute(query).all():
            if failed:
                raise ExpressionEvaluationError(f"{self.checks[failed - 1].problem} ({what} {row_id})")


def column_names(text: str, columns: Mapping[str, Any]) -> set[str]:
    """Target columns an expression reads (bare names that are columns of the target)."""
    return {n for n in compile_expression(text).names if n in columns}


def update_plan(
    dialect: str,
    columns: Mapping[str, sa.ColumnElement],
    set_exprs: Mapping[str, str],
    guard: str | None,
    context: Mapping[str, Any],
) -> UpdatePlan:
    """Compile the ``set`` expressions and the ``guard``: bare names found in ``columns`` are the target
    row's columns, everything else comes from ``context``. Checks of the ``set`` values apply to the rows
    the guard lets through.

    :raises ExpressionSyntaxError: for constructs that cannot run in SQL (most functions over columns).
    :raises ExpressionEvaluationError: for a value that cannot be computed exactly or stored in its field.
    """
    return _build(dialect, columns, set_exprs, guard, context, {})


def _build(dialect, columns, set_exprs, guard, context, folded: dict[int, Any]) -> UpdatePlan:
    arithmetic = arithmetics.get(dialect)
    condition = SqlCompiler(arithmetic, columns, context, guard, folded).condition() if guard else None
    checks = list(condition.checks) if condition else []
    values: dict[str, Any] = {}
    for name, text in set_exprs.items():
        if name not in columns:
            raise ExpressionSyntaxError(f"'{name}' is not a field of the updated entity")
        value = SqlCompiler(arithmetic, columns, context, text, folded).assignment(columns[name])
        values[name] = value.sql
        checks += [only_where(condition.sql, check) if condition else check for check in value.checks]
    return UpdatePlan(values, condition.sql if condition else None, tuple(checks))


_LOCK = threading.Lock()
_PLANS: OrderedDict[tuple, UpdatePlan] = OrderedDict()
_SHAPES: OrderedDict[tuple, tuple] = OrderedDict()
_KEYABLE = frozenset({Decimal, int, str, bool, type(None), dt.date, dt.datetime})
PLAN_CACHE_SIZE = 1024
"""Compiled plans kept (least recently used dropped); a table of an older snapshot ages out with its plans."""


def table_update_plan(
    dialect: str, table: sa.Table, set_exprs: Mapping[str, str], guard: str | None, context: Mapping[str, Any]
) -> UpdatePlan:
    """:func:`update_plan` over ``table``'s columns, compiled once per shape and folded values.

    A plan depends on the texts, the table and the values of the sub-expressions that read no column (they
    are evaluated in memory and folded into the SQL as constants, with the bounds and checks that follow
    from them). Those values are evaluated first and, with the texts and the table, key a cache of plans,
    so a rule updating rows with the same quantities again gets the same plan (and the same SQL
    statements, whose compiled forms SQLAlchemy caches) without compiling anything. A value that is not
    hashable, or an evaluation that fails, compiles as before (and raises as before)."""
    shape = (dialect, table, tuple(set_exprs.items()), guard)
    parts = _SHAPES.get(shape)
    if parts is None:
        parts = _folded_parts(table.c, set_exprs, guard)
        _remember(_SHAPES, shape, parts)
    folded: dict[int, Any] = {}
    try:
        for node, functions in parts:
            folded[id(node)] = _Evaluation(context, functions).eval(node)
        if not all(type(v) in _KEYABLE for v in folded.values()):
            raise TypeError("a folded value of a type whose repr may not tell values apart")
        key = (shape, tuple((type(v), repr(v)) for v in folded.values()))
    except Exception:  # noqa: BLE001 - compiled below, which raises the error as an uncached plan would
        return update_plan(dialect, {c.name: c for c in table.columns}, set_exprs, guard, context)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _build(dialect, {c.name: c for c in table.columns}, set_exprs, guard, context, folded)
        _remember(_PLANS, key, plan)
    else:
        with _LOCK:
            if key in _PLANS:
                _PLANS.move_to_end(key)
    return plan


def _remember(cache: OrderedDict, key: tuple, value: Any) -> None:
    with _LOCK:  # threads of one process share the caches
        cache[key] = value
        while len(cache) > PLAN_CACHE_SIZE:
            cache.popitem(last=False)


def _folded_parts(columns, set_exprs: Mapping[str, str], guard: str | None) -> tuple:
    """The largest sub-expressions of ``guard`` and the ``set`` texts that read no column (literals aside,
    which are the same every time), in the order the compiler reaches them, with their function registry."""
    parts: list[tuple[Node, Any]] = []
    for text in ([guard] if guard else []) + list(set_exprs.values()):
        expression = compile_expression(text)
        reads = SqlCompiler(None, columns, {}, text, {}).uses_columns
        _walk(expression.tree, reads, expression._functions, parts)
    return tuple(parts)


def _walk(node: Node, reads, functions, parts: list) -> None:
    if isinstance(node, Literal):
        return
    if not reads(node):
        parts.append((node, functions))
        return
    for child in children(node):
        _walk(child, reads, functions, parts)
