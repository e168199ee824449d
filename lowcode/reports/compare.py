"""Reports over two sources: ``compare`` - a second source (its own filter, the same dimensions by name and
order, measures of its own) grouped alike and matched to the report's rows on the dimension values, so a
formula can set one source against the other (seed 002's business-finance difference: deliveries per day
against revenue vouchers per day). Each source is one GROUP BY with its reader's rules (as any report); the
grouped rows are matched in Python - a full outer match: a value found in one source only is a row with the
other's sums and counts as 0 (nothing of it), its averages, minimums and maximums empty.

A report with ``compare`` has no pivot, top-N or subtotals (publish check), and its rows are in dimension
order. Drill-down opens the first source's records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from lowcode.reports import assemble
from lowcode.reports.query import MAX_ROWS, ReportQuery
from lowcode.reports.result import ReportResult, ResultRow

ZERO_WHEN_ABSENT = frozenset({"sum", "count", "count_distinct"})


def combined(report) -> Any:
    """The report as its result shows it: its own plain measures, the second source's, then its formulas."""
    plain = [m for m in report.measures if m.formula is None]
    formulas = [m for m in report.measures if m.formula is not None]
    return replace(report, measures=tuple(plain + list(report.compare.measures) + formulas))


def _zero(measure: Any, style_of: Callable[[Any], Any]) -> Any:
    """Nothing of a sum or count: 0 at the measure's scale (``0.00`` for money)."""
    if measure.agg != "sum":
        return 0
    style = style_of(measure)
    places = style.max_places if style is not None else 0
    return Decimal(0).scaleb(-places) if places else 0


def run_compare(
    session: Any,
    report: Any,
    values: dict[str, Any],
    query_of: Callable[[Any], ReportQuery],
    style_of: Callable[[Any], Any],
    choices_of: Callable[[Any], dict[str, Any]],
) -> ReportResult:
    """Run both sources and match their groups into one result (see the module docstring)."""
    view = combined(report)
    names = [d.name for d in report.dimensions]
    rows: dict[tuple, dict[str, Any]] = {}
    totals: dict[str, Any] = {}
    statements = 0
    truncated = False
    for part in (report, report.compare):
        query = query_of(part)
        plain = [m for m in part.measures if m.formula is None]
        grouped = session.execute(query.grouped(tuple(part.dimensions), limit=MAX_ROWS + 1)).all()
        truncated = truncated or len(grouped) > MAX_ROWS
        for row in grouped[:MAX_ROWS]:
            key = tuple(row[: len(names)])
            rows.setdefault(key, {}).update({m.name: row[len(names) + i] for i, m in enumerate(plain)})
        if report.totals:
            whole = session.execute(query.grouped(())).one()
            totals.update({m.name: whole[i] for i, m in enumerate(plain)})
        statements += 2 if report.totals else 1
    absent = {m.name: _zero(m, style_of) for m in view.measures if m.agg in ZERO_WHEN_ABSENT}
    ordered = sorted(rows, key=lambda k: tuple((v is None, "" if v is None else v) for v in k))
    if report.sort and report.sort[0][1] and report.sort[0][0] in names:
        ordered.reverse()
    result_rows = []
    for key in ordered[:MAX_ROWS]:
        cell = dict(zip(names, key, strict=True))
        result_rows.append(ResultRow("row", {**cell, **absent, **rows[key]}, cell))
    total_row = ResultRow("total", {**absent, **totals}, {}) if report.totals else None
    assemble.finish(view, [], result_rows + ([total_row] if total_row else []))
    return ReportResult(
        report.name,
        report.label,
        assemble.columns(view, [], style_of, choices_of),
        result_rows,
        total_row,
        [],
        None,
        values,
        truncated or len(ordered) > MAX_ROWS,
        statements,
    )
