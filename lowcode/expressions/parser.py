"""Precedence-climbing parser producing a small AST of frozen dataclasses.

Binding, loosest first (``not`` sits below comparisons, as in Python and SQL, so ``not a = b``
means ``not (a = b)``)::

    or  <  and  <  not (prefix)  <  = == != <> < <= > >=  <  + -  <  * / %  <  - (prefix)  <  .field

Primaries are numbers, strings, ``true``/``false``/``null``, names, calls ``name(args)`` and
``( expr )``. Comparisons do not chain (``a < b < c`` is a syntax error). Chains of one level are
kept flat (`Arithmetic`, `Logical`), so a long sum is a shallow tree; each nesting level costs only
a few Python frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lowcode.expressions.lexer import Token, syntax_error, tokenize

#: Deepest allowed nesting, both syntactic (parentheses, calls, unary operators) and of the tree.
MAX_DEPTH = 50

_COMPARISONS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# Binding levels of the infix operators, and of the prefix operators' operands.
_NOT, _COMPARE, _NEGATE = 3, 4, 7
_LEVELS = {"or": 1, "and": 2, **dict.fromkeys(_COMPARISONS, _COMPARE)}
_LEVELS |= {"+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
_LITERAL_KEYWORDS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class Literal:
    """A constant: Decimal, str, bool or None."""

    value: Any


@dataclass(frozen=True)
class Name:
    """A top-level identifier looked up in the names mapping."""

    name: str


@dataclass(frozen=True)
class Attribute:
    """Mapping lookups ``target.k1.k2...`` (never ``getattr``)."""

    target: Node
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Unary:
    """``-operand`` or ``not operand``."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Arithmetic:
    """A left-to-right chain ``operands[0] operators[0] operands[1] ...`` of one precedence level."""

    operands: tuple[Node, ...]
    operators: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """``left op right``; ``op`` is normalised to one of ``= != < <= > >=``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical:
    """A short-circuit chain of ``and`` or of ``or``."""

    op: str
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Call:
    """A function call; ``pos`` is where the name starts (for compile-time errors)."""

    name: str
    args: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


Node = Literal | Name | Attribute | Unary | Arithmetic | Comparison | Logical | Call


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of ``node``."""
    match node:
        case Attribute(target=target):
            return (target,)
        case Unary(operand=operand):
            return (operand,)
        case Comparison(left=left, right=right):
            return (left, right)
        case Arithmetic(operands=ops) | Logical(operands=ops) | Call(args=ops):
            return ops
    return ()


def walk(node: Node) -> Iterator[tuple[Node, int]]:
    """Yield every node with its depth (root = 1), without recursion."""
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        yield current, depth
        stack.extend((child, depth + 1) for child in children(current))


def parse(text: str) -> Node:
    """Parse ``text`` into an AST.

    :raises ExpressionSyntaxError: with the position, for any syntax error or nesting deeper than
        `MAX_DEPTH` (checked before recursing, so absurd nesting never reaches `RecursionError`).
    """
    parser = _Parser(tokenize(text))
    node = parser.expression()
    end = parser.peek()
    if end.kind != "end":
        raise syntax_error(f"unexpected {_describe(end)}", end.pos)
    if max(depth for _, depth in walk(node)) > MAX_DEPTH:
        raise syntax_error(f"expression is nested deeper than {MAX_DEPTH} levels", 0)
    return node


def _describe(token: Token) -> str:
    return {"end": "end of expression", "string": "text literal"}.get(token.kind, f"'{token.value}'")


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def accept(self, kind: str, *values: str) -> Token | None:
        token = self.peek()
        if token.kind == kind and (not values or token.value in values):
            self.index += 1
            return token
        return None

    def expect_op(self, value: str) -> Token:
        token = self.accept("op", value)
        if token is None:
            found = self.peek()
            raise syntax_error(f"expected '{value}' but found {_describe(found)}", found.pos)
        return token

    @contextmanager
    def nested(self, pos: int) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise syntax_error(f"expression is nested deeper than {MAX_DEPTH} levels", pos)
        yield
        self.depth -= 1

    def expression(self, min_level: int = 1) -> Node:
        """Parse operators binding at ``min_level`` or tighter (see `_LEVELS`)."""
        left = self._prefix(min_level)
        compared = False
        while True:
            token = self.peek()
            level = _LEVELS.get(str(token.value)) if token.kind in ("op", "keyword") else None
            if level is None or level < min_level:
                return left
            if level == _COMPARE and compared:
                raise syntax_error("comparisons cannot be chained; use 'and'", token.pos)
            self.index += 1
            right = self.expression(level + 1)
            left, compared = _combine(left, str(token.value), right, level), level == _COMPARE

    def _prefix(self, min_level: int) -> Node:
        token = self.peek()
        if token.kind == "keyword" and token.value == "not" and min_level <= _NOT:
            self.index += 1
            with self.nested(token.pos):
                return Unary("not", self.expression(_NOT))
        if token.kind == "op" and token.value == "-":
            self.index += 1
            with self.nested(token.pos):
                return Unary("-", self._prefix(_NEGATE))
        return self._postfix()

    def _postfix(self) -> Node:
        node = self._primary()
        keys: list[str] = []
        while dot := self.accept("op", "."):
            if isinstance(node, Literal):
                raise syntax_error("a literal has no fields", dot.pos)
            key = self.accept("name") or self.accept("keyword")
            if key is None:
                raise syntax_error("expected a field name after '.'", self.peek().pos)
            keys.append(str(key.value))
        return Attribute(node, tuple(keys)) if keys else node

    def _primary(self) -> Node:
        token = self.peek()
        self.index += 1
        if token.kind in ("number", "string"):
            return Literal(token.value)
        if token.kind == "keyword" and token.value in _LITERAL_KEYWORDS:
            return Literal(_LITERAL_KEYWORDS[str(token.value)])
        if token.kind == "name":
            if self.accept("op", "("):
                with self.nested(token.pos):
                    return Call(str(token.value), self._arguments(), pos=token.pos)
            return Name(str(token.value))
        if token.kind == "op" and token.value == "(":
            with self.nested(token.pos):
                node = self.expression()
            self.expect_op(")")
            return node
        raise syntax_error(f"unexpected {_describe(token)}", token.pos)

    def _arguments(self) -> tuple[Node, ...]:
        if self.accept("op", ")"):
            return ()
        args = [self.expression()]
        while self.accept("op", ","):
            args.append(self.expression())
        self.expect_op(")")
        return tuple(args)


def _combine(left: Node, op: str, right: Node, level: int) -> Node:
    """Join ``left op right``, extending ``left`` when it is a chain of the same level."""
    if level == _COMPARE:
        return Comparison(_COMPARISONS[op], left, right)
    if level < _COMPARE:
        if isinstance(left, Logical) and left.op == op:
            return Logical(op, (*left.operands, right))
        return Logical(op, (left, right))
    if isinstance(left, Arithmetic) and _LEVELS[left.operators[0]] == level:
        return Arithmetic((*left.operands, right), (*left.operators, op))
    return Arithmetic((left, right), (op,))
