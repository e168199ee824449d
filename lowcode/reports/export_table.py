"""A report result laid out as a sheet for export: header rows (with a pivot, a row of pivot values spanning
their measures over the row of measure labels - the export is pivoted as the page is), then one row per result
row and the totals row. Dimension cells are text in the reader's language (select labels, "Total", "Subtotal",
"Others", "(empty)"); measure cells keep their exact values (``Decimal``, ``int``) with the number format of
their column, so a writer can store numbers as numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lowcode.core.number_styles import NumberStyle
from lowcode.fields.base import normalise_label, pick_label
from lowcode.reports.model import CompiledReport
from lowcode.reports.result import ReportResult, ResultColumn, ResultRow

Words = Callable[[str], str]
"""Translates the few fixed words of a sheet ("Total", "Subtotal", "Others", "(empty)") into the reader's
language."""


@dataclass(frozen=True)
class HeaderCell:
    """A header cell; ``span`` columns wide (pivot values over their measures)."""

    text: str
    span: int = 1


@dataclass
class ExportTable:
    """What a writer turns into a file: a title, header rows, body rows and each column's number format."""

    title: str
    header: list[list[HeaderCell]]
    rows: list[list[Any]]
    levels: list[str]
    """Each body row's level (``row``, ``subtotal``, ``others``, ``total``): writers may set them apart."""
    formats: list[str | None]
    """Per column: an Excel number format for measure columns (``#,##0.00``), None for text."""
    flagged: list[set[int]] = field(default_factory=list)
    """Per body row: the columns whose value is highlighted (a measure's ``highlight`` holds)."""

    @property
    def width(self) -> int:
        """Number of columns."""
        return len(self.formats)


def label(value: Any, language: str, fallback: str) -> str:
    """A definition label (plain text or ``{en, zh-CN}``) in ``language``."""
    return pick_label(normalise_label(value, fallback), language, fallback) if value else fallback


def number_format(style: NumberStyle | None) -> str | None:
    """The spreadsheet number format of a measure's style (the field's scale: ``#,##0.00``)."""
    if style is None:
        return None
    fmt = style.pattern()
    if style.suffix:
        fmt += '"' + style.suffix.replace('"', "") + '"'
    return fmt


def export_table(report: CompiledReport, result: ReportResult, language: str, words: Words) -> ExportTable:
    """Lay ``result`` (a run of ``report``) out as a sheet for ``language``."""
    dims = [c for c in result.columns if c.role == "dimension"]
    measures = [c for c in result.columns if c.role == "measure"]
    names = {m.name: label(m.label, language, m.name) for m in report.shown_measures}
    header: list[list[HeaderCell]] = []
    if result.pivot is not None:
        width = len(report.measures)
        groups = [HeaderCell("") for _ in dims]
        groups += [HeaderCell(_pivot_text(report, v, language, words), width) for v in result.pivot_header]
        groups.append(HeaderCell(words("Total"), width))
        header.append(groups)
    header.append(
        [HeaderCell(label(c.label, language, c.key)) for c in dims]
        + [HeaderCell(names.get(c.measure or "", c.key)) for c in measures]
    )
    body = list(result.rows) + ([result.totals] if result.totals else [])
    highlight = {m.name: m.highlight for m in report.shown_measures if m.highlight}
    table = ExportTable(
        label(report.label, language, report.name),
        header,
        [],
        [],
        [None] * len(dims) + [number_format(c.style) for c in measures],
    )
    for row in body:
        table.rows.append(
            [_dim_text(row, i, c, language, words) for i, c in enumerate(dims)]
            + [row.values.get(c.key) for c in measures]
        )
        table.levels.append(row.level)
        table.flagged.append(_flagged(row, measures, highlight, len(dims)))
    return table


def _flagged(
    row: ResultRow, measures: list[ResultColumn], highlight: dict[str, Any], offset: int
) -> set[int]:
    from lowcode.reports.highlights import highlights

    out = set()
    for i, c in enumerate(measures):
        rule = highlight.get(c.measure or "")
        if rule and highlights.get(rule)(row.values.get(c.key)):
            out.add(offset + i)
    return out


def _dim_text(row: ResultRow, i: int, c: ResultColumn, language: str, words: Words) -> str:
    value = row.values.get(c.key)
    if row.level == "total" and i == 0:
        return words("Total")
    if row.level == "others" and i == 0:
        return words("Others")
    if row.level == "subtotal" and i == 1:
        return words("Subtotal")
    if value is None:
        return "" if row.level != "row" else words("(empty)")
    if str(value) in c.choices:
        return label(c.choices[str(value)], language, str(value))
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _pivot_text(report: CompiledReport, value: Any, language: str, words: Words) -> str:
    if value is None:
        return words("(empty)")
    dim = report.pivot_dimension
    compiled = dim.path.compiled if dim is not None and not dim.bucket else None
    choices = {
        str(c.get("value")): c.get("label")
        for c in (compiled.fdef.options.get("choices", []) if compiled is not None else [])
        if isinstance(c, dict)
    }
    if str(value) in choices:
        return label(choices[str(value)], language, str(value))
    return value.isoformat() if isinstance(value, dt.date) else str(value)
