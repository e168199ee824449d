"""Compiling and evaluating expressions: `compile_expression` and `Expression`.

Evaluation walks the AST; it never calls Python ``eval`` and never uses ``getattr`` on values -
dotted access is a Mapping lookup only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import DecimalException
from typing import Any

from lowcode.errors import ExpressionEvaluationError, LowcodeError
from lowcode.expressions.functions import (
    DECIMAL_CONTEXT,
    Function,
    as_bool,
    as_function,
    is_number,
    normalize,
    orderable,
    type_name,
)
from lowcode.expressions.functions import (
    functions as default_functions,
)
from lowcode.expressions.lexer import syntax_error
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
    parse,
    walk,
)
from lowcode.registry import Registry

#: Longest accepted source text, in characters.
MAX_LENGTH = 2000

_ARITHMETIC = {
    "+": (DECIMAL_CONTEXT.add, "add"),
    "-": (DECIMAL_CONTEXT.subtract, "subtract"),
    "*": (DECIMAL_CONTEXT.multiply, "multiply"),
    "/": (DECIMAL_CONTEXT.divide, "divide"),
    "%": (DECIMAL_CONTEXT.remainder, "take the remainder of"),
}
_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def compile_expression(text: str, *, functions: Registry[Callable[..., Any]] | None = None) -> Expression:
    """Parse ``text`` once into an `Expression`.

    :param functions: the function registry to resolve calls against; defaults to the built-ins.
    :raises ExpressionSyntaxError: for a syntax error (the message gives the position), text longer
        than `MAX_LENGTH`, nesting deeper than 50, an unknown function or a wrong argument count.
    """
    if not isinstance(text, str):
        raise syntax_error("an expression must be text", 0)
    if functions is None:
        return _compile_with_builtins(text)
    return _compile(text, functions)


@functools.lru_cache(maxsize=4096)
def _compile_with_builtins(text: str) -> Expression:
    """Expressions are immutable, so those over the built-in functions are parsed once per text
    (rules evaluate the same few expressions for every row they touch)."""
    return _compile(text, default_functions)


def _compile(text: str, functions: Registry[Callable[..., Any]]) -> Expression:
    if len(text) > MAX_LENGTH:
        raise syntax_error(f"expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    if not text.strip():
        raise syntax_error("expression is empty", 0)
    registry = functions
    tree = parse(text)
    resolved: dict[str, Function] = {}
    names: set[str] = set()
    for node, _ in walk(tree):
        if isinstance(node, Name):
            names.add(node.name)
        elif isinstance(node, Call):
            if node.name not in registry:
                raise syntax_error(f"unknown function '{node.name}'", node.pos)
            function = resolved.setdefault(node.name, as_function(registry.get(node.name)))
            count, low, high = len(node.args), function.min_args, function.max_args
            if count < low or (high is not None and count > high):
                wanted = str(low) if low == high else f"{low} or more" if high is None else f"{low} to {high}"
                raise syntax_error(f"{node.name}() takes {wanted} arguments, got {count}", node.pos)
    return Expression(text, tree, frozenset(names), resolved)


class Expression:
    """A compiled expression, safe to evaluate many times against different names.

    :ivar source: the original text.
    :ivar tree: the root AST node.
    :ivar names: the top-level identifiers referenced (not function names, not field keys after a dot).
    """

    __slots__ = ("source", "tree", "names", "_functions")

    def __init__(self, source: str, tree: Node, names: frozenset[str], resolved: dict[str, Function]):
        self.source = source
        self.tree = tree
        self.names = names
        self._functions = resolved

    def evaluate(self, names: Mapping[str, Any]) -> Any:
        """Evaluate against ``names``; numbers in the result are Decimal.

        :raises ExpressionEvaluationError: on division by zero, an unknown name or field, a type
            mismatch (e.g. adding text to a number) or a failing function.
        """
        try:
            return _Evaluation(names, self._functions).eval(self.tree)
        except DecimalException as exc:
            raise ExpressionEvaluationError(f"arithmetic error in '{self.source}': {exc!r}") from exc

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


class _Evaluation:
    def __init__(self, names: Mapping[str, Any], resolved: dict[str, Function]):
        self.names = names
        self.functions = resolved

    def eval(self, node: Node) -> Any:
        match node:
            case Literal(value=value):
                return value
            case Name(name=name):
                try:
                    return normalize(self.names[name])
                except KeyError:
                    raise ExpressionEvaluationError(f"unknown name '{name}'") from None
            case Attribute():
                return self.attribute(node)
            case Unary(op="-", operand=operand):
                value = self.eval(operand)
                if value is None:
                    return None
                if not is_number(value):
                    raise ExpressionEvaluationError(f"cannot negate a {type_name(value)}")
                return DECIMAL_CONTEXT.minus(value)
            case Unary(operand=operand):
                return not as_bool(self.eval(operand), "'not'")
            case Arithmetic(operands=operands, operators=operators):
                result = self.eval(operands[0])
                for op, operand in zip(operators, operands[1:], strict=True):
                    result = _arithmetic(op, result, self.eval(operand))
                return result
            case Comparison(op=op, left=left, right=right):
                return _compare(op, self.eval(left), self.eval(right))
            case Logical(op=op, operands=operands):
                short_circuit = op == "or"
                for operand in operands:
                    if as_bool(self.eval(operand), f"'{op}'") is short_circuit:
                        return short_circuit
                return not short_circuit
            case Call():
                return self.call(node)
        raise ExpressionEvaluationError(f"cannot evaluate {type(node).__name__}")  # pragma: no cover

    def attribute(self, node: Attribute) -> Any:
        value = self.eval(node.target)
        path = node.target.name if isinstance(node.target, Name) else "value"
        for key in node.keys:
            if value is None:
                return None
            if not isinstance(value, Mapping):
                raise ExpressionEvaluationError(f"cannot read field '{key}' of a {type_name(value)} ({path})")
            try:
                value = normalize(value[key])
            except KeyError:
                raise ExpressionEvaluationError(f"'{path}' has no field '{key}'") from None
            path = f"{path}.{key}"
        return value

    def call(self, node: Call) -> Any:
        function = self.functions[node.name]
        if function.lazy:
            args: list[Any] = [lambda arg=arg: self.eval(arg) for arg in node.args]
        else:
            args = [self.eval(arg) for arg in node.args]
        if function.uses_names:
            args.insert(0, self.names)
        try:
            return normalize(function(*args))
        except LowcodeError:
            raise
        except (ArithmeticError, ValueError, TypeError, OverflowError) as exc:
            raise ExpressionEvaluationError(f"{node.name}() failed: {exc}") from exc


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    operation, verb = _ARITHMETIC[op]
    if not (is_number(left) and is_number(right)):
        raise ExpressionEvaluationError(f"cannot {verb} {type_name(left)} and {type_name(right)}")
    if op in ("/", "%") and right.is_zero():
        raise ExpressionEvaluationError("division by zero")
    return operation(left, right)


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is right
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if left is None or right is None:
        return False
    if not orderable(left, right):
        raise ExpressionEvaluationError(f"cannot compare {type_name(left)} and {type_name(right)}")
    try:
        return _ORDERING[op](left, right)
    except TypeError as exc:  # e.g. naive vs aware datetimes
        raise ExpressionEvaluationError(f"cannot compare: {exc}") from exc
