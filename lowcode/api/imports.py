"""``/api/imports`` and ``/api/jobs``: spreadsheet import (:mod:`lowcode.imports`) and background jobs.

``POST /api/imports/<app>/<entity>`` (multipart: ``file`` - .csv or .xlsx within ``sheets.MAX_FILE_BYTES``,
else 413 -, optionally ``mapping`` (a published sheet mapping), ``columns`` (JSON ``{header: field}``) and
``start=1``): keeps the file as an import job of the caller (who must be allowed to create the entity's
records) and answers the job, the headers, the inferred columns and the published sheet mappings.
``GET /api/import-jobs/<id>/preview`` maps the first rows (per-cell errors, nothing written), ``PUT
/api/import-jobs/<id>`` changes the choice, ``POST /api/import-jobs/<id>/start`` queues it. ``GET
/api/jobs/<id>`` is any job's status, ``GET /api/jobs/<id>/result`` its result file, ``POST
/api/jobs/<id>/cancel`` stops it - the job's owner and administrators only (others: 404).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request

from lowcode.api.edge import json_body, services, unit_of_work
from lowcode.api.mappings import mapping_service
from lowcode.errors import BadRequest
from lowcode.imports.service import ImportPlan, ImportService, sheet_mappings
from lowcode.imports.sheets import MAX_FILE_BYTES, read_sheet
from lowcode.jobs import store

bp = Blueprint("api_imports", __name__, url_prefix="/api")
UPLOAD_SLACK = 64 * 1024
"""Bytes of a multipart body beyond the file itself (field names, boundaries)."""


def import_service() -> ImportService:
    """The import service over the app's permission and mapping services."""
    return ImportService(services().permissions, mapping_service())


def uploaded_file() -> tuple[str, bytes]:
    """The request's ``file`` part, allowed up to the import's size limit. :raises BadRequest:"""
    request.max_content_length = MAX_FILE_BYTES + UPLOAD_SLACK
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("Send the spreadsheet as the multipart field 'file'")
    return upload.filename, upload.read()


def _columns(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise BadRequest("columns: a JSON object {header: field}") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadRequest("columns: a JSON object {header: field}")
    return value


def _plan_json(ctx, service: ImportService, job: store.Job) -> dict:
    plan = ImportPlan.of(job)
    target = ctx.snapshot.entity(job.app, plan.entity)
    return {
        **job.as_json(),
        "entity": plan.entity,
        "file_name": plan.file_name,
        "headers": plan.headers,
        "rows": plan.rows,
        "mapping": plan.mapping,
        "columns": plan.columns,
        "mappings": [m.name for m in sheet_mappings(ctx, target)],
    }


@bp.post("/imports/<app>/<entity>")
def upload(app: str, entity: str):
    """Keep an uploaded spreadsheet as an import job (started at once with ``start=1``)."""
    service = import_service()
    with unit_of_work(write=False) as ctx:
        service.target(ctx, app, entity)  # who may not import hears so before the file is read
    name, content = uploaded_file()
    sheet = read_sheet(name, content)  # outside the write transaction: a large file takes a while
    with unit_of_work(write=True, source="import") as ctx:
        job_id = service.upload(ctx, app, entity, name, content, sheet)
        job = store.get_job(ctx.session, job_id)
        mapping, columns = request.form.get("mapping"), _columns(request.form.get("columns"))
        if mapping or columns is not None:
            service.choose(ctx, job, mapping, columns)
            job = store.get_job(ctx.session, job_id)
        if request.form.get("start") == "1":
            service.start(ctx, job)
            job = store.get_job(ctx.session, job_id)
        answer = _plan_json(ctx, service, job)
    return jsonify(answer), 201


@bp.get("/import-jobs/<int:job_id>/preview")
def preview(job_id: int):
    """The first rows mapped with their per-cell errors."""
    service = import_service()
    with unit_of_work(write=False) as ctx:
        job = service.job(ctx, job_id)
        rows = service.preview(ctx, job)
    return jsonify({"rows": rows})


@bp.put("/import-jobs/<int:job_id>")
def choose(job_id: int):
    """``{"mapping": name}`` or ``{"columns": {header: field}}`` for a job not yet started."""
    service = import_service()
    with unit_of_work(write=True, source="import") as ctx:
        job = service.job(ctx, job_id)
        body = json_body()
        if not isinstance(body, dict) or set(body) - {"mapping", "columns"}:
            raise BadRequest('Send {"mapping": name} or {"columns": {header: field}}')
        columns = body.get("columns")
        if columns is not None and not isinstance(columns, dict):
            raise BadRequest("columns: an object {header: field}")
        service.choose(ctx, job, body.get("mapping"), columns)
        answer = _plan_json(ctx, service, store.get_job(ctx.session, job_id))
    return jsonify(answer)


@bp.post("/import-jobs/<int:job_id>/start")
def start(job_id: int):
    """Queue the import for the runner."""
    service = import_service()
    with unit_of_work(write=True, source="import") as ctx:
        service.start(ctx, service.job(ctx, job_id))
        answer = store.get_job(ctx.session, job_id).as_json()
    return jsonify(answer), 202


@bp.get("/jobs/<int:job_id>")
def job_status(job_id: int):
    """A job's status, progress and counts."""
    with unit_of_work(write=False) as ctx:
        answer = store.visible_job(ctx.session, ctx.actor, job_id).as_json()
    return jsonify(answer)


@bp.post("/jobs/<int:job_id>/cancel")
def cancel(job_id: int):
    """Stop a job that has not ended (a running one at its next chunk)."""
    with unit_of_work(write=True) as ctx:
        store.visible_job(ctx.session, ctx.actor, job_id)
        store.cancel(ctx.session, job_id)
        answer = store.get_job(ctx.session, job_id).as_json()
    return jsonify(answer)


@bp.get("/jobs/<int:job_id>/result")
def result(job_id: int):
    """The job's result file (an import's per-row results as CSV)."""
    with unit_of_work(write=False) as ctx:
        job = store.visible_job(ctx.session, ctx.actor, job_id)
        if not job.result_name:
            raise BadRequest("The job has no result (yet)")
        content = store.result_bytes(ctx.session, job_id)
    return result_response(job.result_name, content)


def result_response(name: str, content: bytes) -> Response:
    """A result file as a download."""
    quoted = name.encode("ascii", "replace").decode().replace('"', "")
    return Response(
        content,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{quoted}"', "Cache-Control": "no-store"},
    )
