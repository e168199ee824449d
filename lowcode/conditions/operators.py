"""The condition operators, one registry entry each, compiled two ways.

Every operator knows the field ``kinds`` it applies to, its ``arity`` (``"none"``, ``"one"``, ``"list"``
or ``"pair"``) and two compilations of a leaf:

* :meth:`Operator.to_sql` - a two-valued SQL boolean: a NULL column makes every operator but
  ``is_empty``/``is_not_empty`` FALSE (``col IS NOT NULL AND col <op> :value``), so ``NOT`` is plain
  negation in SQL as in Python.
* :meth:`Operator.to_rules` - a py-rules-engine condition block for a non-null record value already put
  in the engine's context under ``variable`` (see :mod:`lowcode.conditions.memory`, which settles
  None and scales decimals to integers first). ``negate=True`` asks for the exact complement, because
  the engine has no ``not``.

Text ordering must follow Python's code-point order: on PostgreSQL the column is compared under
``COLLATE "C"``; SQLite's default BINARY collation already compares UTF-8 bytes, which is the same
order. ``contains``/``starts_with`` fold ASCII letters only on both sides (SQLite's ``lower()`` and
PostgreSQL's ``lower()`` under ``COLLATE "C"`` fold only A-Z); ``%``, ``_`` and ``\\`` are literal.
"""

from __future__ import annotations

import operator as py_operator
import string
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from lowcode.registry import Registry

ALL_KINDS = frozenset({"text", "integer", "decimal", "boolean", "date", "datetime"})
ORDERED_KINDS = ALL_KINDS - {"boolean"}
TRUE: dict = {"and": []}
"""A py-rules-engine block that is always true (empty ``and``)."""
FALSE: dict = {"or": []}
"""A py-rules-engine block that is always false (empty ``or``)."""

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_COMPLEMENT = {"=": "!=", "<": ">=", ">": "<=", "in": "not in"}
_COMPLEMENT.update({v: k for k, v in _COMPLEMENT.items()})
_SQL_OPS = {
    "=": py_operator.eq,
    "!=": py_operator.ne,
    "<": py_operator.lt,
    "<=": py_operator.le,
    ">": py_operator.gt,
    ">=": py_operator.ge,
}


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, exactly as SQLite's ``lower()`` does."""
    return text.translate(_ASCII_LOWER)


def like_escape(text: str) -> str:
    """Escape ``\\``, ``%`` and ``_`` for ``LIKE ... ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CodePointOrder(ColumnElement):
    """``column COLLATE "C"`` on PostgreSQL, the bare column elsewhere (SQLite already orders bytes).

    A compiler construct, so the dialect is chosen when the statement is compiled, not when it is built.
    """

    inherit_cache = True
    _traverse_internals = [("clause", InternalTraversal.dp_clauseelement)]

    def __init__(self, clause: ColumnElement):
        self.clause = clause
        self.type = clause.type


@compiles(CodePointOrder)
def _compile_plain(element, compiler, **kw):
    return compiler.process(element.clause, **kw)


@compiles(CodePointOrder, "postgresql")
def _compile_postgresql(element, compiler, **kw):
    return f'({compiler.process(element.clause, **kw)} COLLATE "C")'


def typed(value: Any) -> dict:
    """A py-rules-engine value object (``{"type": ..., "value": ...}``) for ``value``."""
    if isinstance(value, list | tuple):
        return {"type": "list", "value": [typed(v) for v in value]}
    return {"type": type(value).__name__, "value": value}


def rule(variable: str, op: str, value: Any) -> dict:
    """A py-rules-engine leaf block: ``context[variable] <op> value``."""
    return {"condition": {"variable": variable, "operator": op, "value": typed(value)}}


class Operator:
    """Base of the condition operators; subclasses set ``name``, ``kinds`` and ``arity``."""

    name: ClassVar[str]
    """The name used in documents (``"op": name``) and in the registry."""
    kinds: ClassVar[frozenset[str]]
    """Field kinds the operator applies to."""
    arity: ClassVar[str]
    """What ``value`` is: ``"none"`` (absent), ``"one"``, ``"list"`` or ``"pair"`` (``[low, high]``)."""
    bindable: ClassVar[bool] = False
    """Whether :meth:`bound_sql` compiles the operator with its value as a bind parameter."""

    def to_sql(self, column: ColumnElement, value: Any, *, kind: str | None = None) -> ColumnElement:
        """Two-valued SQL for ``column <op> value``: FALSE when the column is NULL."""
        return sa.and_(column.is_not(None), self.sql(column, value))

    def sql(self, column: ColumnElement, value: Any) -> ColumnElement:
        """The comparison itself, for a non-NULL column."""
        raise NotImplementedError

    def bound_sql(self, column: ColumnElement, param: Any, kind: str) -> ColumnElement | None:
        """Like :meth:`to_sql` with the value a bind parameter (``param``, expanding for lists) of a
        ``kind`` field, for statements built once and run with many values (see
        :mod:`lowcode.conditions.bound`); only where :attr:`bindable`."""
        raise NotImplementedError

    def to_rules(self, variable: str, value: Any, context: dict, negate: bool = False) -> dict:
        """A py-rules-engine block testing the non-null ``context[variable]`` (or its complement)."""
        raise NotImplementedError


class Comparison(Operator):
    """``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``; ordering applies to every kind but boolean."""

    arity = "one"
    bindable = True

    def __init__(self, name: str):
        self.name = name
        self.kinds = ALL_KINDS if name in ("=", "!=") else ORDERED_KINDS

    def sql(self, column, value):
        if isinstance(value, str) and self.name not in ("=", "!="):
            column = CodePointOrder(column)
        return _SQL_OPS[self.name](column, value)

    def bound_sql(self, column, param, kind):
        compared = CodePointOrder(column) if kind == "text" and self.name not in ("=", "!=") else column
        return sa.and_(column.is_not(None), _SQL_OPS[self.name](compared, param))

    def to_rules(self, variable, value, context, negate=False):
        return rule(variable, _COMPLEMENT[self.name] if negate else self.name, value)


class In(Operator):
    """``in`` / ``not_in``: membership in a list of values (an empty ``in`` list matches nothing)."""

    arity = "list"
    kinds = ALL_KINDS
    bindable = True

    def __init__(self, name: str, engine_op: str):
        self.name = name
        self.engine_op = engine_op

    def sql(self, column, value):
        return column.in_(value) if self.engine_op == "in" else column.not_in(value)

    def bound_sql(self, column, param, kind):
        return self.to_sql(column, param)

    def to_rules(self, variable, value, context, negate=False):
        return rule(variable, _COMPLEMENT[self.engine_op] if negate else self.engine_op, list(value))


class Between(Operator):
    """``between [low, high]``, both ends included."""

    name = "between"
    arity = "pair"
    kinds = ORDERED_KINDS

    def sql(self, column, value):
        low, high = value
        return (CodePointOrder(column) if isinstance(low, str) else column).between(low, high)

    def to_rules(self, variable, value, context, negate=False):
        low, high = value
        if negate:
            return {"or": [rule(variable, "<", low), rule(variable, ">", high)]}
        return {"and": [rule(variable, ">=", low), rule(variable, "<=", high)]}


class TextMatch(Operator):
    """``contains`` / ``starts_with``: ASCII-case-insensitive, with ``%`` and ``_`` taken literally.

    In memory, ``starts_with`` compares a derived context variable (the lower-cased prefix of the
    record's length of the needle) with ``=``; ``contains`` derives a boolean (needle found in the
    lower-cased text) and the engine tests it ``= True``.
    """

    arity = "one"
    kinds = frozenset({"text"})

    def __init__(self, name: str):
        self.name = name

    def sql(self, column, value):
        pattern = like_escape(ascii_lower(value))
        pattern = f"%{pattern}%" if self.name == "contains" else f"{pattern}%"
        return sa.func.lower(CodePointOrder(column)).like(pattern, escape="\\")

    def to_rules(self, variable, value, context, negate=False):
        text, needle = ascii_lower(context[variable]), ascii_lower(value)
        derived = f"{variable}.{self.name}"
        if self.name == "starts_with":
            context[derived] = text[: len(needle)]
            return rule(derived, "!=" if negate else "=", needle)
        context[derived] = needle in text
        return rule(derived, "=", not negate)


class Emptiness(Operator):
    """``is_empty`` / ``is_not_empty``: empty means NULL, or ``''`` for text. Takes no value."""

    arity = "none"
    kinds = ALL_KINDS
    bindable = True

    def __init__(self, name: str):
        self.name = name

    def to_sql(self, column, value=None, *, kind: str | None = None):
        """``kind`` says whether ``''`` counts as empty; without it, any string column is text."""
        text = kind == "text" if kind else isinstance(column.type, sa.String)
        empty = sa.or_(column.is_(None), column == "") if text else column.is_(None)
        return empty if self.name == "is_empty" else sa.not_(empty)

    def bound_sql(self, column, param, kind):
        return self.to_sql(column, None, kind=kind)

    def to_rules(self, variable, value, context, negate=False):
        """Unlike the others, accepts a None ``context[variable]`` (only text can equal ``''``)."""
        positive = (self.name == "is_empty") != negate
        return rule(variable, "in" if positive else "not in", [None, ""])


OPERATORS: Registry[Operator] = Registry("condition operators")
"""Every condition operator by name. They are the language itself (documents are validated against them
without any app), so they are registered here rather than by an app factory."""

for _op in (
    *(Comparison(n) for n in ("=", "!=", "<", "<=", ">", ">=")),
    In("in", "in"),
    In("not_in", "not in"),
    Between(),
    TextMatch("contains"),
    TextMatch("starts_with"),
    Emptiness("is_empty"),
    Emptiness("is_not_empty"),
):
    OPERATORS.register(_op.name, _op)
