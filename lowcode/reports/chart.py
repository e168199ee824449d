"""Chart specs: how a report's result is drawn (bar, line, pie, table, number card; a registry of chart types).

A report may declare its default chart (``"chart": {"type": "bar", "x": "<dimension>", "series":
["<measure>", ...]}``) and a dashboard widget may choose another. :func:`chart_spec` fills what is left out
(the first row dimension, the first measure) and :func:`chart_errors` is the publish check of one chart
against the report's dimensions and measures. Drawing is the page's job (``pages/report_chart.py`` builds
the data, ``static/charts.js`` renders it with ECharts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lowcode.registry import Registry

MAX_SERIES = 8


@dataclass(frozen=True)
class ChartType:
    """What a chart type needs: a category dimension (``needs_x``) and how many measures it draws."""

    name: str
    needs_x: bool
    max_series: int


chart_types: Registry[ChartType] = Registry("chart type")


def register_chart_types(registry: Registry[ChartType] = chart_types) -> None:
    """The built-in chart types (called once from ``register_builtins``; idempotent)."""
    for kind in (
        ChartType("bar", True, MAX_SERIES),
        ChartType("line", True, MAX_SERIES),
        ChartType("pie", True, 1),
        ChartType("number", False, 1),
        ChartType("table", False, MAX_SERIES),
    ):
        if kind.name not in registry:
            registry.register(kind.name, kind)


register_chart_types()


@dataclass(frozen=True)
class ChartSpec:
    """A chart of a report: its type, the dimension along the category axis (None: the totals) and the
    measures drawn."""

    type: str
    x: str | None
    series: tuple[str, ...]


def _names(items: Sequence[Any]) -> list[str]:
    return [i["name"] if isinstance(i, Mapping) else i.name for i in items]


def chart_spec(
    doc: Mapping[str, Any] | str | None,
    dimensions: Sequence[Any],
    measures: Sequence[Any],
    pivot: str | None = None,
) -> ChartSpec:
    """The chart ``doc`` asks for (a type name alone, a ``{type, x, series}`` object, or None: the report's
    table), with the first row dimension and the first measure filling what it leaves out. ``dimensions`` and
    ``measures`` are documents or compiled ones (anything with names)."""
    if doc is None:
        doc = {"type": "table"}
    elif isinstance(doc, str):
        doc = {"type": doc}
    kind = chart_types.get(doc["type"]) if doc.get("type") in chart_types else chart_types.get("table")
    rows = [n for n in _names(dimensions) if n != pivot]
    x = doc.get("x") or (rows[0] if rows and kind.needs_x else None)
    series = tuple(doc.get("series") or _names(measures)[: 1 if kind.max_series == 1 else kind.max_series])
    return ChartSpec(kind.name, x if kind.needs_x else None, series)


def chart_errors(
    doc: Any, dimensions: Sequence[Any], measures: Sequence[Any], pivot: str | None = None
) -> dict[str, list[str]]:
    """The problems of one chart (``doc`` as in :func:`chart_spec`), by path within it (``""``: the chart
    itself, ``"x"``, ``"series/1"``)."""
    if doc is None:
        return {}
    doc = {"type": doc} if isinstance(doc, str) else doc
    if doc.get("type") not in chart_types:
        return {"type": [f"unknown chart type '{doc.get('type')}' (known: {', '.join(chart_types.keys())})"]}
    kind = chart_types.get(doc["type"])
    errors: dict[str, list[str]] = {}
    rows = [n for n in _names(dimensions) if n != pivot]
    x = doc.get("x")
    if x is not None and not kind.needs_x:
        errors["x"] = [f"a {kind.name} chart has no category dimension"]
    elif x is not None and x not in rows:
        errors["x"] = [f"'{x}' is not a row dimension of the report"]
    elif x is None and kind.needs_x and not rows:
        errors[""] = [f"a {kind.name} chart needs a row dimension; the report has none"]
    known = set(_names(measures))
    series = list(doc.get("series") or [])
    for i, name in enumerate(series):
        if name not in known:
            errors[f"series/{i}"] = [f"'{name}' is not a measure of the report"]
    if len(series) > kind.max_series:
        errors["series"] = [f"a {kind.name} chart draws at most {kind.max_series} measure(s)"]
    return errors
