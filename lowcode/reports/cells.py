"""A result cell as it travels through a drill-down address: ``{dimension: value}`` as JSON (the page writes
it from ``ResultRow.cell``), read back with each dimension's own type (a bucket key as text, a link as its
id, a date as a date), so the drill's WHERE compares like with like on both databases. Bad input is a 400."""

from __future__ import annotations

import json
from typing import Any

from lowcode.conditions.model import coerce
from lowcode.errors import BadRequest
from lowcode.reports.model import CompiledReport

MAX_CELL_CHARS = 2000


def cell_to_text(cell: dict[str, Any]) -> str:
    """``ResultRow.cell`` as compact JSON (dates as ISO text, decimals as text)."""
    return json.dumps(cell, default=_plain, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _plain(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def read_cell(report: CompiledReport, text: str) -> dict[str, Any]:
    """The cell ``text`` names, each value typed as its dimension. :raises BadRequest: naming what is wrong."""
    if len(text) > MAX_CELL_CHARS:
        raise BadRequest(f"The cell is longer than {MAX_CELL_CHARS} characters")
    try:
        raw = json.loads(text or "{}")
    except ValueError:
        raise BadRequest("The cell must be a JSON object of dimension values") from None
    if not isinstance(raw, dict):
        raise BadRequest("The cell must be a JSON object of dimension values")
    dims = {d.name: d for d in report.dimensions}
    cell: dict[str, Any] = {}
    for name, value in raw.items():
        dim = dims.get(name)
        if dim is None:
            raise BadRequest(f"'{name}' is not a dimension of the report '{report.name}'")
        if value is None:
            cell[name] = None
            continue
        kind = "text" if dim.bucket else (dim.path.kind or "text")
        try:
            cell[name] = coerce(kind if kind in _KINDS else "text", value)
        except (ValueError, TypeError) as exc:
            raise BadRequest(f"The cell's '{name}': {exc}") from None
    return cell


_KINDS = frozenset({"text", "boolean", "integer", "decimal", "date", "datetime"})
