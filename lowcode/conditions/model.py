"""Parse a condition document into a small validated tree; coerce values to field kinds; resolve variables.

Literal values are coerced when the document is parsed; variables (``"$user.id"``) are kept as
:class:`Var` and resolved (then coerced) each time the condition is compiled or evaluated. A text value
that really starts with ``$`` is written with the sign doubled: ``"$$5"`` is the text ``"$5"``.
A variable that resolves to null makes its leaf false (nothing compares equal to NULL); null items of a
list are ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lowcode.conditions.operators import OPERATORS
from lowcode.core.numbers import decimal_from_text
from lowcode.errors import ConditionInvalid, UnknownType

KINDS = frozenset({"text", "integer", "decimal", "boolean", "date", "datetime"})
MAX_DEPTH = 20
"""Most nested all/any/not levels a document may have."""
MAX_LEAVES = 200
"""Most leaf comparisons a document may have."""
MAX_LIST = 1000
"""Most items of an ``in``/``not_in`` list."""

_VAR = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)$")
_INT = re.compile(r"^[+-]?[0-9]{1,19}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_INT64 = 2**63


def invalid(path: str, message: str) -> ConditionInvalid:
    """A :class:`ConditionInvalid` about JSON ``path`` (``"all/1/value"``; the root is ``(root)``)."""
    key = path or "(root)"
    return ConditionInvalid(f"{key}: {message}", fields={key: [message]})


def _join(path: str, part: str | int) -> str:
    return f"{path}/{part}" if path else str(part)


def coerce(kind: str, raw: Any, *, strict: bool = True) -> Any:
    """Return ``raw`` as a value of ``kind``; ``strict`` (condition values) also enforces ranges.

    :raises ValueError: with a readable message when ``raw`` cannot be read as ``kind``.
    """
    if kind == "text" and isinstance(raw, str):
        if strict and "\x00" in raw:
            raise ValueError("text cannot contain a NUL character")
        return raw
    if kind == "boolean" and isinstance(raw, bool):
        return raw
    if kind == "integer" and not isinstance(raw, bool) and isinstance(raw, int | str):
        if isinstance(raw, str):
            raw = int(raw) if _INT.match(raw) else None
        if raw is not None and (not strict or -_INT64 <= raw < _INT64):
            return raw
    if kind == "decimal" and not isinstance(raw, bool) and isinstance(raw, Decimal | int | float | str):
        return _decimal(raw, strict)
    if kind == "date" and isinstance(raw, str) and _DATE.match(raw):
        raw = _parse(dt.date.fromisoformat, raw)
    if kind == "date" and isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return dt.date(raw.year, raw.month, raw.day)
    if kind == "datetime" and isinstance(raw, str):
        raw = _parse(dt.datetime.fromisoformat, raw)
    if kind == "datetime" and isinstance(raw, dt.date):
        if not isinstance(raw, dt.datetime):
            raw = dt.datetime.combine(raw, dt.time())
        if raw.tzinfo is not None:  # stored date-times are naive UTC
            raw = _parse(lambda r: r.astimezone(dt.UTC).replace(tzinfo=None), raw)
        return dt.datetime(*raw.timetuple()[:6], raw.microsecond)
    raise ValueError(_EXPECTED.get(kind, f"unsupported kind {kind!r}"))


_EXPECTED = {
    "text": "expected text",
    "boolean": "expected true or false",
    "integer": "expected a whole number (at most 64 bits)",
    "decimal": "expected a decimal number",
    "date": "expected a date (YYYY-MM-DD)",
    "datetime": "expected an ISO 8601 date-time",
}


def _parse(parser, raw: Any) -> Any:
    try:
        return parser(raw)
    except (ValueError, OverflowError):
        raise ValueError(f"not a valid date or date-time: {raw!r}") from None


def _decimal(raw: Any, strict: bool) -> Decimal:
    try:
        value = raw if isinstance(raw, Decimal) else decimal_from_text(str(raw))
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a decimal number: {raw!r}") from None
    if not value.is_finite():
        raise ValueError("expected a finite decimal number")
    if strict and (value.adjusted() > 40 or value.as_tuple().exponent < -40):
        raise ValueError("decimal number out of range (at most 40 digits either side of the point)")
    return value


@dataclass(frozen=True)
class Var:
    """A variable reference such as ``$user.id`` (``name`` is ``"user.id"``) found at JSON ``path``."""

    name: str
    path: str


@dataclass(frozen=True)
class Leaf:
    """One comparison. ``value`` is a coerced literal, a :class:`Var`, a tuple of those, or None."""

    field: str
    op: str
    kind: str
    value: Any
    path: str


@dataclass(frozen=True)
class Group:
    """``all`` (``mode="all"``) or ``any`` over ``items``; an empty all is true, an empty any false."""

    mode: str
    items: tuple


@dataclass(frozen=True)
class Not:
    """Plain (two-valued) negation of ``item``."""

    item: Any


@dataclass(frozen=True)
class Condition:
    """A parsed, validated condition: ``root`` of the tree and the ``fields`` (names) it references.

    Compile it with :meth:`to_sql` or evaluate it with :meth:`matches`; both give the same answer.
    """

    root: Leaf | Group | Not
    fields: frozenset[str]

    def to_sql(self, columns: Mapping[str, Any], variables: Mapping[str, Any] | None = None):
        """A boolean SQLAlchemy expression over ``columns`` (field name -> column); never NULL-valued.

        :raises ConditionInvalid: if a variable is unknown or its value does not fit the field.
        """
        from lowcode.conditions.sql import compile_sql

        return compile_sql(self.root, columns, variables or {})

    def matches(self, record: Mapping[str, Any], variables: Mapping[str, Any] | None = None) -> bool:
        """Evaluate in memory (through py-rules-engine) against ``record``; agrees with :meth:`to_sql`.

        :raises ConditionInvalid: if a variable is unknown or its value does not fit the field.
        """
        from lowcode.conditions.memory import evaluate

        return evaluate(self.root, record, variables or {})

    def variables(self) -> list[Var]:
        """Every variable the condition reads (``$user.id`` ...), with the JSON path where it is written."""
        found: list[Var] = []
        stack: list[Any] = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, Group):
                stack.extend(node.items)
            elif isinstance(node, Not):
                stack.append(node.item)
            else:
                values = node.value if isinstance(node.value, tuple) else (node.value,)
                found += [v for v in values if isinstance(v, Var)]
        return found


def parse_condition(doc: Any, kinds: Mapping[str, str | None], *, path: str = "") -> Condition:
    """Validate ``doc`` against the field ``kinds`` (field name -> kind) and return a :class:`Condition`.

    ``path`` prefixes every error path (for conditions embedded in larger documents).

    :raises ConditionInvalid: with ``fields={json_path: [message]}`` for the first problem found.
    """
    fields: set[str] = set()
    root = _node(doc, kinds, path, 0, fields, [0])
    return Condition(root, frozenset(fields))


def _node(doc: Any, kinds: Mapping, path: str, depth: int, fields: set, leaves: list[int]):
    if not isinstance(doc, Mapping):
        raise invalid(path, "a condition must be an object")
    if "field" in doc or "op" in doc:
        return _leaf(doc, kinds, path, fields, leaves)
    if len(doc) != 1 or next(iter(doc)) not in ("all", "any", "not"):
        raise invalid(path, "expected exactly one of 'all', 'any', 'not', or a leaf with 'field' and 'op'")
    if depth >= MAX_DEPTH:
        raise invalid(path, f"conditions may be nested at most {MAX_DEPTH} levels deep")
    key, body = next(iter(doc.items()))
    sub = _join(path, key)
    if key == "not":
        return Not(_node(body, kinds, sub, depth + 1, fields, leaves))
    if not isinstance(body, list):
        raise invalid(sub, f"'{key}' takes a list of conditions")
    items = tuple(_node(c, kinds, _join(sub, i), depth + 1, fields, leaves) for i, c in enumerate(body))
    return Group(key, items)


def _leaf(doc: Mapping, kinds: Mapping, path: str, fields: set, leaves: list[int]) -> Leaf:
    for key in doc:
        if key not in ("field", "op", "value"):
            raise invalid(_join(path, str(key)), "unknown key (a leaf has 'field', 'op' and 'value')")
    name, op_name = doc.get("field"), doc.get("op")
    if not isinstance(name, str) or name not in kinds:
        raise invalid(_join(path, "field"), f"unknown field {name!r}")
    kind = kinds[name]
    if kind not in KINDS:
        raise invalid(_join(path, "field"), f"field {name!r} cannot be used in conditions")
    try:
        op = OPERATORS.get(op_name) if isinstance(op_name, str) else None
    except UnknownType:
        op = None
    if op is None:
        known = ", ".join(OPERATORS.keys())
        raise invalid(_join(path, "op"), f"unknown operator {op_name!r} (known: {known})")
    if kind not in op.kinds:
        raise invalid(_join(path, "op"), f"operator {op_name!r} does not apply to {kind} field {name!r}")
    leaves[0] += 1
    if leaves[0] > MAX_LEAVES:
        raise invalid(path, f"a condition may have at most {MAX_LEAVES} comparisons")
    fields.add(name)
    vpath = _join(path, "value")
    if op.arity == "none":
        if "value" in doc:
            raise invalid(vpath, f"operator {op_name!r} takes no value")
        return Leaf(name, op_name, kind, None, path)
    if "value" not in doc:
        raise invalid(vpath, "a value is required")
    return Leaf(name, op_name, kind, _value(doc["value"], kind, op.arity, vpath), path)


def _value(raw: Any, kind: str, arity: str, path: str) -> Any:
    if arity == "one" or (isinstance(raw, str) and _VAR.match(raw)):
        return _scalar(raw, kind, path)
    if not isinstance(raw, list):
        raise invalid(path, "expected a list" if arity == "list" else "expected a list [low, high]")
    if arity == "pair" and len(raw) != 2:
        raise invalid(path, "expected a list of two values [low, high]")
    if len(raw) > MAX_LIST:
        raise invalid(path, f"a list may have at most {MAX_LIST} values")
    return tuple(_scalar(item, kind, _join(path, i)) for i, item in enumerate(raw))


def _scalar(raw: Any, kind: str, path: str) -> Any:
    if isinstance(raw, str) and raw.startswith("$"):
        if raw.startswith("$$"):
            raw = raw[1:]
        elif match := _VAR.match(raw):
            return Var(match.group(1), path)
        else:
            raise invalid(path, f"{raw!r} is not a valid variable (write '$$' for a literal '$')")
    if raw is None:
        raise invalid(path, "null is not a value (use the is_empty operator)")
    if isinstance(raw, list | dict):
        raise invalid(path, "expected a single value")
    try:
        return coerce(kind, raw)
    except ValueError as exc:
        raise invalid(path, str(exc)) from None


def lookup(var: Var, variables: Mapping[str, Any]) -> Any:
    """The value of ``var`` in the nested ``variables`` mapping. :raises ConditionInvalid: if unknown."""
    current: Any = variables
    for part in var.name.split("."):
        if not isinstance(current, Mapping) or part not in current:
            raise invalid(var.path, f"unknown variable '${var.name}'")
        current = current[part]
    return current


def _fit(kind: str, raw: Any, var: Var) -> Any:
    if raw is None:
        return None
    try:
        return coerce(kind, raw)
    except ValueError as exc:
        raise invalid(var.path, f"variable '${var.name}': {exc}") from None


def resolve(leaf: Leaf, arity: str, variables: Mapping[str, Any]) -> Any:
    """The leaf's value with variables substituted and coerced.

    Returns None (no value, or a variable that is null), the scalar, a list without nulls (list arity)
    or a ``(low, high)`` tuple whose items may be None (pair arity). A None scalar or bound means false.
    """
    value, kind = leaf.value, leaf.kind
    if arity == "none":
        return None
    if isinstance(value, Var):
        got = lookup(value, variables)
        if arity == "one":
            return _fit(kind, got, value)
        if got is None:
            got = [] if arity == "list" else [None, None]
        if not isinstance(got, list | tuple) or (arity == "pair" and len(got) != 2):
            raise invalid(value.path, f"variable '${value.name}' is not a list of the right length")
        items = [_fit(kind, item, value) for item in got]
    elif arity == "one":
        return value
    else:
        items = [_fit(kind, lookup(v, variables), v) if isinstance(v, Var) else v for v in value]
    return [v for v in items if v is not None] if arity == "list" else tuple(items)
