"""``/api/reports/<app>``: the reports the caller may run; ``/api/reports/<app>/<name>?param.x=...``: one run
as JSON (decimals as exact strings); ``POST .../<name>/export.<csv|xlsx>?param.x=...``: the run as a file, or
a background job (202, ``/api/jobs/<id>``) for a large run - under the export grant, audited. A parameter that does not fit is a 400 naming it; a report the caller has
no grant for, or that reads data or fields hidden from them, a 403 (docs/REPORTS.md)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from lowcode.api.edge import services, unit_of_work
from lowcode.fields.base import normalise_label
from lowcode.jobs import store
from lowcode.reports.cache import CachedReportService
from lowcode.reports.export_files import mime_type, write_table
from lowcode.reports.export_service import ReportExportService, audit_export, queue_export
from lowcode.reports.params import params_from_query

bp = Blueprint("api_reports", __name__, url_prefix="/api/reports")


def report_service() -> CachedReportService:
    """The report service over the app's permission service and result cache."""
    return CachedReportService(services().permissions, services().report_cache)


@bp.get("/<app>")
def list_reports(app: str):
    """The app's published reports the caller may run."""
    with unit_of_work(write=False) as ctx:
        ctx.snapshot.app(app)
        found = report_service().runnable(ctx, app, required=True)
        data = [
            {
                "name": r.name,
                "label": normalise_label(r.label, r.name),
                "source": r.source,
                "params": [{"name": p.name, "type": p.type, "required": p.required} for p in r.params],
            }
            for r in found
        ]
    return jsonify({"data": data})


@bp.get("/<app>/<name>")
def run_report(app: str, name: str):
    """One run of a report with ``param.<name>`` (a date range: ``param.<name>.from`` / ``.to``)."""
    with unit_of_work(write=False) as ctx:
        result = report_service().run(ctx, app, name, params_from_query(request.args))
        body = result.to_json()
    return jsonify(body)


@bp.post("/<app>/<name>/export.<fmt>")
def export_report(app: str, name: str, fmt: str):
    """The run with ``param.<name>`` as a CSV/XLSX file in the caller's language; a run of more rows than
    ``REPORT_EXPORT_BACKGROUND_ROWS`` is queued: 202 with the job (``/api/jobs/<id>``, its ``/result``)."""
    service = ReportExportService(report_service())
    service.check_format(fmt)
    given = params_from_query(request.args)
    ip = request.remote_addr or ""
    with unit_of_work(write=False) as ctx:
        report = service.prepare(ctx, app, name)
        language = ctx.actor.language
        run = service.run(ctx, report, given, language)
        actor = ctx.actor
    rows = len(run.table.rows)
    if service.in_background(rows, services().settings):
        with unit_of_work(write=True) as ctx:
            job_id = queue_export(ctx.session, actor, app, name, fmt, given, language, ip)
            job = store.get_job(ctx.session, job_id).as_json()
        response = jsonify(job)
        response.status_code = 202
        response.headers["Location"] = f"/api/jobs/{job_id}"
        return response
    content = write_table(run.table, fmt)
    with services().db.write() as session:
        audit_export(session, actor, report, run.params, rows, fmt, ip)
    disposition = f'attachment; filename="{app}-{name}.{fmt}"'.encode("ascii", "replace").decode()
    return Response(
        content,
        mimetype=mime_type(fmt),
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )
