"""A condition compiled to SQL with bind parameters, for statements built once and run with many values.

:func:`lowcode.conditions.sql.compile_sql` puts each leaf's value into the expression it builds, so a
condition with variables (``$line.product``) is compiled again for every value. Here the work is split:

* :func:`bind_values` - on every use: each leaf's value resolved, coerced and fitted to its column exactly
  as ``compile_sql`` does it, giving the bind parameters and the *shape* of the SQL (per leaf: a value, a
  constant false for a null value, a constant result for a decimal no column value can equal, no value);
* :func:`bound_clause` - once per shape: the SQL with ``:_lc_w<n>`` in place of the values (an expanding
  parameter for ``in`` lists), the same expression ``compile_sql`` gives with the values inlined.

So a statement built from the clause can be cached by the condition, the columns and the shape. Operators
that work on the value in Python first (``between``, ``contains``, ``starts_with``) are not bound:
:func:`bind_values` answers None and the caller compiles with ``compile_sql``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from lowcode.conditions.model import Group, Leaf, Not, resolve
from lowcode.conditions.operators import OPERATORS
from lowcode.conditions.sql import _WIDE, _fit, _Fixed
from lowcode.core.types import ExactDecimal

VALUE = "value"
"""A leaf's shape when its value is bound."""
FALSE = "false"
"""A leaf's shape when its value is null: the leaf is false."""
NONE = "none"
"""A leaf's shape when its operator takes no value."""


def leaves(node: Leaf | Group | Not) -> Iterator[Leaf]:
    """The leaves of a condition tree in order (the ``n`` of their ``:_lc_w<n>`` parameters)."""
    if isinstance(node, Not):
        yield from leaves(node.item)
    elif isinstance(node, Group):
        for item in node.items:
            yield from leaves(item)
    else:
        yield node


def bind_values(
    node: Leaf | Group | Not, columns: Mapping[str, ColumnElement], variables: Mapping[str, Any]
) -> tuple[tuple, dict[str, Any]] | None:
    """``(shape, parameters)`` of ``node`` with ``variables``; None when an operator cannot be bound.

    :raises ConditionInvalid: if a variable is unknown or its value does not fit the field."""
    shape: list[Any] = []
    params: dict[str, Any] = {}
    for n, leaf in enumerate(leaves(node)):
        op = OPERATORS.get(leaf.op)
        column = _column(columns, leaf)
        if not op.bindable:
            return None
        value = resolve(leaf, op.arity, variables)
        if op.arity == "none":
            shape.append(NONE)
            continue
        if value is None or (op.arity == "pair" and None in value):
            shape.append(FALSE)
            continue
        if leaf.kind == "decimal" and isinstance(column.type, ExactDecimal):
            value = _fit(op.name, value, column.type)
            if isinstance(value, _Fixed):
                shape.append(("fixed", value.result))
                continue
        shape.append(VALUE)
        params[f"_lc_w{n}"] = list(value) if op.arity == "list" else value
    return tuple(shape), params


def bound_clause(node: Leaf | Group | Not, columns: Mapping[str, ColumnElement], shape: tuple) -> Any:
    """The boolean SQL of ``node`` for a ``shape`` of :func:`bind_values`, values as bind parameters."""
    numbered = {id(leaf): n for n, leaf in enumerate(leaves(node))}

    def build(item: Leaf | Group | Not) -> Any:
        if isinstance(item, Not):
            return sa.not_(build(item.item))
        if isinstance(item, Group):
            parts = [build(i) for i in item.items]
            return sa.and_(sa.true(), *parts) if item.mode == "all" else sa.or_(sa.false(), *parts)
        return _leaf(item, columns, numbered[id(item)], shape[numbered[id(item)]])

    return build(node)


def _leaf(leaf: Leaf, columns: Mapping[str, ColumnElement], n: int, shape: Any) -> Any:
    column = _column(columns, leaf)
    op = OPERATORS.get(leaf.op)
    if shape == FALSE:
        return sa.false()
    if isinstance(shape, tuple):  # ("fixed", result): the same result for every non-NULL value
        return column.is_not(None) if shape[1] else sa.false()
    if shape == NONE:
        return op.bound_sql(column, None, leaf.kind)
    if leaf.kind == "decimal" and isinstance(column.type, ExactDecimal):
        type_ = column.type
    elif leaf.kind in _WIDE:
        type_ = _WIDE[leaf.kind]()
    else:
        type_ = column.type
    param = sa.bindparam(f"_lc_w{n}", type_=type_, expanding=op.arity == "list")
    return op.bound_sql(column, param, leaf.kind)


def _column(columns: Mapping[str, ColumnElement], leaf: Leaf) -> ColumnElement:
    try:
        return columns[leaf.field]
    except KeyError:
        raise KeyError(f"no column given for condition field {leaf.field!r}") from None
