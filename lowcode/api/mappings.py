"""``/api/mappings/<app>/<name>/preview``: a mapping's preview for its designers (nothing is written).

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
