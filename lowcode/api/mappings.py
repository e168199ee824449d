"""``/api/mappings/<app>/<name>/preview``: a mapping's preview for its designers (nothing is written);
``GET /api/mappings/<app>/<name>/draft-from/<id>``: "create from" - the new record a mapping offered on records
makes of record ``id`` (nothing is written: the client saves it through the data API).

``POST`` with ``{"payload": {...}}``, ``{"rows": [...]}`` or ``{"record_id": n}`` (a record of the mapping's
source entity), optionally ``"definition"``: an unsaved body to preview instead of the draft. The answer has
one item per source item: the record's ``values``, child rows (``children``), the lookup records it would
create, the outbound payload derived back from it, or ``errors`` each with its source path and target field.
Needs design rights on the app; reads only what the caller may read.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from lowcode.api.edge import json_body, services, unit_of_work
from lowcode.auth.design_access import require_design
from lowcode.mappings.create_from import CreateFrom
from lowcode.mappings.preview import preview
from lowcode.mappings.service import MappingService

bp = Blueprint("api_mappings", __name__, url_prefix="/api/mappings")


def mapping_service() -> MappingService:
    """The mapping service over the app's record, query and permission services."""
    svc = services()
    return MappingService(svc.records, svc.queries, svc.permissions)


@bp.post("/<app>/<name>/preview")
def preview_mapping(app: str, name: str):
    """The preview of one mapping on a sample payload, rows or a record."""
    with unit_of_work(write=False) as ctx:
        ctx.snapshot.app(app)
        require_design(services().permissions, ctx, app)
        body = json_body()
        answer = preview(ctx, mapping_service(), app, name, body)
    return jsonify(answer)


@bp.get("/<app>/<name>/draft-from/<int:record_id>")
def draft_from(app: str, name: str, record_id: int):
    """The draft of a new target record made from a source record: values, child rows and the values that
    could not be mapped. Needs read on the source (its record rules: else 404) and create on the target; a
    record the offer's condition does not hold on is a 409."""
    with unit_of_work(write=False) as ctx:
        ctx.snapshot.app(app)
        draft = CreateFrom(mapping_service()).draft(ctx, app, name, record_id)
        answer = draft.as_json()
    return jsonify(answer)
