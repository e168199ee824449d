"""Pieces of the OpenAPI document: record schemas and the paths of one entity or of signing in.

Each builder is told what the caller may use (:class:`Allowed`) and describes only that: an operation a
role does not grant, a transition it does not grant, and a field it hides never appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lowcode.api.openapi_bulk import MODE, bulk_operations
from lowcode.runtime.compiler import CompiledEntity

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
TRANSITIONS_PROPERTY = {
    "type": "array",
    "readOnly": True,
    "description": "Workflow transitions the caller may take on this record now",
    "items": {
        "type": "object",
        "required": ["name", "label", "to", "fields", "confirm"],
        "properties": {
            "name": {"type": "string"},
            "label": {"type": "object"},
            "to": {"type": "string"},
            "fields": {
                "type": "array",
                "items": {"type": "string"},
                "description": "fields the request must fill in",
            },
            "confirm": {"type": ["object", "null"], "description": "the question to ask before taking it"},
        },
    },
}


@dataclass(frozen=True)
class Allowed:
    """What one caller may use of one entity: record actions, workflow transitions, hidden and
    read-only fields (administrators: every action and transition, nothing hidden)."""

    actions: frozenset[str]
    transitions: tuple[str, ...] = ()
    hidden: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()


EVERYTHING = Allowed(frozenset({"read", "create", "update", "delete", "export"}))


def entity_schema(entity: CompiledEntity, allowed: Allowed = EVERYTHING) -> dict[str, Any]:
    """JSON Schema of one entity's records as the caller sees them (hidden fields left out, fields they
    may not write marked read-only), built from its field types."""
    props = dict(SYSTEM_PROPERTIES)
    for cf in entity.fields.values():
        if cf.name in allowed.hidden:
            continue
        prop = cf.ftype.json_schema(cf.fdef)
        prop["title"] = cf.fdef.label_for("en")
        if cf.ftype.computed or cf.name in allowed.read_only:
            prop["readOnly"] = True
        props[cf.name] = prop
    if entity.workflow is not None:
        props["_transitions"] = TRANSITIONS_PROPERTY
    required = [
        cf.name
        for cf in entity.writable
        if cf.fdef.required and cf.name not in allowed.hidden and cf.name not in allowed.read_only
    ]
    return {"type": "object", "title": entity.label_for("en"), "properties": props, "required": required}


def error(description: str) -> dict[str, Any]:
    """A response in the one error shape."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


IF_MATCH = {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
ERRORS = {
    "400": error("Malformed request"),
    "401": error("Not signed in"),
    "403": error("Forbidden"),
    "404": error("Not found"),
    "413": error("Body too large"),
    "429": error("Too many requests"),
}
LIST_PARAMS = [
    {"name": n, "in": "query", "schema": {"type": t}, "description": d}
    for n, t, d in (
        ("filter", "string", "condition-language JSON"),
        ("q", "string", "search text"),
        ("sort", "string", "fields, '-' for descending"),
        ("limit", "integer", "page size"),
        ("after", "string", "cursor from the previous page's 'next'"),
    )
]


COSTLY = {
    "422": error("The filter or search is over a cost limit, or a statement ran over its budget"),
    "503": error("Too many costly queries are running: try again after Retry-After seconds"),
}
"""The answers of the routes gated as costly queries (lists, exports)."""


def _transition_path(entity: CompiledEntity, allowed: Allowed, ref: dict) -> dict[str, Any]:
    """``POST .../{id}/transitions/{name}`` for the transitions the caller may take."""
    wf = entity.workflow
    taken = [wf.transitions[n] for n in allowed.transitions]
    fields = sorted({f for t in taken for f in t.required_fields if f not in allowed.hidden})
    props = {
        f: entity.fields[f].ftype.json_schema(entity.fields[f].fdef) for f in fields if f in entity.fields
    }
    return {
        "parameters": [
            ID_PARAM,
            {
                "name": "name",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": list(allowed.transitions)},
            },
            IF_MATCH,
        ],
        "post": {
            "tags": [f"{entity.app}.{entity.name}"],
            "summary": f"Take a workflow transition of {entity.name}",
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": props, "additionalProperties": False}
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "The record after the transition (ETag = version)",
                    "content": {"application/json": {"schema": ref}},
                },
                "409": error("Version conflict, or the record's state does not allow it"),
                "422": error("A required field is empty, or not a field of the transition"),
                "428": error("If-Match missing"),
                **ERRORS,
            },
        },
    }


def entity_paths(entity: CompiledEntity, allowed: Allowed = EVERYTHING) -> dict[str, Any]:
    """The paths of one entity's records, with only the operations ``allowed`` grants."""
    ref = {"$ref": f"#/components/schemas/{entity.app}.{entity.name}"}
    body = {"required": True, "content": {"application/json": {"schema": ref}}}
    one = {"description": "The record (ETag = version)", "content": {"application/json": {"schema": ref}}}
    tag, may = [f"{entity.app}.{entity.name}"], allowed.actions
    base, item = f"/api/data/{entity.app}/{entity.name}", f"/api/data/{entity.app}/{entity.name}/{{id}}"
    ops: dict[str, dict[str, Any]] = {base: {}, item: {"parameters": [ID_PARAM]}}
    if "read" in may:
        ops[base]["get"] = {
            "tags": tag,
            "summary": f"List {entity.name}",
            "parameters": LIST_PARAMS,
            "responses": {
                "200": {
                    "description": "A page: {data, next, total, total_exact} (total counts at most COUNT_LIMIT rows; total_exact false: more match)"
                },
                **ERRORS,
                **COSTLY,
            },
        }
        ops[item]["get"] = {"tags": tag, "summary": f"Get {entity.name}", "responses": {"200": one, **ERRORS}}
        ops[f"{item}/history"] = {
            "parameters": [ID_PARAM],
            "get": {
                "tags": tag,
                "summary": f"Audit trail of one {entity.name}",
                "responses": {"200": {"description": "{data: [entries]}, newest first"}, **ERRORS},
            },
        }
    bulk = bulk_operations(tag[0], may, ref, ERRORS)
    if "create" in may:
        ops[base]["post"] = {
            "tags": tag,
            "summary": f"Create {entity.name} (a list: many, see mode)",
            "parameters": [MODE],
            "requestBody": {"required": True, "content": {"application/json": {"schema": bulk["post_body"]}}},
            "responses": {
                "201": {**one, "description": "The record (ETag = version); a list: {data: [records]}"},
                "422": error("Invalid fields"),
                **ERRORS,
                **bulk["post_answers"],
            },
        }
    ops[base].update({k: v for k, v in bulk.items() if k in ("patch", "delete")})
    if "update" in may:
        ops[item]["patch"] = {
            "tags": tag,
            "summary": f"Update {entity.name}",
            "requestBody": body,
            "parameters": [IF_MATCH],
            "responses": {
                "200": one,
                "409": error("Version conflict"),
                "422": error("Invalid fields"),
                "428": error("If-Match missing"),
                **ERRORS,
            },
        }
        ops[f"{item}/restore"] = {
            "parameters": [ID_PARAM],
            "post": {
                "tags": tag,
                "summary": f"Restore a deleted {entity.name}",
                "responses": {"200": one, **ERRORS},
            },
        }
    if "delete" in may:
        ops[item]["delete"] = {
            "tags": tag,
            "summary": f"Soft-delete {entity.name}",
            "responses": {
                "204": {"description": "Deleted"},
                **ERRORS,
                **({"409": error("The record's state forbids deleting")} if entity.workflow else {}),
            },
        }
    if "export" in may:
        ops[f"{base}/export.csv"] = {
            "get": {
                "tags": tag,
                "summary": f"Export {entity.name} as CSV",
                "parameters": [p for p in LIST_PARAMS if p["name"] != "limit" and p["name"] != "after"],
                "responses": {"200": {"description": "CSV"}, **ERRORS, **COSTLY},
            }
        }
    if allowed.transitions and entity.workflow is not None:
        ops[f"{item}/transitions/{{name}}"] = _transition_path(entity, allowed, ref)
    return {path: operations for path, operations in ops.items() if set(operations) - {"parameters"}}


_CREDENTIALS = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
}
_SIGNED_IN = {"description": "{token, token_type, expires_at, csrf_token, user} and the session cookie"}


def auth_paths(signed_in: bool) -> dict[str, Any]:
    """``/api/auth``: signing in and refreshing for everyone; signing out and who-am-I once signed in."""
    tag = ["auth"]
    paths: dict[str, Any] = {
        "/api/auth/login": {
            "post": {
                "tags": tag,
                "summary": "Sign in",
                "security": [],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _CREDENTIALS}}},
                "responses": {
                    "200": _SIGNED_IN,
                    "400": error("Malformed request"),
                    "401": error("Wrong credentials"),
                    "429": error("Too many attempts"),
                },
            }
        },
        "/api/auth/refresh": {
            "post": {
                "tags": tag,
                "summary": "Exchange the live sign-in token for a new one",
                "responses": {"200": _SIGNED_IN, "401": error("No live sign-in token")},
            }
        },
    }
    if signed_in:
        paths["/api/auth/logout"] = {
            "post": {
                "tags": tag,
                "summary": "Sign out",
                "responses": {"204": {"description": "Signed out"}, "401": error("Not signed in")},
            }
        }
        paths["/api/auth/me"] = {
            "get": {
                "tags": tag,
                "summary": "The signed-in user",
                "responses": {
                    "200": {"description": "{id, username, is_admin, language}"},
                    "401": error("Not signed in"),
                },
            }
        }
    return paths
