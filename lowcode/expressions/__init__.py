"""A small, safe expression language for formula fields and rule actions (never Python ``eval``).

Usage::

    expr = compile_expression("round(qty * unit_price, 2)")   # parse once
    expr.names                                                # frozenset({"qty", "unit_price"})
    expr.evaluate({"qty": 3, "unit_price": Decimal("19.99")}) # Decimal("59.97")

Numbers are always `decimal.Decimal`. `functions` is the default function registry (filled with
the built-ins when `lowcode.expressions.functions` is imported); pass another `Registry` to
``compile_expression(text, functions=...)`` to use a different set.

Note: the package attribute ``lowcode.expressions.functions`` is the registry, not the module of the
same name; import helpers with ``from lowcode.expressions.functions import ...``.
"""

from lowcode.expressions.evaluator import MAX_LENGTH, Expression, compile_expression
from lowcode.expressions.functions import Function, functions, register_builtin_functions
from lowcode.expressions.parser import MAX_DEPTH

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Expression",
    "Function",
    "compile_expression",
    "functions",
    "register_builtin_functions",
]
