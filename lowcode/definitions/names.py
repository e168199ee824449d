"""What the names in a definition resolve to: the scope an expression or a condition will run with.

A scope maps each name to a :class:`Shape`: a mapping whose keys are known (a record of an entity, the
``$user`` facts) or any value. The checks here find, before publish, the names that would fail at run time
with "unknown name" - a field renamed under a rule's expression, a ``$record.x`` in a record rule.
Only what surely fails is reported: a name bound to any value may be read any way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lowcode.conditions import Condition, parse_condition
from lowcode.errors import ConditionInvalid, LowcodeError
from lowcode.expressions import compile_expression
from lowcode.expressions.references import references
from lowcode.fields.base import SYSTEM_NAMES

USER_FACTS = frozenset(
    {
        "id",
        "username",
        "department",
        "level",
        "job_title",
        "manager",
        "department_path",
        "department_members",
        "reports",
    }
)
"""The keys of ``$user`` / ``user`` (:func:`lowcode.auth.actors.user_attributes` plus id and username)."""


@dataclass(frozen=True)
class Shape:
    """What a name stands for: a mapping with known ``keys`` (``what`` names it in messages), or any value
    (``keys`` None)."""

    keys: frozenset[str] | None = None
    what: str = ""
    entity: str = ""
    """The entity of the record this name is (``line.qty`` reads field ``qty`` of it), if known."""
    field_of: str = ""
    """The entity whose field this name itself is (a rule's bare trigger-record fields), if any."""


ANY = Shape()
USER = Shape(USER_FACTS, "the user's facts")
CONDITION_SCOPE: Mapping[str, Shape] = {"user": USER, "now": ANY, "today": ANY}
"""The variables of conditions outside rules: record rules, view filters, trigger conditions."""


def record_shape(entity: str, fields: Any) -> Shape:
    """A record of ``entity`` with the field names ``fields`` (its system fields are known too)."""
    return Shape(frozenset(fields) | SYSTEM_NAMES, f"a {entity} record", entity)


def field_shapes(entity: str, names: Any) -> dict[str, Shape]:
    """Bare names that are fields of a record of ``entity`` (any value each): a rule's trigger-record fields,
    the columns of a guarded update's target row."""
    return {name: Shape(field_of=entity) for name in names}


def expression_problems(text: Any, scope: Mapping[str, Shape]) -> list[str]:
    """The names of expression ``text`` that ``scope`` does not have, or its syntax error (a literal value
    reads nothing)."""
    if not isinstance(text, str):
        return []
    try:
        tree = compile_expression(text).tree
    except LowcodeError as exc:
        return [exc.message]
    problems = {_problem(ref.name, ref.keys, scope, "name") for ref in references(tree)}
    return sorted(p for p in problems if p)


def condition_problems(doc: Any, kinds: Mapping[str, str | None], scope: Mapping[str, Shape]) -> dict:
    """Problems of a condition over fields ``kinds`` whose variables come from ``scope``, keyed by JSON path
    relative to the condition ("" for its root): unknown fields and operators, values, variables."""
    try:
        condition = parse_condition(doc, kinds)
    except ConditionInvalid as exc:
        return {("" if path == "(root)" else path): list(msgs) for path, msgs in exc.fields.items()}
    return variable_problems(condition, scope)


def variable_problems(condition: Condition, scope: Mapping[str, Shape]) -> dict[str, list[str]]:
    """The variables of a parsed condition that ``scope`` does not have, keyed by relative JSON path."""
    problems: dict[str, list[str]] = {}
    for var in condition.variables():
        name, *keys = var.name.split(".")
        problem = _problem(name, tuple(keys), scope, "variable")
        if problem:
            problems.setdefault(var.path, []).append(problem)
    return problems


def join(prefix: str, path: str) -> str:
    """``prefix/path`` (or ``prefix`` for a root path)."""
    return f"{prefix}/{path}" if path else prefix


def _problem(name: str, keys: tuple[str, ...], scope: Mapping[str, Shape], what: str) -> str:
    shape = scope.get(name)
    sign = "$" if what == "variable" else ""
    if shape is None:
        return f"unknown {what} '{sign}{name}'"
    if keys and shape.keys is not None and keys[0] not in shape.keys:
        return f"'{sign}{name}' ({shape.what}) has no field '{keys[0]}'"
    return ""
