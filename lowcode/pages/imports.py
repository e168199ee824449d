"""The import pages of a list ("Import" beside "New", for users who may create the entity's records):
upload a CSV/XLSX file, pick a published sheet mapping or adjust the columns -> fields matched from the
headers, see the first rows with each cell's error, start the import, and follow it - a progress bar that
htmx refreshes (``.../status`` every second) until the job ends - then download the per-row results.
Designers may keep the matched columns as a draft mapping. Only the job's owner (and administrators) see it.
"""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.api.edge import services, unit_of_work
from lowcode.core.texts import Text
from lowcode.errors import BadRequest, DefinitionInvalid, LowcodeError, NotFound, PayloadTooLarge
from lowcode.imports.infer import importable_fields
from lowcode.imports.service import KIND, ImportPlan, ImportService, sheet_mappings
from lowcode.imports.sheets import MAX_FILE_BYTES, MAX_ROWS, read_sheet
from lowcode.jobs import store
from lowcode.mappings.service import MappingService
from lowcode.pages.blueprint import bp
from lowcode.pages.edit import redirect_after_write
from lowcode.pages.i18n import current_language
from lowcode.pages.navigation import app_nav
from lowcode.pages.security import require_csrf
from lowcode.pages.viewmodels import top_entity
from lowcode.runtime.context import WriteContext

UPLOAD_SLACK = 64 * 1024
"""Bytes of a multipart body beyond the file itself (field names, boundaries)."""


def import_service() -> ImportService:
    """The import service over the app's permission, record and query services."""
    svc = services()
    return ImportService(svc.permissions, MappingService(svc.records, svc.queries, svc.permissions))


def result_response(name: str, content: bytes) -> Response:
    """A job's results file as a download."""
    quoted = name.encode("ascii", "replace").decode().replace('"', "")
    disposition = f'attachment; filename="{quoted}"'
    return Response(
        content,
        mimetype="text/csv",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


def _shown(message: Any) -> str:
    return message.localized() if isinstance(message, Text) else str(message)


def _job_url(app: str, entity: str, job_id: int, endpoint: str = "pages.import_job") -> str:
    return url_for(endpoint, app=app, entity=entity, job_id=job_id)


def _job(ctx: WriteContext, service: ImportService, app: str, entity: str, job_id: int) -> store.Job:
    job = service.job(ctx, job_id, app)
    if job.params.get("entity") != entity:
        raise NotFound(f"No job {job_id}")
    return job


def _upload_page(app: str, entity: str, error: str = "", status: int = 200):
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        target = import_service().target(ctx, app, top_entity(ctx, app, entity).name)
        nav = app_nav(ctx, app, lang)
        jobs = [
            j
            for j in store.recent_jobs(ctx.session, ctx.actor.username, app, KIND)
            if j.params.get("entity") == entity
        ]
    model = {
        "title": _("Import %(entity)s", entity=target.label_for(lang)),
        "upload_url": url_for("pages.import_upload", app=app, entity=entity),
        "list_url": url_for("pages.list_view", app=app, entity=entity),
        "max_mb": MAX_FILE_BYTES // (1024 * 1024),
        "max_rows": MAX_ROWS,
        "error": error,
        "jobs": [{"job": j, "url": _job_url(app, entity, j.id)} for j in jobs],
    }
    return render_template("pages/import_upload.html", m=model, nav=nav), status


@bp.route("/a/<app>/<entity>/import", methods=["GET", "POST"])
def import_upload(app: str, entity: str):
    """The upload form; POST keeps the file as an import job and shows its columns and preview."""
    if request.method == "GET":
        return _upload_page(app, entity)
    request.max_content_length = MAX_FILE_BYTES + UPLOAD_SLACK
    require_csrf()
    service = import_service()
    with unit_of_work(write=False, source="page") as ctx:
        service.target(ctx, app, top_entity(ctx, app, entity).name)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise BadRequest(Text("Choose a .csv or .xlsx file"))
        name, content = upload.filename, upload.read()
        sheet = read_sheet(name, content)
        with unit_of_work(write=True, source="page") as ctx:
            job_id = service.upload(ctx, app, entity, name, content, sheet)
    except (BadRequest, PayloadTooLarge) as exc:
        return _upload_page(
            app, entity, _shown(exc.message), 413 if isinstance(exc, PayloadTooLarge) else 400
        )
    return redirect_after_write(_job_url(app, entity, job_id))


def _plan_model(ctx: WriteContext, service: ImportService, job: store.Job, lang: str) -> dict[str, Any]:
    plan = ImportPlan.of(job)
    target = ctx.snapshot.entity(job.app, plan.entity)
    fields = [(f.name, f.fdef.label_for(lang)) for f in importable_fields(target, ctx.snapshot.entities)]
    model: dict[str, Any] = {
        "headers": plan.headers,
        "rows": plan.rows,
        "file_name": plan.file_name,
        "mapping": plan.mapping or "",
        "mappings": [(m.name, _label(m.definition, lang)) for m in sheet_mappings(ctx, target)],
        "columns": plan.columns,
        "fields": fields,
        "field_labels": dict(fields),
        "preview": [],
        "problem": "",
        "may_save_draft": not plan.mapping and service.may_save_draft(ctx, job.app),
        "draft_name": f"import_{plan.entity}"[:64],
    }
    try:
        model["preview"] = service.preview(ctx, job)
    except DefinitionInvalid as exc:
        model["problem"] = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or _shown(exc.message)
    except LowcodeError as exc:
        model["problem"] = _shown(exc.message)
    if plan.mapping:
        used = ctx.snapshot.mapping(job.app, plan.mapping)
        model["columns"] = {e.path.text: e.field.name for e in used.entries if e.path is not None}
    return model


def _label(definition: dict[str, Any], lang: str) -> str:
    label = definition.get("label") or definition["name"]
    if isinstance(label, dict):
        return label.get(lang.replace("_", "-")) or label.get("en") or definition["name"]
    return str(label)


def status_model(app: str, entity: str, job: store.Job) -> dict[str, Any]:
    """The progress fragment's model: the job, and the URLs of its status, results and cancel."""
    return {
        "job": job,
        "status_url": _job_url(app, entity, job.id, "pages.import_status"),
        "results_url": _job_url(app, entity, job.id, "pages.import_results") if job.result_name else None,
        "cancel_url": _job_url(app, entity, job.id, "pages.import_cancel") if not job.finished else None,
        "list_url": url_for("pages.list_view", app=app, entity=entity),
    }


@bp.get("/a/<app>/<entity>/import/<int:job_id>")
def import_job(app: str, entity: str, job_id: int):
    """A new import's columns and preview, or a started one's progress."""
    lang = current_language()
    service = import_service()
    with unit_of_work(write=False, source="page") as ctx:
        target = top_entity(ctx, app, entity)
        job = _job(ctx, service, app, entity, job_id)
        nav = app_nav(ctx, app, lang)
        plan = _plan_model(ctx, service, job, lang) if job.status == store.NEW else None
    model = {
        "title": _("Import %(entity)s", entity=target.label_for(lang)),
        "job_url": _job_url(app, entity, job_id),
        "start_url": _job_url(app, entity, job_id, "pages.import_start"),
        "draft_url": _job_url(app, entity, job_id, "pages.import_draft"),
        "upload_url": url_for("pages.import_upload", app=app, entity=entity),
        "plan": plan,
        "status": status_model(app, entity, job),
        "saved": request.args.get("saved", ""),
    }
    return render_template("pages/import_job.html", m=model, nav=nav)


@bp.post("/a/<app>/<entity>/import/<int:job_id>")
def import_choose(app: str, entity: str, job_id: int):
    """Use the chosen published mapping, or the columns -> fields chosen in the form."""
    service = import_service()
    with unit_of_work(write=True, source="page") as ctx:
        job = _job(ctx, service, app, entity, job_id)
        mapping = request.form.get("mapping", "")
        headers = ImportPlan.of(job).headers
        columns = {h: request.form.get(f"col_{i}", "") for i, h in enumerate(headers)}
        service.choose(ctx, job, mapping or None, None if mapping else columns)
    return redirect_after_write(_job_url(app, entity, job_id))


@bp.post("/a/<app>/<entity>/import/<int:job_id>/start")
def import_start(app: str, entity: str, job_id: int):
    """Start the import (queued for the runner); the page then shows its progress."""
    service = import_service()
    with unit_of_work(write=True, source="page") as ctx:
        service.start(ctx, _job(ctx, service, app, entity, job_id))
    return redirect_after_write(_job_url(app, entity, job_id))


@bp.post("/a/<app>/<entity>/import/<int:job_id>/draft")
def import_draft(app: str, entity: str, job_id: int):
    """Keep the matched columns as a draft sheet mapping (app designers only)."""
    service = import_service()
    with unit_of_work(write=True, source="page") as ctx:
        job = _job(ctx, service, app, entity, job_id)
        name = service.save_draft(ctx, job, request.form.get("name", "").strip() or None)
    return redirect_after_write(_job_url(app, entity, job_id) + f"?saved={name}")


@bp.get("/a/<app>/<entity>/import/<int:job_id>/status")
def import_status(app: str, entity: str, job_id: int):
    """The progress fragment (htmx polls it while the job runs)."""
    service = import_service()
    with unit_of_work(write=False, source="page") as ctx:
        job = _job(ctx, service, app, entity, job_id)
    return render_template("pages/_import_status.html", s=status_model(app, entity, job))


@bp.post("/a/<app>/<entity>/import/<int:job_id>/cancel")
def import_cancel(app: str, entity: str, job_id: int):
    """Stop the import (a running one after the chunk under way, which is rolled back)."""
    service = import_service()
    with unit_of_work(write=True, source="page") as ctx:
        store.cancel(ctx.session, _job(ctx, service, app, entity, job_id).id)
    return redirect_after_write(_job_url(app, entity, job_id))


@bp.get("/a/<app>/<entity>/import/<int:job_id>/results.csv")
def import_results(app: str, entity: str, job_id: int):
    """The per-row results: row, outcome, record id, errors."""
    service = import_service()
    with unit_of_work(write=False, source="page") as ctx:
        job = _job(ctx, service, app, entity, job_id)
        if not job.result_name:
            raise NotFound(f"Job {job_id} has no results yet")
        content = store.result_bytes(ctx.session, job_id)
    return result_response(job.result_name, content)
