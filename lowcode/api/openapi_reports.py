"""OpenAPI paths of the reports a caller may run: one GET each, its parameters as ``param.<name>`` query
arguments (a date range as ``param.<name>.from`` / ``.to``)."""

from __future__ import annotations

from typing import Any

from lowcode.api.openapi_paths import ERRORS
from lowcode.reports.model import CompiledReport

_SCHEMAS = {
    "date": {"type": "string", "format": "date"},
    "link": {"type": "integer", "minimum": 1},
    "number": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"},
    "text": {"type": "string", "maxLength": 200},
    # a number of days before today, or a date as it is
    "days_ago": {"type": "string", "pattern": "^([0-9]{1,6}|[0-9]{4}-[0-9]{2}-[0-9]{2})$"},
}


def _parameters(report: CompiledReport) -> list[dict[str, Any]]:
    out = []
    for p in report.params:
        if p.type == "date_range":
            for part in ("from", "to"):
                out.append({"name": f"param.{p.name}.{part}", "in": "query", "schema": _SCHEMAS["date"]})
            continue
        schema = (
            {"type": "string", "enum": [v for v, _ in p.choices]} if p.type == "choice" else _SCHEMAS[p.type]
        )
        out.append(
            {
                "name": f"param.{p.name}",
                "in": "query",
                "required": p.required and p.default is None,
                "schema": schema,
            }
        )
    return out


def report_paths(reports: list[CompiledReport]) -> dict[str, Any]:
    """``/api/reports/<app>/<name>`` of each report (the caller may run them)."""
    paths: dict[str, Any] = {}
    for r in reports:
        paths[f"/api/reports/{r.app}/{r.name}"] = {
            "get": {
                "tags": ["reports"],
                "summary": f"Run the report {r.name} (grouped rows, totals; decimals as strings)",
                "parameters": _parameters(r),
                "responses": {"200": {"description": "The report's columns, rows and totals"}, **ERRORS},
            }
        }
    return paths
