"""OpenAPI of the bulk writes on an entity's collection URL (:mod:`lowcode.api.bulk`): POST a list, PATCH and
DELETE a list, ``?mode=all|each``."""

from __future__ import annotations

from typing import Any

MODE = {
    "name": "mode",
    "in": "query",
    "schema": {"type": "string", "enum": ["all", "each"], "default": "all"},
    "description": "all: all or nothing (422 bulk_failed names each failing item); each: one result per "
    "item, the good ones kept",
}
KEYS = {"id": {"type": "integer"}, "version": {"type": "integer"}}


def bulk_operations(entity_name: str, may: set[str] | frozenset[str], ref: dict, errors: dict) -> dict:
    """The collection's bulk operations the actions ``may`` allow: ``{"post_body": schema, "patch": ...,
    "delete": ...}`` (``post_body``: the create body, one record or a list of at most BULK_MAX_ITEMS)."""
    out: dict[str, Any] = {}
    answers = {
        "422": {
            "description": "Mode all: some items failed ({error: {code: bulk_failed, items: [{index, "
            "status, code, message, fields}]}}); nothing was written"
        },
        "413": {"description": "More than BULK_MAX_ITEMS items, or the body is over MAX_BODY_BYTES"},
    }
    ok = (
        "Mode all: {data: [records]} in the items' order; mode each: {data: [{index, status, record | code, "
        "message, fields}], written, failed}"
    )
    if "create" in may:
        out["post_body"] = {"oneOf": [ref, {"type": "array", "items": ref}]}
        out["post_answers"] = {"200": {"description": "Mode each: " + ok.split("mode each: ")[1]}, **answers}
    if "update" in may:
        item = {"allOf": [ref, {"type": "object", "required": ["id", "version"], "properties": KEYS}]}
        out["patch"] = {
            "tags": [entity_name],
            "summary": f"Update many {entity_name} (each item: id, version and the changes)",
            "parameters": [MODE],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "array", "items": item}}},
            },
            "responses": {"200": {"description": ok}, **errors, **answers},
        }
    if "delete" in may:
        out["delete"] = {
            "tags": [entity_name],
            "summary": f"Soft-delete many {entity_name} (each item: id and version)",
            "parameters": [MODE],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "array",
                            "items": {"type": "object", "required": ["id", "version"], "properties": KEYS},
                        }
                    }
                },
            },
            "responses": {"200": {"description": ok + " (the records as deleted)"}, **errors, **answers},
        }
    return out
