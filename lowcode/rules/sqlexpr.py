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

from lowcode.core.exactsql import Check, Checked, Scaled, arithmetics
from lowcode.core.exactsql.scaled import MIRROR, ORDER
from lowcode.errors import ExpressionEvaluationError, ExpressionSyntaxError
from lowcode.expressions import compile_expression
from lowcode.expressions.evaluator import _Evaluation
from lowcode.expressions.parser import (
    Arithmetic,
    Attribute,
    Call,
    Comparison,
    Literal,
    Logical,
    Name,
    Node,
    Unary,
)

_ROUND_PLACES = range(0, 19)


@dataclass(frozen=True)
class Plain:
    """A value that is not a number: a SQL element (a text column, a condition) or a Python value to bind."""

    sql: Any
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Truth(Plain):
    """A two-valued condition (never NULL): a comparison, and/or/not."""


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


def _all(truths: list) -> Any:
    """``t1 and t2 ...`` evaluated left to right, as in memory (PostgreSQL may reorder a plain AND and
    divide by a zero that an earlier operand rules out)."""
    if not truths:
        return sa.true()
    if len(truths) == 1:
        return truths[0]
    return sa.case((truths[0], _all(truths[1:])), else_=sa.false())


def _only_where(condition: Any, check: Check) -> Check:
    """``check`` on the rows where ``condition`` holds (evaluated first)."""
    return Check(sa.case((condition, check.failing), else_=sa.false()), check.problem)


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
    condition = _Compiler(arithmetic, columns, context, guard, folded).condition() if guard else None
    checks = list(condition.checks) if condition else []
    values: dict[str, Any] = {}
    for name, text in set_exprs.items():
        if name not in columns:
            raise ExpressionSyntaxError(f"'{name}' is not a field of the updated entity")
        value = _Compiler(arithmetic, columns, context, text, folded).assignment(columns[name])
        values[name] = value.sql
        checks += [_only_where(condition.sql, check) if condition else check for check in value.checks]
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
        reads = _Compiler(None, columns, {}, text, {}).uses_columns
        _walk(expression.tree, reads, expression._functions, parts)
    return tuple(parts)


def _walk(node: Node, reads, functions, parts: list) -> None:
    if isinstance(node, Literal):
        return
    if not reads(node):
        parts.append((node, functions))
        return
    for child in _children(node):
        _walk(child, reads, functions, parts)


def _children(node: Node) -> tuple:
    match node:
        case Attribute(target=target):
            return (target,)
        case Unary(operand=operand):
            return (operand,)
        case Arithmetic(operands=ops) | Logical(operands=ops):
            return tuple(ops)
        case Comparison(left=left, right=right):
            return (left, right)
        case Call(args=args):
            return tuple(args)
    return ()


class _Compiler:
    def __init__(self, arithmetic, columns, context, text: str, folded: dict[int, Any]):
        self.arithmetic = arithmetic
        self.columns = columns
        self.context = context
        self.folded = folded
        """Values of column-free sub-expressions already evaluated (by node id), see table_update_plan."""
        self.expression = compile_expression(text)
        self.source = self.expression.source

    # -- entry points ---------------------------------------------------------------------------------
    def assignment(self, column) -> Checked:
        value = self.node(self.expression.tree)
        if isinstance(value, Scaled):
            return self.arithmetic.assign(value, column, self.source)
        if value.sql is None:
            return Checked(sa.null(), value.checks)
        if self.arithmetic.column(column) is not None:
            raise ExpressionEvaluationError(f"'{self.source}' is not a number, but '{column.name}' is")
        return Checked(value.sql, value.checks)

    def condition(self) -> Checked:
        value = self.node(self.expression.tree)
        return Checked(self.truth(value), value.checks)

    # -- nodes ----------------------------------------------------------------------------------------
    def uses_columns(self, node) -> bool:
        match node:
            case Name(name=name):
                return name in self.columns
            case Attribute(target=target):
                return self.uses_columns(target)
            case Unary(operand=operand):
                return self.uses_columns(operand)
            case Arithmetic(operands=ops) | Logical(operands=ops):
                return any(self.uses_columns(o) for o in ops)
            case Comparison(left=left, right=right):
                return self.uses_columns(left) or self.uses_columns(right)
            case Call(args=args):
                return any(self.uses_columns(a) for a in args)
        return False

    def value(self, node) -> Any:
        """Evaluate a column-free sub-expression in memory (with the rule's context)."""
        if id(node) in self.folded:
            return self.folded[id(node)]
        return _Evaluation(self.context, self.expression._functions).eval(node)

    def node(self, node: Node) -> Scaled | Plain:
        if not self.uses_columns(node):
            value = self.value(node)
            if isinstance(value, Decimal):
                return self.arithmetic.number(value)
            return Plain(value)
        match node:
            case Name(name=name):
                return self.arithmetic.column(self.columns[name]) or Plain(self.columns[name])
            case Unary(op="-", operand=operand):
                return self.arithmetic.negate(self.number(self.node(operand)))
            case Unary(operand=operand):
                inner = self.node(operand)
                return Truth(sa.not_(self.truth(inner)), inner.checks)
            case Arithmetic(operands=operands, operators=operators):
                result = self.node(operands[0])
                for op, operand in zip(operators, operands[1:], strict=True):
                    result = self.arithmetic_step(op, result, self.node(operand))
                return result
            case Comparison(op=op, left=left, right=right):
                return self.comparison(op, self.node(left), self.node(right))
            case Logical(op=op, operands=operands):
                return self.logical(op, [self.node(o) for o in operands])
            case Call(name="round" | "abs"):
                return self.call(node)
        raise ExpressionSyntaxError(
            f"'{self.source}': only arithmetic, comparisons, and/or, round() and abs() can use the target's "
            "fields in an atomic update"
        )

    def number(self, value: Scaled | Plain) -> Scaled:
        if isinstance(value, Scaled):
            return value
        if value.sql is None:
            return self.arithmetic.null()
        raise ExpressionEvaluationError(f"'{self.source}': arithmetic in the database needs numbers")

    def arithmetic_step(self, op: str, left: Scaled | Plain, right: Scaled | Plain) -> Scaled | Plain:
        texts = isinstance(left, Plain) and isinstance(right, Plain) and left.sql is not None
        if op == "+" and texts and right.sql is not None:
            return Plain(left.sql + right.sql, left.checks + right.checks)  # text: SQLAlchemy concatenates
        a, b, math = self.number(left), self.number(right), self.arithmetic
        if op in ("/", "%"):
            return (math.divide if op == "/" else math.modulo)(a, b, self.source)
        return {"+": math.add, "-": math.subtract, "*": math.multiply}[op](a, b)

    def comparison(self, op: str, left: Scaled | Plain, right: Scaled | Plain) -> Truth:
        if isinstance(left, Scaled) or isinstance(right, Scaled):
            checked = self.arithmetic.compare(op, self.number(left), self.number(right))
            return Truth(checked.sql, checked.checks)
        checks = left.checks + right.checks
        if not isinstance(left.sql, sa.sql.ClauseElement):  # a Python value on the left: put the column first
            left, right, op = right, left, MIRROR.get(op, op)
        if op in ("=", "!="):  # NULL equals only NULL, as in memory
            same = left.sql.is_not_distinct_from(right.sql)
            return Truth(same if op == "=" else sa.not_(same), checks)
        if right.sql is None:
            return Truth(sa.false(), checks)
        return Truth(sa.func.coalesce(ORDER[op](left.sql, right.sql), sa.false()), checks)

    def logical(self, op: str, parts: list[Scaled | Plain]) -> Truth:
        truths = [self.truth(part) for part in parts]
        checks: list[Check] = []
        for i, part in enumerate(parts):  # a check counts only where and/or evaluates that operand
            before = truths[:i] if op == "and" else [sa.not_(t) for t in truths[:i]]
            checks += [_only_where(_all(before), c) if before else c for c in part.checks]
        if op == "and":
            return Truth(_all(truths), tuple(checks))
        return Truth(sa.not_(_all([sa.not_(t) for t in truths])), tuple(checks))

    def truth(self, value: Scaled | Plain) -> Any:
        """A two-valued condition (NULL is false, as in memory)."""
        if isinstance(value, Truth):
            return value.sql
        if isinstance(value, Plain) and (value.sql is None or isinstance(value.sql, bool)):
            return sa.true() if value.sql else sa.false()
        if isinstance(value, Plain) and isinstance(getattr(value.sql, "type", None), sa.Boolean):
            return sa.func.coalesce(value.sql, sa.false())  # a boolean field
        raise ExpressionEvaluationError(f"'{self.source}': and/or/not and guards need true or false")

    def call(self, node: Call) -> Scaled:
        value = self.number(self.node(node.args[0]))
        if node.name == "abs":
            return self.arithmetic.absolute(value)
        places = Decimal(0)
        if len(node.args) > 1:
            places = None if self.uses_columns(node.args[1]) else self.value(node.args[1])
        if isinstance(places, bool) or not isinstance(places, Decimal) or places not in _ROUND_PLACES:
            raise ExpressionSyntaxError(f"'{self.source}': round() in the database takes 0 to 18 places")
        return self.arithmetic.rounded(value, int(places))
