"""The ``compare`` part of a report definition (a second source, :mod:`lowcode.reports.compare`): its body
as a report of its own, and what must hold between it and the report - checked at publish."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def compare_body(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The second source as a report body of its own (the report's name and parameters), or None."""
    other = body.get("compare")
    if not other:
        return None
    return {
        "name": body["name"],
        "source": other["source"],
        "params": body.get("params", []),
        **({"filter": other["filter"]} if other.get("filter") else {}),
        "dimensions": other.get("dimensions", []),
        "measures": other["measures"],
    }


def compare_problems(
    body: Mapping[str, Any], other_dims: list[str], other_measures: list[str]
) -> dict[str, str]:
    """What does not fit between a report and its second source (by JSON path)."""
    problems: dict[str, str] = {}
    dims = [d["name"] for d in body.get("dimensions", [])]
    if other_dims != dims:
        problems["compare/dimensions"] = (
            f"the dimensions must be the report's, by name and order ({', '.join(dims)})"
        )
    own = {m["name"] for m in body.get("measures", [])}
    for i, name in enumerate(other_measures):
        if name in own:
            problems[f"compare/measures/{i}/name"] = f"'{name}' is a measure of the report already"
    for key in ("pivot", "top"):
        if body.get(key):
            problems[key] = "a report with a second source ('compare') has no pivot or top-N"
    if body.get("subtotals"):
        problems["subtotals"] = "a report with a second source ('compare') has no subtotals"
    return problems


def compile_compare(
    compile_report: Callable[..., Any], app: str, body, shapes, names, version: int, errors
) -> Any:
    """The second source compiled (by ``compile_report``) as a report of its own - its problems added to
    ``errors`` under ``compare/`` - or None (no second source, or one that does not fit)."""
    from lowcode.reports.model import ReportInvalid

    other_body = compare_body(body)
    if other_body is None:
        return None
    try:
        other = compile_report(app, other_body, shapes, names, version)
    except ReportInvalid as exc:
        for where, messages in exc.fields.items():
            key = "compare/source" if where == "source" else f"compare/{where}"
            for message in messages:
                errors.add(key, message)
        return None
    problems = compare_problems(body, [d.name for d in other.dimensions], [m.name for m in other.measures])
    for where, message in problems.items():
        errors.add(where, message)
    return other
