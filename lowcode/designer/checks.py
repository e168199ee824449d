"""Checks the designer runs as you type, with the same code the publish runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.errors import LowcodeError
from lowcode.expressions import compile_expression
from lowcode.fields import field_types
from lowcode.fields.base import FieldDef

MAX_EXPRESSION = 2000


def formula_problems(
    expression: str, fields: Mapping[str, Mapping[str, Any]], entities: Mapping[str, Mapping[str, Any]]
) -> tuple[list[str], list[str]]:
    """(problems, names read) of a formula over an entity's fields: its syntax, then the names it reads, as
    the formula field type checks them at publish."""
    expression = expression.strip()
    if not expression:
        return ["a formula is required"], []
    if len(expression) > MAX_EXPRESSION:
        return [f"a formula has at most {MAX_EXPRESSION} characters"], []
    formula = field_types.get("formula")
    fdef = FieldDef(name="_checked", type="formula", options={"expression": expression})
    problems = formula.check_definition(fdef, set(entities))
    if problems:
        return problems, []
    problems = formula.check_in_entity(fdef, fields, entities)
    try:
        names = sorted(compile_expression(expression).names)
    except LowcodeError as exc:
        return [exc.message], []
    return problems, names


def problems_by_path(fields: Mapping[str, Any], kind: str, name: str) -> list[tuple[str, str]]:
    """A refusal's problems of one definition as (JSON path within it, message), the ``<kind>:<name>/``
    prefix of the publish check's paths cut; a path may carry one message or a list."""
    prefix = f"{kind}:{name}/"
    out = []
    for path, messages in sorted(fields.items()):
        for message in messages if isinstance(messages, list) else [messages]:
            out.append((path.removeprefix(prefix), str(message)))
    return out
