"""What the report designer pages show: the app's reports (source, state), a new report's first draft, one
report's problems by JSON path (the publish's own checks, against the published entities) and the draft
compiled for its preview. No Flask here: :mod:`lowcode.designer.report_designer` renders these."""

from __future__ import annotations

from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.published import published_app_documents
from lowcode.definitions.report_checks import report_errors
from lowcode.definitions.validate import validate_document
from lowcode.designer.blueprint import DesignContext
from lowcode.errors import DefinitionInvalid
from lowcode.fields.base import normalise_label, pick_label
from lowcode.reports.model import CompiledReport, compile_report
from lowcode.reports.paths import compiled_shapes
from lowcode.runtime.context import WriteContext

KIND = "report"


def report_list(dc: DesignContext, language: str) -> list[dict[str, Any]]:
    """The app's reports (drafts included), by name."""
    rows = []
    for name, body in sorted(dc.workspace.docs.get(KIND, {}).items()):
        state = dc.history.state(KIND, name)
        rows.append(
            {
                "name": name,
                "label": pick_label(normalise_label(body.get("label"), name), language, name),
                "source": body.get("source", ""),
                "pending": state.pending,
                "published": state.published_version,
            }
        )
    return rows


def starter(name: str, source: str) -> dict[str, Any]:
    """A new report's first draft: a count of the source's records."""
    return {
        "schema_version": 1,
        "name": name,
        "label": {"en": name},
        "source": source,
        "dimensions": [],
        "measures": [{"name": "records", "agg": "count", "label": {"en": "Records", "zh-CN": "记录数"}}],
    }


def checked_report(ctx: WriteContext, app: str, name: str, body: Any) -> CompiledReport:
    """The body validated as a publish would (against the published entities) and compiled.

    :raises DefinitionInvalid: with every problem at ``report:<name>/<path>``."""
    validate_document(KIND, name, body)
    errors = report_errors(body, AppDocuments(published_app_documents(ctx.session, app)))
    if errors:
        raise DefinitionInvalid(f"The report '{name}' has problems", fields=errors)
    return compile_report(app, body, *compiled_shapes(ctx.snapshot.entities, app), version=0)
