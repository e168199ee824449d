"""What a report run answers: columns (labels, kinds, number styles), rows (plain, subtotal, others), the
totals row and the pivot header; as JSON with exact decimal strings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lowcode.core.number_styles import NumberStyle

LEVELS = ("row", "subtotal", "others", "total")


@dataclass(frozen=True)
class ResultColumn:
    """One column: a dimension (``role`` "dimension") or a measure, for one pivot value (``pivot_index``;
    ``"total"`` for the total across pivot values; None without a pivot)."""

    key: str
    label: Any
    role: str
    kind: str | None
    style: NumberStyle | None = None
    measure: str | None = None
    pivot_index: int | str | None = None
    choices: dict[str, Any] = field(default_factory=dict)
    """Select fields: stored value -> label (``{en, zh-CN}``)."""


@dataclass
class ResultRow:
    """One row: ``values`` by column key; ``cell`` the row's dimension values by dimension name (what
    :meth:`ReportService.drill_condition` reads; a subtotal has the first dimension only)."""

    level: str
    values: dict[str, Any]
    cell: dict[str, Any]


@dataclass
class ReportResult:
    """The answer of one run."""

    report: str
    label: Any
    columns: list[ResultColumn]
    rows: list[ResultRow]
    totals: ResultRow | None
    pivot_header: list[Any]
    """The pivot dimension's values, one per group of measure columns (None: empty value)."""
    pivot: str | None
    params: dict[str, Any]
    truncated: bool = False
    statements: int = 0
    """How many SELECTs the run took (one per grouping: rows, subtotals, others, totals)."""

    def to_json(self) -> dict[str, Any]:
        """The API's answer: numbers and dates as text (decimals exact, with the field's scale)."""
        return {
            "report": self.report,
            "label": self.label,
            "params": {k: _text(v) for k, v in self.params.items()},
            "columns": [
                {
                    "key": c.key,
                    "label": c.label,
                    "role": c.role,
                    "kind": c.kind,
                    "measure": c.measure,
                    "pivot": c.pivot_index,
                    "style": None
                    if c.style is None
                    else {
                        "places": c.style.max_places,
                        "currency": c.style.currency,
                        "suffix": c.style.suffix,
                    },
                }
                for c in self.columns
            ],
            "pivot": None
            if self.pivot is None
            else {"dimension": self.pivot, "values": [_text(v) for v in self.pivot_header]},
            "rows": [_row(r) for r in self.rows],
            "totals": None if self.totals is None else _row(self.totals),
            "truncated": self.truncated,
        }


def _row(row: ResultRow) -> dict[str, Any]:
    return {"level": row.level, "values": {k: _text(v) for k, v in row.values.items()}}


def _text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
