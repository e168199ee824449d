"""Expressions of the safe expression language compiled to SQL for guarded atomic updates.

``reserved + line.qty`` over the ``stock_balance`` table becomes ``stock_balance.reserved + :p`` where the
bare name ``reserved`` is the target row's column and ``line.qty`` is a value from the rule's context,
evaluated in memory and bound as a parameter. The database then does the arithmetic on the current row, so
concurrent writers never lose an update (no read-modify-write in Python).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from lowcode.errors import ExpressionSyntaxError
from lowcode.expressions import compile_expression
from lowcode.expressions.parser import Arithmetic, Attribute, Call, Comparison, Logical, Name, Unary

_ARITH = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}
_COMPARE = {
    "=": lambda a, b: a == b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}  # fmt: skip


def column_names(text: str, columns: Mapping[str, Any]) -> set[str]:
    """Target columns an expression reads (bare names that are columns of the target)."""
    return {n for n in compile_expression(text).names if n in columns}


def to_sql(
    text: str, columns: Mapping[str, sa.ColumnElement], context: Mapping[str, Any]
) -> sa.ColumnElement:
    """Compile ``text``: bare names found in ``columns`` are columns, everything else comes from ``context``.

    :raises ExpressionSyntaxError: for constructs that cannot run in SQL (functions over columns).
    """
    expression = compile_expression(text)
    return _Compiler(columns, context, expression).node(expression.tree)


class _Compiler:
    def __init__(self, columns, context, expression):
        self.columns = columns
        self.context = context
        self.expression = expression

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
        from lowcode.expressions.evaluator import _Evaluation

        result = _Evaluation(self.context, self.expression._functions).eval(node)
        return Decimal(result) if isinstance(result, int) and not isinstance(result, bool) else result

    def node(self, node) -> Any:
        if not self.uses_columns(node):
            # a plain Python value: SQLAlchemy binds it with the type of the column it meets
            # (so an exact decimal is scaled like that column)
            return self.value(node)
        match node:
            case Name(name=name):
                return self.columns[name]
            case Unary(op="-", operand=operand):
                return -self.node(operand)
            case Unary(operand=operand):
                return sa.not_(self.node(operand))
            case Arithmetic(operands=operands, operators=operators):
                result = self.node(operands[0])
                for op, operand in zip(operators, operands[1:], strict=True):
                    result = _ARITH[op](result, self.node(operand))
                return result
            case Comparison(op=op, left=left, right=right):
                return _COMPARE[op](self.node(left), self.node(right))
            case Logical(op=op, operands=operands):
                parts = [self.node(o) for o in operands]
                return sa.and_(*parts) if op == "and" else sa.or_(*parts)
        raise ExpressionSyntaxError(
            f"'{self.expression.source}': only arithmetic, comparisons and and/or can use the target's fields "
            "in an atomic update (functions cannot)"
        )
