"""OpenAPI paths of the inbound API (``POST /api/integrations/<app>/<mapping>/ingest``, :mod:`lowcode.api.ingest`):
one literal path per published mapping of source kind ``payload`` whose target the caller may create or
update records of - the same test the route makes - with the request body it accepts and the per-record
answers it gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lowcode.api.openapi_paths import ERRORS
from lowcode.mappings.ingest import MAX_ITEMS, MAX_KEY
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.snapshot import Snapshot

ITEM = {
    "type": "object",
    "required": ["idempotency_key", "data"],
    "additionalProperties": False,
    "properties": {
        "idempotency_key": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_KEY,
            "description": "One key per record: the same key is applied once",
        },
        "data": {"description": "The record as the external system sends it (the mapping's source)"},
    },
}
BODY = {
    "oneOf": [
        ITEM,
        {
            "type": "object",
            "required": ["items"],
            "additionalProperties": False,
            "properties": {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_ITEMS,
                    "items": ITEM,
                    "description": "Each idempotency key at most once per batch",
                }
            },
        },
    ]
}
ANSWER = {
    "type": "object",
    "required": ["data", "accepted", "duplicate", "rejected"],
    "properties": {
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "idempotency_key", "status", "id", "errors"],
                "properties": {
                    "index": {"type": "integer"},
                    "idempotency_key": {"type": "string"},
                    "status": {"enum": ["accepted", "duplicate", "rejected"]},
                    "applied": {"enum": ["created", "updated"]},
                    "first": {"type": ["string", "null"], "description": "a duplicate: the first outcome"},
                    "id": {"type": ["integer", "null"]},
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["source", "field", "message"],
                            "properties": {
                                "source": {"type": "string"},
                                "field": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
        "accepted": {"type": "integer"},
        "duplicate": {"type": "integer"},
        "rejected": {"type": "integer"},
    },
}


def ingest_paths(snapshot: Snapshot, may_write: Callable[[CompiledEntity], bool]) -> dict[str, Any]:
    """The ingest path of every payload mapping whose target ``may_write`` (create or update) allows."""
    paths: dict[str, Any] = {}
    for (app, name), mapping in sorted(snapshot.mappings.items()):
        if mapping.source_kind != "payload" or not may_write(mapping.target):
            continue
        summary = f"Send {mapping.target.name} records of app {app} through the mapping {name}"
        paths[f"/api/integrations/{app}/{name}/ingest"] = {
            "post": {
                "tags": ["integrations"],
                "summary": summary,
                "description": "Each record is applied once per idempotency key; the answer has one entry "
                "per record sent (accepted, duplicate, or rejected with field errors and source paths).",
                "requestBody": {"required": True, "content": {"application/json": {"schema": BODY}}},
                "responses": {"200": _answer(), **ERRORS},
            }
        }
    return paths


def _answer() -> dict[str, Any]:
    return {
        "description": "One answer per record, in the order sent",
        "content": {"application/json": {"schema": ANSWER}},
    }
