"""The ``compare`` part of a report definition (a second source, :mod:`lowcode.reports.compare`): its body
as a report of its own, and what must hold between it and the report - checked at publish."""

from __future__ import annotations

from collections.abc import Mapping
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


def compare_problems(body: Mapping[str, Any], other_dims: list[str], other_measures: list[str]) -> dict[str, str]:
    """What does not fit between a report and its second source (by JSON path)."""
    problems: dict[str, str] = {}
    dims = [d["name"] for d in body.get("dimensions", [])]
    if other_dims != dims:
        problems["compare/dimensions"] = f"the dimensions must be the report's, by name and order ({', '.join(dims)})"
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
