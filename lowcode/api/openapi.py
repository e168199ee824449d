"""``/api/openapi.json``: an OpenAPI 3.1 document generated from the published definitions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from lowcode.api.edge import services
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.snapshot import Snapshot

bp = Blueprint("api_openapi", __name__, url_prefix="/api")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object"},
            },
        }
    },
}
SYSTEM_PROPERTIES = {
    "id": {"type": "integer", "readOnly": True},
    "version": {"type": "integer", "readOnly": True},
    "created_at": {"type": ["string", "null"], "format": "date-time", "readOnly": True},
    "updated_at": {"type": ["string", "null"], "format": "date-time", "readOnly": True},
}


def entity_schema(entity: CompiledEntity) -> dict[str, Any]:
    """JSON Schema of one entity's records, built from its field types."""
    props = dict(SYSTEM_PROPERTIES)
    for cf in entity.fields.values():
        prop = cf.ftype.json_schema(cf.fdef)
        prop["title"] = cf.fdef.label_for("en")
        if cf.ftype.computed:
            prop["readOnly"] = True
        props[cf.name] = prop
    if entity.workflow is not None:
        props["_transitions"] = TRANSITIONS_PROPERTY
    required = [cf.name for cf in entity.writable if cf.fdef.required]
    return {"type": "object", "title": entity.label_for("en"), "properties": props, "required": required}


TRANSITIONS_PROPERTY = {
    "type": "array", "readOnly": True,
    "description": "Workflow transitions the caller may take on this record now",
    "items": {"type": "object", "required": ["name", "label", "to", "fields", "confirm"], "properties": {
        "name": {"type": "string"}, "label": {"type": "object"}, "to": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "string"}, "description": "fields the request must fill in"},
        "confirm": {"type": ["object", "null"], "description": "the question to ask before taking it"}}},
}  # fmt: skip


def _transition_path(entity: CompiledEntity, ref: dict, errors: dict) -> dict[str, Any]:
    """``POST .../{id}/transitions/{name}`` of an entity with a workflow."""
    wf = entity.workflow
    fields = sorted({f for t in wf.transitions.values() for f in t.required_fields})
    props = {
        f: entity.fields[f].ftype.json_schema(entity.fields[f].fdef) for f in fields if f in entity.fields
    }
    names = list(wf.transitions)
    return {
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                       {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": names}},
                       {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}],
        "post": {"tags": [f"{entity.app}.{entity.name}"], "summary": f"Take a workflow transition of {entity.name}",
                 "requestBody": {"required": False, "content": {"application/json": {"schema": {
                     "type": "object", "properties": props, "additionalProperties": False}}}},
                 "responses": {"200": {"description": "The record after the transition (ETag = version)",
                                       "content": {"application/json": {"schema": ref}}},
                               "409": _error("Version conflict, or the record's state does not allow it"),
                               "422": _error("A required field is empty, or not a field of the transition"),
                               "428": _error("If-Match missing"), **errors}},
    }  # fmt: skip


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _paths_for(entity: CompiledEntity) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{entity.app}.{entity.name}"}
    body = {"required": True, "content": {"application/json": {"schema": ref}}}
    one = {"description": "The record (ETag = version)", "content": {"application/json": {"schema": ref}}}
    errors = {"400": _error("Malformed request"), "401": _error("Not signed in"), "403": _error("Forbidden"),
              "404": _error("Not found"), "413": _error("Body too large")}  # fmt: skip
    base, item = f"/api/data/{entity.app}/{entity.name}", f"/api/data/{entity.app}/{entity.name}/{{id}}"
    id_param = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    list_params = [
        {"name": n, "in": "query", "schema": {"type": t}, "description": d}
        for n, t, d in (("filter", "string", "condition-language JSON"), ("q", "string", "search text"),
                        ("sort", "string", "fields, '-' for descending"), ("limit", "integer", "page size"),
                        ("after", "string", "cursor from the previous page's 'next'"))
    ]  # fmt: skip
    tag = [f"{entity.app}.{entity.name}"]
    extra = {f"{item}/transitions/{{name}}": _transition_path(entity, ref, errors)} if entity.workflow else {}
    return extra | {
        base: {
            "get": {"tags": tag, "summary": f"List {entity.name}", "parameters": list_params,
                    "responses": {"200": {"description": "A page: {data, next, total}"}, **errors}},
            "post": {"tags": tag, "summary": f"Create {entity.name}", "requestBody": body,
                     "responses": {"201": one, "422": _error("Invalid fields"), **errors}},
        },
        item: {
            "parameters": id_param,
            "get": {"tags": tag, "summary": f"Get {entity.name}", "responses": {"200": one, **errors}},
            "patch": {"tags": tag, "summary": f"Update {entity.name}", "requestBody": body,
                      "parameters": [{"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}],
                      "responses": {"200": one, "409": _error("Version conflict"), "422": _error("Invalid fields"),
                                    "428": _error("If-Match missing"), **errors}},
            "delete": {"tags": tag, "summary": f"Soft-delete {entity.name}",
                       "responses": {"204": {"description": "Deleted"}, **errors,
                                     **({"409": _error("The record's state forbids deleting")} if entity.workflow else {})}},
        },
    }  # fmt: skip


def build_openapi(snapshot: Snapshot) -> dict[str, Any]:
    """The whole OpenAPI document for a snapshot."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for (app, name), entity in sorted(snapshot.entities.items()):
        schemas[f"{app}.{name}"] = entity_schema(entity)
        if not entity.is_child:
            paths.update(_paths_for(entity))
    for schema in schemas.values():
        for prop in schema.get("properties", {}).values():
            items = prop.get("items", {})
            if "$ref" in items and not items["$ref"].startswith("#/components/schemas/Error"):
                target = items["$ref"].rsplit("/", 1)[1]
                app = next((a for (a, n) in snapshot.entities if n == target), "")
                items["$ref"] = f"#/components/schemas/{app}.{target}"
    return {
        "openapi": "3.1.0",
        "info": {"title": "lowcode data API", "version": str(snapshot.version)},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of every published entity (public: it describes, it does not reveal data)."""
    svc = services()
    with svc.db.read() as session:
        snapshot = svc.snapshots.get(session)
    return jsonify(build_openapi(snapshot))
