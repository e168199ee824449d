"""The background export of a large report run (kind ``report_export``): the report run again as the job's
owner (their grants and record rules at the time the job runs), then written in slices of :data:`CHUNK`
rows, each slice a checkpoint recording progress (rows written of the total) - CSV slices kept as result
parts as they are written, an XLSX workbook kept whole with the last slice, together with the audit event.
A job that stops (its runner died) is started again from the first row: its parts are rewritten in place.
Only the owner downloads the result (:mod:`lowcode.pages.report_export`)."""

from __future__ import annotations

from lowcode.jobs.kinds import JobKind
from lowcode.jobs.runner import JobHandle
from lowcode.reports.export_files import WRITERS
from lowcode.reports.export_service import ReportExportService, audit_export
from lowcode.reports.service import ReportService

KIND = "report_export"
CHUNK = 500


class ReportExportJob(JobKind):
    """Kind ``report_export``: params ``report``, ``format``, ``given`` (raw parameters), ``language``,
    ``ip`` (of the request that started it, for the audit)."""

    name = KIND

    def run(self, handle: JobHandle) -> str:
        """Run the report as the owner and write its file; returns the file's name."""
        params = handle.job.params
        service = ReportExportService(ReportService(handle.services.permissions))
        fmt = params["format"]
        with handle.read() as ctx:
            report = service.prepare(ctx, handle.job.app, params["report"])
            run = service.run(ctx, report, params.get("given") or {}, params.get("language") or "en")
        table = run.table
        writer = WRITERS[fmt](table)
        total, done, part = len(table.rows), 0, 0
        while True:
            stop = min(done + CHUNK, total)
            data = writer.add(done, stop)
            last = stop >= total
            if last:
                data += writer.finish()
            with handle.chunk() as ctx:
                if last:
                    audit_export(
                        ctx.session,
                        ctx.actor,
                        report,
                        run.params,
                        total,
                        fmt,
                        params.get("ip", ""),
                        handle.job.id,
                    )
                handle.checkpoint(ctx, stop, {"rows": stop}, total, (part, data) if data else None)
            part += 1 if data else 0
            done = stop
            if last:
                return f"{report.app}-{report.name}.{fmt}"
