"""``POST /api/integrations/<app>/<mapping>/ingest``: the inbound API (:mod:`lowcode.mappings.ingest`).

One record ``{"idempotency_key", "data"}`` or a batch ``{"items": [...]}`` (at most 5,000; the body within
``MAX_BODY_BYTES``, else 413; nesting within ``MAX_JSON_DEPTH``, else 400), mapped by a published mapping of
source kind ``payload``. The batch is committed in chunks of 200 (one durable commit each, not one per
record). Every item gets an answer: ``accepted`` (``applied``: created or updated, the record's id),
``duplicate`` (its key was applied before: the first outcome's id) or ``rejected`` (field errors, each with
its source path); none is dropped silently. The caller needs the create or update grant on the target.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from lowcode.api.edge import json_body, services, unit_of_work
from lowcode.api.mappings import mapping_service
from lowcode.errors import BadRequest, PermissionDenied
from lowcode.mappings.ingest import CHUNK, ingest_chunk, parse_items

bp = Blueprint("api_ingest", __name__, url_prefix="/api/integrations")


@bp.post("/<app>/<name>/ingest")
def ingest(app: str, name: str):
    """Apply the records sent, each once per idempotency key; per-record answers."""
    with unit_of_work(write=False) as ctx:
        _may_write_some(ctx, app)  # before the mapping's lookup: its name tells nothing to outsiders
        mapping = ctx.snapshot.mapping(app, name)
        if mapping.source_kind != "payload":
            raise BadRequest(f"Mapping '{name}' reads {mapping.source_kind}s, not payloads")
        _may_write(ctx, mapping.target)
        items = parse_items(json_body())
    answers: list[dict] = []
    for start in range(0, len(items), CHUNK):
        with unit_of_work(write=True, source=f"ingest:{name}") as ctx:
            chunk = items[start : start + CHUNK]
            answers.extend(ingest_chunk(ctx, mapping_service(), ctx.snapshot.mapping(app, name), chunk))
    counts = {s: sum(a["status"] == s for a in answers) for s in ("accepted", "duplicate", "rejected")}
    return jsonify({"data": answers, **counts})


def _may_write_some(ctx, app: str) -> None:
    entities = [ctx.snapshot.entities[(app, n)] for n in ctx.snapshot.app(app).entities]
    for entity in entities:
        try:
            _may_write(ctx, entity)
            return
        except PermissionDenied:
            continue
    raise PermissionDenied(f"You may not write records of app '{app}'")


def _may_write(ctx, entity) -> None:
    permissions = services().permissions
    for action in ("create", "update"):
        try:
            permissions.authorize(ctx.actor, entity, action)
            return
        except PermissionDenied as refused:
            last = refused
    raise last
