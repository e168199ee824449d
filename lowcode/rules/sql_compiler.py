r"""One expression of the safe expression language compiled to SQL over a target row's columns.

Bare names that are columns of the target read the row; every sub-expression that reads no column is
evaluated in memory with the rule's context and bound as a value. Numbers go through
:mod:`lowcode.core.exactsql` (exact, rounded once to the field's scale); what can fail on a row is collected
as :class:`~lowcode.core.exactsql.Check`\ s. Used by :mod:`lowcode.rules.sqlexpr`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from lowcode.core.exactsql import Check, Checked, Scaled
from lowcode.core.exactsql.scaled import MIRROR, ORDER
from lowcode.errors import ExpressionEvaluationError, ExpressionSyntaxError
from lowcode.expressions import compile_expression
from lowcode.expressions.evaluator import _Evaluation
from lowcode.expressions.parser import (
    Arithmetic,
    Attribute,
    Call,
    Comparison,
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


def all_in_order(truths: list) -> Any:
    """``t1 and t2 ...`` evaluated left to right, as in memory (PostgreSQL may reorder a plain AND and
    divide by a zero that an earlier operand rules out)."""
    if not truths:
        return sa.true()
    if len(truths) == 1:
        return truths[0]
    return sa.case((truths[0], all_in_order(truths[1:])), else_=sa.false())


def only_where(condition: Any, check: Check) -> Check:
    """``check`` on the rows where ``condition`` holds (evaluated first)."""
    return Check(sa.case((condition, check.failing), else_=sa.false()), check.problem)


def children(node: Node) -> tuple:
    """The sub-expressions of ``node`` (none for a name or a literal)."""
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


class SqlCompiler:
    """One expression text compiled to SQL over the target's ``columns``; column-free parts are evaluated in
    memory with ``context`` (or taken from ``folded``, by node id)."""

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
        """The expression as the new value of ``column`` (rounded to its scale), with its checks."""
        value = self.node(self.expression.tree)
        if isinstance(value, Scaled):
            return self.arithmetic.assign(value, column, self.source)
        if value.sql is None:
            return Checked(sa.null(), value.checks)
        if self.arithmetic.column(column) is not None:
            raise ExpressionEvaluationError(f"'{self.source}' is not a number, but '{column.name}' is")
        return Checked(value.sql, value.checks)

    def condition(self) -> Checked:
        """The expression as a two-valued condition (a guard), with its checks."""
        value = self.node(self.expression.tree)
        return Checked(self.truth(value), value.checks)

    # -- nodes ----------------------------------------------------------------------------------------
    def uses_columns(self, node) -> bool:
        """Does ``node`` read a column of the target (a bare name that is one)?"""
        if isinstance(node, Name):
            return node.name in self.columns
        return any(self.uses_columns(child) for child in children(node))

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
            checks += [only_where(all_in_order(before), c) if before else c for c in part.checks]
        if op == "and":
            return Truth(all_in_order(truths), tuple(checks))
        return Truth(sa.not_(all_in_order([sa.not_(t) for t in truths])), tuple(checks))

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
