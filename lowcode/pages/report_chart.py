"""The data of a report's chart, from its :class:`~lowcode.reports.result.ReportResult`: categories (the
values of the chart's dimension, labelled for the reader), one series per measure drawn - split by the
pivot's values and by the other row dimensions, so that every point is exactly one result cell - each point
with its number (exact text; the browser only draws it), its formatted text and its drill-down address.
Nothing is computed here that the report did not answer; ``static/charts.js`` draws it with ECharts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from lowcode.core.number_styles import format_number
from lowcode.fields.base import normalise_label, pick_label
from lowcode.reports.cells import cell_to_text
from lowcode.reports.chart import ChartSpec
from lowcode.reports.model import CompiledReport
from lowcode.reports.params import jsonable
from lowcode.reports.result import ReportResult, ResultColumn

MAX_POINTS = 200
"""Categories drawn at most (a longer result is cut; the table below shows every row)."""
MAX_SERIES = 24
"""Series drawn at most (one per measure, pivot value and value of the other row dimensions)."""
DrillUrl = Callable[[dict[str, Any]], str | None]


def label(value: Any, language: str, fallback: str) -> str:
    """A definition label in ``language``."""
    return pick_label(normalise_label(value, fallback), language, fallback) if value else fallback


def param_args(values: dict[str, Any]) -> dict[str, str]:
    """A run's parameter values as the report page's query arguments (an empty one kept: "no value")."""
    args: dict[str, str] = {}
    for name, value in jsonable(values).items():
        if isinstance(value, dict):
            for part in ("from", "to"):
                args[f"param.{name}.{part}"] = value.get(part) or ""
        else:
            args[f"param.{name}"] = "" if value is None else str(value)
    return args


def drill_url(report: CompiledReport, values: dict[str, Any]) -> DrillUrl:
    """``cell -> address`` of the drill-down of a run with the parameter ``values``."""
    args = param_args(values)

    def address(cell: dict[str, Any]) -> str:
        return url_for(
            "pages.report_drill", app=report.app, name=report.name, cell=cell_to_text(cell), **args
        )

    return address


def dimension_text(column: ResultColumn | None, value: Any, language: str) -> str:
    """A dimension value as the reader reads it (a select value by its label; empty as "(empty)")."""
    if value is None:
        return _("(empty)")
    if column is not None and str(value) in column.choices:
        return label(column.choices[str(value)], language, str(value))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def chart_model(
    result: ReportResult, report: CompiledReport, spec: ChartSpec, language: str, drill: DrillUrl
) -> dict[str, Any]:
    """The chart's JSON for ``static/charts.js`` (``drill(cell)``: the address of the records behind a cell)."""
    measure_labels = {m.name: label(m.label, language, m.name) for m in report.measures}
    columns = {c.key: c for c in result.columns}
    model: dict[str, Any] = {"type": spec.type, "categories": [], "series": [], "empty": _("No data")}
    if spec.type == "number":
        model["number"] = _number(result, report, spec, measure_labels, language, drill)
        return model
    if spec.type == "table" or spec.x is None:
        return model
    rows = [r for r in result.rows if r.level == "row"][: MAX_POINTS * 20]
    x_col = columns.get(spec.x)
    rest = [d.name for d in report.row_dimensions if d.name != spec.x]
    many = len(spec.series) > 1
    categories: dict[Any, int] = {}
    series: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = row.values.get(spec.x)
        if key not in categories:
            if len(categories) >= MAX_POINTS:
                continue
            categories[key] = len(categories)
        index = categories[key]
        split = tuple(row.values.get(n) for n in rest)
        for column in _measure_columns(result, spec, report.pivot is not None):
            sid = (split, column.key)
            if sid not in series:
                series[sid] = {
                    "name": _series_name(
                        result, report, column, split, rest, columns, measure_labels, language, many
                    ),
                    "points": {},
                }
            value = row.values.get(column.key)
            if value is None:
                continue
            cell = dict(row.cell)
            if column.pivot_index is not None and column.pivot_index != "total":
                cell[report.pivot] = result.pivot_header[column.pivot_index]
            series[sid]["points"][index] = {
                "value": str(value),
                "text": _format(column, value, language),
                "drill": drill(cell),
            }
    order = list(categories)
    if report.row_dimensions and spec.x != report.row_dimensions[0].name:
        order.sort(key=lambda k: (k is None, k))  # an inner dimension: its values in their own order
    model["categories"] = [dimension_text(x_col, k, language) for k in order]
    model["series"] = [
        {"name": s["name"], "points": [s["points"].get(categories[k]) for k in order]}
        for s in series.values()
    ][:MAX_SERIES]
    every_row = [r for r in result.rows if r.level == "row"]
    cut = (
        len(series) > MAX_SERIES
        or len(rows) < len(every_row)
        or len(categories) < len({r.values.get(spec.x) for r in every_row})
    )
    model["truncated"] = result.truncated or cut
    model["note"] = _("Only part of the result is drawn: the report's table shows all of it.")
    return model


def _measure_columns(result: ReportResult, spec: ChartSpec, pivoted: bool) -> list[ResultColumn]:
    """The result columns of the drawn measures: under a pivot one per pivot value (a pie: the total)."""
    wanted = set(spec.series)
    whole = pivoted and spec.type == "pie"
    return [
        c
        for c in result.columns
        if c.role == "measure" and c.measure in wanted and (c.pivot_index == "total") == whole
    ]


def _series_name(result, report, column, split, rest, columns, measure_labels, language, many) -> str:
    """A series' name: the other row dimensions' values, the pivot value, the measure (when several)."""
    parts = [dimension_text(columns.get(n), v, language) for n, v in zip(rest, split, strict=True)]
    if isinstance(column.pivot_index, int):
        value = result.pivot_header[column.pivot_index]
        parts.append(dimension_text(columns.get(report.pivot), value, language))
    if not parts or many:
        parts.append(measure_labels.get(column.measure, column.key))
    return " · ".join(parts)


def _number(result, report, spec, measure_labels, language, drill) -> dict[str, Any] | None:
    """The number card: the drawn measure's grand total (its total across pivot values)."""
    if result.totals is None or not spec.series:
        return None
    name = spec.series[0]
    key = f"{name}@total" if report.pivot else name
    column = next((c for c in result.columns if c.key == key), None)
    value = result.totals.values.get(key)
    return {
        "label": measure_labels.get(name, name),
        "value": None if value is None else str(value),
        "text": "–" if value is None or column is None else _format(column, value, language),
        "drill": drill({}),
    }


def _format(column: ResultColumn, value: Any, language: str) -> str:
    if column.style is None:
        return str(value)
    return format_number(value, column.style, language)
