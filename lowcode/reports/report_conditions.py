"""Conditions in a report definition, compiled at publish: the ``filter`` (over field paths), a measure's
``where`` (a filtered measure aggregates only the rows meeting it: ``sum(CASE WHEN ... THEN x END)``) and
``having`` (over the plain measures' names: groups kept by their figures, SQL ``HAVING``). Each reads
``$param.<name>`` (a date range: ``.from`` / ``.to``), ``$user.*``, ``$now`` and ``$today``; each problem is
reported at its JSON path."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from lowcode.conditions import Condition, parse_condition
from lowcode.errors import ConditionInvalid

FREE_VARIABLES = frozenset({"user", "now", "today"})


class Errors(Protocol):
    """Where problems are collected (JSON path -> messages)."""

    def add(self, path: str, message: str) -> None:
        """Record a problem at ``path``."""


def leaf_fields(doc: Any) -> set[str]:
    """The field names of a condition's leaves."""
    found: set[str] = set()
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if isinstance(node.get("field"), str):
                found.add(node["field"])
            stack.extend(v for k, v in node.items() if k in ("all", "any", "not"))
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _parsed(doc: Any, kinds: dict[str, Any], where: str, params, errors: Errors) -> Condition | None:
    try:
        cond = parse_condition(doc, kinds)
    except ConditionInvalid as exc:
        for at, messages in exc.fields.items():
            for message in messages:
                errors.add(where if at == "(root)" else f"{where}/{at}", message)
        return None
    declared = {p.name: p for p in params}
    for var in cond.variables():
        head, *rest = var.name.split(".")
        at = f"{where}/{var.path}"
        if head == "param":
            param = declared.get(rest[0]) if rest else None
            if param is None:
                errors.add(at, f"unknown parameter '${var.name}'")
            elif param.type == "date_range" and rest[1:] not in (["from"], ["to"]):
                errors.add(at, f"a date range is read as '$param.{param.name}.from' or '.to'")
            elif param.type != "date_range" and rest[1:]:
                errors.add(at, f"unknown parameter '${var.name}'")
        elif head not in FREE_VARIABLES:
            errors.add(at, f"unknown variable '${var.name}'")
    return cond


def compile_condition(
    doc: Any, where: str, params, resolve: Callable[[str, str], Any], errors: Errors
) -> tuple[Condition | None, dict[str, Any]]:
    """A condition over field paths (the filter, a measure's ``where``): the parsed condition and its paths."""
    if not doc:
        return None, {}
    paths: dict[str, Any] = {}
    for text in sorted(leaf_fields(doc)):
        found = resolve(text, where)
        if found is not None:
            paths[text] = found
    return _parsed(doc, {text: p.kind for text, p in paths.items()}, where, params, errors), paths


def measure_kind(measure: Any) -> str | None:
    """The kind of a plain measure's values (for conditions over them)."""
    if measure.agg in ("count", "count_distinct"):
        return "integer"
    return measure.path.kind if measure.path is not None else None


def compile_having(doc: Any, measures, params, errors: Errors) -> Condition | None:
    """``having``: a condition over the plain measures' names (formulas are computed after SQL)."""
    if not doc:
        return None
    plain = {m.name: measure_kind(m) for m in measures if m.formula is None}
    unknown = sorted(leaf_fields(doc) - set(plain))
    for name in unknown:
        errors.add("having", f"'{name}' is not a measure (formulas cannot be used in having)")
    if unknown:
        return None
    return _parsed(doc, plain, "having", params, errors)


def having_problems(body: Mapping[str, Any]) -> dict[str, str]:
    """A report keeping groups by their figures has no rows over several groups (they would count groups it
    leaves out)."""
    if not body.get("having"):
        return {}
    problems = {}
    if body.get("totals", True):
        problems["totals"] = "a report with 'having' has no totals (set totals to false)"
    for key in ("subtotals", "pivot", "top", "compare"):
        if body.get(key):
            problems[key] = f"a report with 'having' has no {key}"
    return problems
