"""The grouped rows of a run's SELECTs put together as a :class:`ReportResult`: pivot values as column groups,
subtotal rows after each value of the first dimension, the "others" row, totals, and the formulas over the
measures (exact ``Decimal``; division by zero or a missing value gives no value)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lowcode.core.number_styles import NumberStyle
from lowcode.errors import ExpressionEvaluationError
from lowcode.reports.model import CompiledReport, Measure
from lowcode.reports.result import ResultColumn, ResultRow

MAX_PIVOT = 60
"""Most pivot values shown as column groups."""

Fetched = list[tuple[tuple[Any, ...], dict[str, Any]]]
"""Rows of one grouped SELECT: (dimension values, {measure name: value})."""


def pivot_values(main: Fetched, order: Callable[[Any], Any] | None = None) -> list[Any]:
    """The pivot dimension's values in the rows (last dimension of each), sorted (by ``order``), empty last."""
    found = {dims[-1] for dims, _ in main}
    ordered = sorted((v for v in found if v is not None), key=order or (lambda v: (str(type(v)), v)))
    return (ordered + ([None] if None in found else []))[:MAX_PIVOT]


def suffixes(report: CompiledReport, header: list[Any]) -> list[str]:
    """The column-key suffixes of the measure groups: ``""`` without pivot, else ``@<i>`` and ``@total``."""
    if report.pivot is None:
        return [""]
    return [f"@{i}" for i in range(len(header))] + ["@total"]


def columns(
    report: CompiledReport, header: list[Any], style_of: Callable[[Measure], NumberStyle | None], choices_of
) -> list[ResultColumn]:
    """The dimension columns, then each measure per pivot value (or once)."""
    cols = [
        ResultColumn(
            d.name, d.label, "dimension", d.path.kind if not d.bucket else "text", choices=choices_of(d)
        )
        for d in report.row_dimensions
    ]
    for suffix in suffixes(report, header):
        index = None if not suffix else ("total" if suffix == "@total" else int(suffix[1:]))
        for m in report.measures:
            kind = "decimal" if m.formula is not None or m.agg in ("sum", "avg") else "integer"
            if m.agg in ("min", "max") and m.path is not None:
                kind = m.path.kind
            cols.append(ResultColumn(m.name + suffix, m.label, "measure", kind, style_of(m), m.name, index))
    return cols


def place(
    report: CompiledReport,
    header: list[Any],
    fetched: Fetched,
    level: str,
    width: int,
    pivot_in_dims: bool,
    into: dict[tuple, ResultRow],
) -> None:
    """Put one SELECT's rows into ``into`` (by their row key): ``width`` row dimensions lead each row's dims,
    then the pivot value when ``pivot_in_dims``; measures land in that pivot value's columns (else ``@total``
    / plain)."""
    names = [d.name for d in report.row_dimensions]
    for dims, measures in fetched:
        key = (level, *dims[:width])
        if key not in into:
            cell = dict(zip(names[:width], dims[:width], strict=True))
            values = dict(cell)
            into[key] = ResultRow(level, values, cell)
        row = into[key]
        if report.pivot is None:
            suffix = ""
        elif pivot_in_dims:
            if dims[-1] not in header:
                continue
            suffix = f"@{header.index(dims[-1])}"
        else:
            suffix = "@total"
        for name, value in measures.items():
            row.values[name + suffix] = value


def finish(report: CompiledReport, header: list[Any], rows: Sequence[ResultRow]) -> None:
    """Compute each row's formulas for each measure group."""
    formulas = [m for m in report.measures if m.formula is not None]
    if not formulas:
        return
    for row in rows:
        for suffix in suffixes(report, header):
            names = {m.name: row.values.get(m.name + suffix) for m in report.measures}
            for m in formulas:
                value = formula_value(m, names)
                names[m.name] = value
                row.values[m.name + suffix] = value


def formula_value(m: Measure, names: dict[str, Any]) -> Decimal | None:
    """A formula over one row's measures, rounded half up to its scale (None: a value missing, a division
    by zero or anything else that gives no number)."""
    if any(names.get(n) is None for n in m.formula.names):
        return None
    try:
        value = m.formula.evaluate({n: Decimal(v) if isinstance(v, int) else v for n, v in names.items()})
    except (ExpressionEvaluationError, ArithmeticError, TypeError):
        return None
    if not isinstance(value, Decimal):
        return None
    return value.quantize(Decimal(1).scaleb(-m.scale), rounding=ROUND_HALF_UP)


def ordered_rows(report: CompiledReport, rows: dict[tuple, ResultRow]) -> list[ResultRow]:
    """Plain rows in query order, each value of the first dimension followed by its subtotal, then others."""
    plain = [r for k, r in rows.items() if k[0] == "row"]
    subtotals = {k[1]: r for k, r in rows.items() if k[0] == "subtotal"}
    out: list[ResultRow] = []
    first = report.row_dimensions[0].name if report.row_dimensions else None
    for i, row in enumerate(plain):
        out.append(row)
        value = row.cell.get(first)
        last_of_group = i + 1 == len(plain) or plain[i + 1].cell.get(first) != value
        if last_of_group and value in subtotals:
            out.append(subtotals.pop(value))
    out += [r for k, r in rows.items() if k[0] == "others"]
    return out
