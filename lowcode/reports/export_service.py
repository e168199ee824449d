"""Export of a report run: who may (the report's grant, its data, and the ``export`` grant - the rule of list
exports - on each entity whose records it counts), the run laid out as a sheet in the reader's language,
the file, and the audit event (who, which report, the parameters as read, the row count, the format).

A run with more rows than ``REPORT_EXPORT_BACKGROUND_ROWS`` is exported by a background job
(:mod:`lowcode.reports.export_job`); the caller decides with :meth:`ReportExportService.in_background`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lowcode.auth.security_log import log_event
from lowcode.errors import BadRequest
from lowcode.reports.export_files import FORMATS
from lowcode.reports.export_table import ExportTable, Words, export_table
from lowcode.reports.model import CompiledReport
from lowcode.reports.params import jsonable
from lowcode.reports.service import ReportService
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext

BACKGROUND_ROWS = 1000
"""Default of the ``REPORT_EXPORT_BACKGROUND_ROWS`` setting: larger runs are exported by a background job."""
PRINT = "print"
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


@functools.lru_cache(maxsize=8)
def words_for(language: str) -> Words:
    """The catalogue's translation of a sheet's fixed words, outside a request too (background jobs)."""
    from babel.support import Translations

    return Translations.load(str(TRANSLATIONS), [language]).gettext


@dataclass
class ExportRun:
    """A run ready to write: the report, its parameters as read and the sheet."""

    report: CompiledReport
    params: dict[str, Any]
    table: ExportTable


class ReportExportService:
    """Authorizes, runs and audits report exports."""

    def __init__(self, reports: ReportService):
        self.reports = reports

    def export_entities(self, ctx: WriteContext, report: CompiledReport) -> list[CompiledEntity]:
        """The entities whose ``export`` grant an export needs: each source (a child table: its record)."""
        names = []
        for part in (report, getattr(report, "compare", None)):
            if part is not None:
                names.append(part.parent_path.entity if part.parent_path is not None else part.source)
        return [ctx.snapshot.entity(report.app, n) for n in dict.fromkeys(names)]

    def authorize(self, ctx: WriteContext, report: CompiledReport) -> None:
        """:raises PermissionDenied: the reader may not run the report, or has no ``export`` grant on a
        source (or a sensitive operation on it refuses)."""
        self.reports.authorize(ctx, report)
        for entity in self.export_entities(ctx, report):
            self.reports.permissions.authorize_operation(ctx.actor, entity, "export")

    def prepare(self, ctx: WriteContext, app: str, name: str) -> CompiledReport:
        """The report, authorized for export. :raises NotFound: :raises PermissionDenied:"""
        report = ctx.snapshot.report(app, name)
        self.authorize(ctx, report)
        return report

    def run(
        self, ctx: WriteContext, report: CompiledReport, given: Mapping[str, Any], language: str
    ) -> ExportRun:
        """Run an authorized report and lay it out. :raises BadRequest: a parameter that does not fit."""
        result = self.reports.run_compiled(ctx, report, given)
        table = export_table(report, result, language, words_for(language))
        return ExportRun(report, jsonable(result.params), table)

    @staticmethod
    def check_format(fmt: str) -> None:
        """:raises BadRequest: not ``csv`` or ``xlsx``."""
        if fmt not in FORMATS:
            raise BadRequest(f"Reports are exported as {', '.join(FORMATS)}, not '{fmt}'")

    @staticmethod
    def in_background(rows: int, settings: Mapping[str, Any]) -> bool:
        """Whether a run of ``rows`` rows is exported by a background job."""
        limit = int(settings.get("REPORT_EXPORT_BACKGROUND_ROWS") or BACKGROUND_ROWS)
        return rows > limit


def queue_export(
    session: Session,
    actor: Any,
    app: str,
    name: str,
    fmt: str,
    given: Mapping[str, Any],
    language: str,
    ip: str,
) -> int:
    """Queue the background export of a large run (:mod:`lowcode.reports.export_job`); returns the job's id.
    Its file is its owner's alone (``owner_only``: administrators do not see the job either)."""
    from lowcode.jobs import store
    from lowcode.reports.export_job import KIND

    params = {"report": name, "format": fmt, "given": dict(given), "language": language, "ip": ip}
    params["owner_only"] = True
    return store.create_job(session, KIND, actor.username, app, params)


def audit_export(
    session: Session,
    actor: Any,
    report: CompiledReport,
    params: Mapping[str, Any],
    rows: int,
    fmt: str,
    ip: str,
    job: int | None = None,
) -> None:
    """Record the export (a ``data_exported`` security event) in ``session``'s transaction."""
    log_event(
        session,
        "data_exported",
        username=actor.username,
        user_id=actor.user_id,
        ip=ip,
        app=report.app,
        report=report.name,
        params=dict(params),
        rows=rows,
        format=fmt,
        job=job,
    )
