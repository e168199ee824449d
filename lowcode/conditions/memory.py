"""In-memory evaluation through py-rules-engine, made to agree with the SQL compilation.

py-rules-engine 0.3.0 evaluates nested ``{"and": [...]}`` / ``{"or": [...]}`` /
``{"condition": {"variable", "operator", "value"}}`` blocks against a context dict, but it has no
Decimal, refuses to order values of different types, treats None as an ordinary value, and has no
``not``, ``contains``, ``starts_with``, ``between`` or ``is_empty``. This adapter builds one engine block
per evaluation:

* each leaf gets its own context variable ``v<n>`` holding the record's value coerced to the field's kind
  (a missing field is None);
* None is settled before the engine sees it: a NULL record value, or a variable that resolves to null,
  makes the leaf the constant-false block ``{"or": []}`` - the same rule as SQL's
  ``col IS NOT NULL AND ...``; only ``is_empty``/``is_not_empty`` test None, with ``in [None, ""]``;
* decimals of a leaf (record value and operands) are scaled by one common power of ten to integers,
  exactly (from the digit tuple, no float and no context rounding), so the engine compares ints;
* ``not`` is pushed down to the leaves (De Morgan: not-all is any-of-nots) and each leaf produces its
  exact complement (``=``/``!=``, ``<``/``>=``, ``in``/``not in`` ...). That is exact because a leaf
  reaching the engine never holds None, and it keeps the whole tree in one engine call;
* blocks of ``=``, ``!=``, ``in`` and ``not in`` only are decided directly (:func:`decide`, the engine's
  own comparisons without its per-leaf objects); others go to the engine;
* ``between`` becomes two comparisons; ``starts_with`` compares a derived variable holding the
  record's ASCII-lower-cased prefix; ``contains`` tests a derived boolean (see ``TextMatch``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from py_rules import RuleEngine

from lowcode.conditions.model import Group, Leaf, Not, coerce, resolve
from lowcode.conditions.operators import FALSE, OPERATORS, TRUE
from lowcode.errors import ValidationFailed


def evaluate(node: Leaf | Group | Not, record: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
    """True when ``record`` satisfies ``node``; evaluated by py-rules-engine on an adapted block."""
    context: dict[str, Any] = {}
    block = build_block(node, record, variables, context)
    decided = decide(block, context)
    if decided is not None:
        return decided
    return bool(RuleEngine(context).evaluate_condition_block(block))


_DIRECT = {
    "=": lambda left, right: left == right,
    "!=": lambda left, right: left != right,
    "in": lambda left, right: left in right,
    "not in": lambda left, right: left not in right,
}
"""The engine's own handlers of the operators that compare any two values (no type check first)."""
_PLAIN = frozenset({bool, int, str, dt.date, dt.datetime, type(None)})
"""Value types the engine passes through unchanged (``bool(x)``, ``int(x)``, ``str(x)``, dates as they are)."""


def decide(block: dict, context: Mapping[str, Any]) -> bool | None:
    """The engine's answer for ``block`` computed directly when every leaf is ``=``, ``!=``, ``in`` or ``not
    in`` over plain values (the usual trigger condition ``status = 'confirmed'``): the same comparisons
    the engine makes, without building its objects. None when another operator or value type is in the
    block (the engine decides those, with its type checks)."""
    if "condition" in block:
        leaf = block["condition"]
        handler = _DIRECT.get(leaf["operator"])
        left, right = context.get(leaf["variable"]), _plain(leaf["value"])
        if handler is None or right is _UNDECIDED or type(left) not in _PLAIN:
            return None
        if leaf["operator"] in ("in", "not in") and not isinstance(right, list):
            return None
        return bool(handler(left, right))
    results = [decide(item, context) for item in block.get("and", block.get("or", []))]
    if None in results:
        return None
    return all(results) if "and" in block else any(results)


_UNDECIDED = object()


def _plain(typed: dict) -> Any:
    """The value of a typed engine value (``{"type": "int", "value": 3}``), or ``_UNDECIDED``."""
    value = typed["value"]
    if typed["type"] == "list":
        items = [_plain(item) for item in value]
        return _UNDECIDED if any(item is _UNDECIDED for item in items) else items
    return value if type(value) in _PLAIN and type(value).__name__ == typed["type"] else _UNDECIDED


def build_block(
    node: Leaf | Group | Not,
    record: Mapping[str, Any],
    variables: Mapping[str, Any],
    context: dict[str, Any],
    negate: bool = False,
) -> dict:
    """The py-rules-engine block for ``node`` (negated when ``negate``); fills ``context``."""
    if isinstance(node, Not):
        return build_block(node.item, record, variables, context, not negate)
    if isinstance(node, Group):
        key = "and" if (node.mode == "all") != negate else "or"
        return {key: [build_block(item, record, variables, context, negate) for item in node.items]}
    return _leaf(node, record, variables, context, negate)


def _leaf(leaf: Leaf, record: Mapping, variables: Mapping, context: dict, negate: bool) -> dict:
    op = OPERATORS.get(leaf.op)
    raw = record.get(leaf.field)
    try:
        current = None if raw is None else coerce(leaf.kind, raw, strict=False)
    except ValueError as exc:
        message = f"record value does not fit the {leaf.kind} field: {exc}"
        raise ValidationFailed(f"{leaf.field}: {message}", fields={leaf.field: [message]}) from None
    value = resolve(leaf, op.arity, variables)
    if op.arity != "none" and (current is None or value is None or (op.arity == "pair" and None in value)):
        return TRUE if negate else FALSE
    if leaf.kind == "decimal":
        current, value = _scaled(current, value)
    variable = f"v{len(context)}"  # len(context) only grows, so every leaf's name is new
    context[variable] = current
    return op.to_rules(variable, value, context, negate)


def _scaled(current: Decimal | None, value: Any) -> tuple[int | None, Any]:
    """``current`` and ``value`` (a Decimal, a list or pair of them, or None) times one power of ten."""
    values = list(value) if isinstance(value, list | tuple) else [value]
    decimals = [d for d in (current, *values) if d is not None]
    places = max([0, *(-d.as_tuple().exponent for d in decimals)])

    def to_int(d: Decimal | None) -> int | None:
        if d is None:
            return None
        sign, digits, exponent = d.as_tuple()
        magnitude = int("".join(map(str, digits)) or "0") * 10 ** (exponent + places)
        return -magnitude if sign else magnitude

    if isinstance(value, list | tuple):
        return to_int(current), type(value)(to_int(v) for v in value)
    return to_int(current), to_int(value)
