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
    required = [cf.name for cf in entity.writable if cf.fdef.required]
    return {"type": "object", "title": entity.label_for("en"), "properties": props, "required": required}


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
    return {
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
                       "responses": {"204": {"description": "Deleted"}, **errors}},
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
