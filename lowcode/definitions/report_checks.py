"""Publish checks of reports (every path, parameter, measure and formula resolves against the app's entities
as the publish will have them: :func:`~lowcode.reports.model.compile_report` itself) and of the ``reports``
that roles grant (each a report of the app)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.reports.chart import chart_errors
from lowcode.reports.model import ReportInvalid, compile_report
from lowcode.reports.paths import document_shapes


def report_errors(doc: Mapping[str, Any], docs: AppDocuments) -> dict[str, list[str]]:
    """Every problem of one report at ``report:<name>/<JSON path>``."""
    prefix = f"report:{doc['name']}"
    charted = chart_errors(
        doc.get("chart"), doc.get("dimensions", []), doc.get("measures", []), doc.get("pivot")
    )
    errors = {f"{prefix}/chart" + (f"/{path}" if path else ""): msgs for path, msgs in charted.items()}
    try:
        compile_report("", doc, *document_shapes(docs))
    except ReportInvalid as exc:
        errors.update({f"{prefix}/{path}": list(messages) for path, messages in exc.fields.items()})
    return errors


def role_report_errors(role: Mapping[str, Any], docs: AppDocuments) -> dict[str, list[str]]:
    """A role's ``reports`` must be reports of the app."""
    known = set(docs.of("report"))
    return {
        f"role:{role['name']}/reports/{i}": [f"unknown report '{name}'"]
        for i, name in enumerate(role.get("reports", []))
        if name not in known
    }
