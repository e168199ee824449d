"""The designer's preview of a mapping: a sample payload (or rows, or a record id of the source entity) run
through the mapping's draft - or an unsaved body sent with the request - without writing anything.

The caller must design the app (checked by the route); the source record is read with the caller's record
rules and without their hidden fields, lookups find only records they may read. The body is checked like a
publish (JSON Schema, then the cross-document checks against the published entities) and refused with its
problems at their JSON paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.definitions import store
from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.mapping_checks import mapping_errors
from lowcode.definitions.published import published_app_documents
from lowcode.definitions.validate import validate_document
from lowcode.errors import BadRequest, DefinitionInvalid, NotFound
from lowcode.mappings.compiled import CompiledMapping, compile_mapping
from lowcode.mappings.engine import NewLookup
from lowcode.mappings.reverse import to_payload
from lowcode.mappings.service import MappingService, item_json
from lowcode.runtime.context import WriteContext

MAX_PREVIEW_ROWS = 100
BODY_KEYS = frozenset({"payload", "rows", "record_id", "definition"})


def mapping_body(ctx: WriteContext, app: str, name: str, sent: Any = None) -> dict[str, Any]:
    """The body previewed: the one sent, else the draft, else the published version. :raises NotFound:"""
    if sent is not None:
        return sent
    found = store.get_definition(ctx.session, app, "mapping", name)
    body = found.draft if found.draft is not None else found.published
    if body is None:
        raise NotFound(f"No mapping '{name}' in app '{app}'")
    return body


def checked_mapping(ctx: WriteContext, app: str, name: str, body: Any) -> CompiledMapping:
    """The body validated as a publish would and compiled. :raises DefinitionInvalid:"""
    validate_document("mapping", name, body)
    errors = mapping_errors(body, AppDocuments(published_app_documents(ctx.session, app)))
    if errors:
        raise DefinitionInvalid(f"The mapping '{name}' has problems", fields=errors)
    return compile_mapping(app, body, ctx.snapshot.entities)


def preview(ctx: WriteContext, service: MappingService, app: str, name: str, request: Any) -> dict[str, Any]:
    """Map the request's ``payload``, ``rows`` or ``record_id`` with the mapping; nothing is written."""
    if not isinstance(request, Mapping) or set(request) - BODY_KEYS:
        raise BadRequest("Send an object with payload, rows or record_id (and optionally definition)")
    given = [k for k in ("payload", "rows", "record_id") if k in request]
    if len(given) != 1:
        raise BadRequest("Send exactly one of payload, rows or record_id")
    ctx.snapshot.app(app)
    mapping = checked_mapping(ctx, app, name, mapping_body(ctx, app, name, request.get("definition")))
    items = _items(ctx, service, mapping, request, given[0])
    related = None
    if given[0] == "record_id":  # children fed by related rows: read them as the caller may
        rows = {
            c.field: service.related_rows(ctx, c, request["record_id"]) for c in mapping.children if c.related
        }
        related = [rows]
    results = service.map_items(ctx, mapping, items, service.reader_lookups(ctx), related)
    answers = []
    for item in results:
        shown = item_json(item)
        if item.ok:
            data = {k: None if isinstance(v, NewLookup) else v for k, v in item.values.items()}
            rows = {
                n: [{k: None if isinstance(v, NewLookup) else v for k, v in r.items()} for r in rs]
                for n, rs in item.children.items()
            }
            shown["outbound"] = to_payload(mapping, {**data, **rows}, service.reader_lookups(ctx))
        answers.append(shown)
    return {"mapping": name, "target": mapping.target.name, "source": mapping.source_kind, "items": answers}


def _items(ctx: WriteContext, service: MappingService, mapping: CompiledMapping, request, given: str) -> list:
    if given == "payload":
        return [request["payload"]]
    if given == "rows":
        rows = request["rows"]
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_PREVIEW_ROWS:
            raise BadRequest(f"rows is a list of 1 to {MAX_PREVIEW_ROWS} items")
        return rows
    record_id = request["record_id"]
    if mapping.source_kind != "record" or mapping.source_entity is None:
        raise BadRequest("record_id previews a mapping whose source is a record")
    if isinstance(record_id, bool) or not isinstance(record_id, int) or not 0 < record_id < 2**63:
        raise BadRequest("record_id is a positive integer")
    return [readable_record(ctx, service, mapping.app, mapping.source_entity, record_id)]


def readable_record(ctx: WriteContext, service: MappingService, app: str, entity_name: str, record_id: int):
    """The record as the actor may read it: record rules applied, hidden fields (and child rows') left out."""
    entity = ctx.snapshot.entity(app, entity_name)
    service.permissions.authorize(ctx.actor, entity, "read")
    record = service.queries.get(ctx, app, entity_name, record_id)
    hidden = service.permissions.hidden_fields(ctx.actor, entity)
    shown = {k: v for k, v in record.items() if k not in hidden}
    for child in entity.child_fields:
        child_entity = ctx.snapshot.entity(app, child.fdef.options["entity"])
        child_hidden = service.permissions.hidden_fields(ctx.actor, child_entity)
        if child.name in shown:
            shown[child.name] = [
                {k: v for k, v in r.items() if k not in child_hidden} for r in shown[child.name]
            ]
    return shown
