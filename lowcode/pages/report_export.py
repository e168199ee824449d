"""Report export pages: a run as CSV or XLSX (POST from the report page's buttons: the file at once, or - more
rows than ``REPORT_EXPORT_BACKGROUND_ROWS`` - a background job whose progress page htmx refreshes until the
file can be downloaded, by the job's owner only) and the print view (a plain page with a print stylesheet;
PDF through the browser's "Print -> Save as PDF"). Every route needs the report's grant, its data and the
``export`` grant on its sources; every export and print is audited (``data_exported``)."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request, url_for

from lowcode.api.edge import services, unit_of_work
from lowcode.errors import NotFound, PermissionDenied
from lowcode.jobs import store
from lowcode.pages.blueprint import bp
from lowcode.pages.edit import redirect_after_write
from lowcode.pages.i18n import current_language
from lowcode.pages.navigation import app_nav
from lowcode.pages.report_view import label, table_model
from lowcode.reports.export_files import mime_type, write_table
from lowcode.reports.export_job import KIND
from lowcode.reports.export_service import PRINT, ReportExportService, audit_export, queue_export
from lowcode.reports.params import jsonable, params_from_query
from lowcode.reports.service import ReportService
from lowcode.runtime.context import WriteContext


def export_service() -> ReportExportService:
    """The export service over the app's report service."""
    return ReportExportService(ReportService(services().permissions))


def export_model(ctx: WriteContext, app: str, name: str, args) -> dict[str, Any] | None:
    """The report page's export buttons (None when the reader may not export): the URLs and the run's
    ``param.*`` to post again."""
    try:
        export_service().prepare(ctx, app, name)
    except PermissionDenied:
        return None
    params = [(k, v) for k, v in args.items(multi=True) if k.startswith("param.")]
    return {
        "csv": url_for("pages.report_export", app=app, name=name, fmt="csv"),
        "xlsx": url_for("pages.report_export", app=app, name=name, fmt="xlsx"),
        "print": url_for("pages.report_print", app=app, name=name, **dict(params)),
        "params": params,
    }


def _download(name: str, fmt: str, content: bytes) -> Response:
    quoted = name.encode("ascii", "replace").decode().replace('"', "")
    return Response(
        content,
        mimetype=mime_type(fmt),
        headers={"Content-Disposition": f'attachment; filename="{quoted}"', "Cache-Control": "no-store"},
    )


@bp.post("/a/<app>/reports/<name>/export.<fmt>")
def report_export(app: str, name: str, fmt: str):
    """The run with the form's ``param.*`` as a file, or a background job for a large run."""
    service = export_service()
    service.check_format(fmt)
    lang = current_language()
    given = params_from_query(request.form)
    ip = request.remote_addr or ""
    with unit_of_work(write=False, source="page") as ctx:
        report = service.prepare(ctx, app, name)
        run = service.run(ctx, report, given, lang)
        actor = ctx.actor
    rows = len(run.table.rows)
    if service.in_background(rows, services().settings):
        with unit_of_work(write=True, source="page") as ctx:
            job_id = queue_export(ctx.session, actor, app, name, fmt, given, lang, ip)
        return redirect_after_write(url_for("pages.report_export_job", app=app, name=name, job_id=job_id))
    content = write_table(run.table, fmt)
    with services().db.write() as session:
        audit_export(session, actor, report, run.params, rows, fmt, ip)
    return _download(f"{app}-{name}.{fmt}", fmt, content)


@bp.get("/a/<app>/reports/<name>/print")
def report_print(app: str, name: str):
    """The run with the query's ``param.*`` on a printable page (audited as an export of format "print")."""
    service = export_service()
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        report = service.prepare(ctx, app, name)
        result = service.reports.run_compiled(ctx, report, params_from_query(request.args))
        nav = app_nav(ctx, app, lang)
        actor = ctx.actor
    model = {
        "title": label(report.label, lang, report.name),
        "params": _param_lines(report, result.params, lang),
        "table": table_model(result, report, lang),
        "back_url": url_for("pages.report_page", app=app, name=name, **request.args),
        "app_label": nav["label"],
    }
    with services().db.write() as session:
        ip = request.remote_addr or ""
        audit_export(session, actor, report, jsonable(result.params), len(result.rows), PRINT, ip)
    return render_template("pages/report_print.html", m=model)


def _param_lines(report, values: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    lines = []
    for p in report.params:
        value = values.get(p.name)
        if value is None:
            continue
        if isinstance(value, dict):
            text = " – ".join(str(value.get(k) or "") for k in ("from", "to"))
        else:
            text = str(value)
        lines.append((label(p.label, lang, p.name), text))
    return lines


def _owned_job(ctx: WriteContext, app: str, name: str, job_id: int) -> store.Job:
    """The export job, if the reader started it (nobody else - administrators neither - sees it)."""
    try:
        job = store.get_job(ctx.session, job_id)
    except NotFound:
        job = None
    if (
        job is None
        or job.kind != KIND
        or job.app != app
        or job.params.get("report") != name
        or job.owner != ctx.actor.username
    ):
        raise NotFound(f"No export {job_id}")
    return job


def _status_model(app: str, name: str, job: store.Job) -> dict[str, Any]:
    args = dict(app=app, name=name, job_id=job.id)
    return {
        "job": job,
        "status_url": url_for("pages.report_export_status", **args),
        "download_url": url_for("pages.report_export_download", **args) if job.result_name else None,
        "report_url": url_for("pages.report_page", app=app, name=name),
    }


@bp.get("/a/<app>/reports/<name>/exports/<int:job_id>")
def report_export_job(app: str, name: str, job_id: int):
    """A background export's page: its progress, then its download."""
    lang = current_language()
    service = export_service()
    with unit_of_work(write=False, source="page") as ctx:
        report = service.prepare(ctx, app, name)
        job = _owned_job(ctx, app, name, job_id)
        nav = app_nav(ctx, app, lang)
    model = {"title": label(report.label, lang, report.name), "status": _status_model(app, name, job)}
    return render_template("pages/report_export_job.html", m=model, nav=nav)


@bp.get("/a/<app>/reports/<name>/exports/<int:job_id>/status")
def report_export_status(app: str, name: str, job_id: int):
    """The progress fragment (htmx polls it while the job runs)."""
    with unit_of_work(write=False, source="page") as ctx:
        export_service().prepare(ctx, app, name)
        job = _owned_job(ctx, app, name, job_id)
    return render_template("pages/_report_export_status.html", s=_status_model(app, name, job))


@bp.get("/a/<app>/reports/<name>/exports/<int:job_id>/download")
def report_export_download(app: str, name: str, job_id: int):
    """The finished export's file (its owner only, while they may still export the report)."""
    with unit_of_work(write=False, source="page") as ctx:
        export_service().prepare(ctx, app, name)
        job = _owned_job(ctx, app, name, job_id)
        if not job.result_name:
            raise NotFound(f"Export {job_id} has no file yet")
        content = store.result_bytes(ctx.session, job_id)
    return _download(job.result_name, job.params["format"], content)
