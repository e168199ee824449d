"""Drill-down: the records behind one cell of a report, as a condition a list page can apply.

The records are found by the report's own FROM and WHERE (the reader's record rules, the filter with the same
parameters) plus the cell's dimension values, so a drill never shows a record the cell did not count. The
answer names the entity whose list to open - the source, or for a report over a child table the record
holding its rows - and ``{"field": "id", "op": "in", "value": [...]}`` (at most
:data:`~lowcode.conditions.model.MAX_LIST` ids; ``complete`` false when more matched)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lowcode.conditions.model import MAX_LIST
from lowcode.errors import BadRequest
from lowcode.reports.model import CompiledReport
from lowcode.reports.query import ReportQuery


@dataclass(frozen=True)
class Drill:
    """The entity whose records a cell counts and the condition selecting them."""

    entity: str
    condition: dict[str, Any]
    complete: bool


def drill_statement(
    query: ReportQuery, report: CompiledReport, cell: Mapping[str, Any]
) -> tuple[sa.Select, str]:
    """The SELECT of the ids behind ``cell`` and the entity they are of: ``cell`` (dimension name -> value as in ``ResultRow.cell``; a dimension left out
    is not restricted, as in a subtotal). :raises BadRequest: for a name that is not a dimension."""
    dims = {d.name: d for d in report.dimensions}
    unknown = sorted(set(cell) - set(dims))
    if unknown:
        raise BadRequest(f"'{unknown[0]}' is not a dimension of the report '{report.name}'")
    where = []
    for name, value in cell.items():
        expr = query.dimension(dims[name])
        where.append(expr.is_(None) if value is None else expr == value)
    if report.parent_path is not None:
        entity, key = report.parent_path.entity, query.column(report.parent_path)
    else:
        entity, key = report.source, query.joins[""].alias.c.id
    stmt = (
        sa.select(key)
        .distinct()
        .select_from(query.from_)
        .where(*query.where, *where)
        .order_by(key)
        .limit(MAX_LIST + 1)
    )
    return stmt, entity


def finish(ids: list[int], entity: str) -> Drill:
    """The answer from the ids found (one more than the cap means there were more)."""
    return Drill(entity, {"field": "id", "op": "in", "value": ids[:MAX_LIST]}, len(ids) <= MAX_LIST)
