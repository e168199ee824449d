"""OpenAPI paths of the routes around the records: notifications for every signed-in user; the rule
runs, dry runs and the read side of administration (users, tokens, security events, definitions,
templates) for administrators. Administrative writes are left out of the document: they are described
in docs/ and belong to the admin pages and the CLI."""

from __future__ import annotations

from typing import Any

from lowcode.api.openapi_paths import ERRORS


def _param(name: str, kind: str = "string", where: str = "query", **extra: Any) -> dict[str, Any]:
    schema = {"type": kind, **({"minimum": 1} if kind == "integer" else {}), **extra}
    return {"name": name, "in": where, "required": where == "path", "schema": schema}


def _get(summary: str, *params: dict[str, Any], tag: str = "admin") -> dict[str, Any]:
    return {
        "get": {
            "tags": [tag],
            "summary": summary,
            "parameters": list(params),
            "responses": {"200": {"description": summary}, **ERRORS},
        }
    }


def _post(summary: str, *params: dict[str, Any], tag: str, body: dict | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": [tag],
        "summary": summary,
        "parameters": list(params),
        "responses": {"200": {"description": summary}, **ERRORS},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return {"post": operation}


def user_paths() -> dict[str, Any]:
    """The caller's own notifications and the changes feed."""
    tag = "notifications"
    return {
        "/api/notifications": _get(
            "The caller's notifications, newest first",
            _param("limit", "integer"),
            _param("before", "integer"),
            _param("unread", enum=["1", "true"]),
            tag=tag,
        ),
        "/api/notifications/{id}/read": _post(
            "Mark one notification read", _param("id", "integer", "path"), tag=tag
        ),
        "/api/notifications/read-all": _post("Mark every notification read", tag=tag),
        "/api/changes": _get(
            "Changes after a position, in commit order, as far as the caller may read them",
            _param("since", pattern=r"^\d{1,19}-\d{1,19}$"),
            _param("limit", "integer", maximum=1000),
            _param("app"),
            _param("entity"),
            tag="changes",
        ),
    }


DRY_RUN_BODY = {
    "type": "object",
    "required": ["entity"],
    "additionalProperties": False,
    "properties": {
        "entity": {"type": "string"},
        "record_id": {"type": "integer"},
        "version": {"type": "integer"},
        "changes": {"type": "object"},
        "rule": {"type": "string"},
        "cascade": {"type": "boolean"},
    },
}


def admin_paths(apps: list[str]) -> dict[str, Any]:
    """What administrators may read (and dry-run) besides the records."""
    app = _param("app", where="path", enum=apps) if apps else _param("app", where="path")
    kind, name = _param("kind", where="path"), _param("name", where="path")
    user_id = _param("user_id", "integer", "path")
    return {
        "/api/rules/{app}/runs": _get(
            "Rule runs, newest first",
            app,
            _param("entity"),
            _param("rule"),
            _param("record_id", "integer"),
            _param("limit", "integer"),
            tag="rules",
        ),
        "/api/rules/{app}/dry-run": _post(
            "What a write would do (rolled back)", app, tag="rules", body=DRY_RUN_BODY
        ),
        "/api/admin/departments": _get("Departments"),
        "/api/admin/users": _get("Users", _param("q"), _param("department", "integer")),
        "/api/admin/users/{user_id}": _get("One user", user_id),
        "/api/admin/users/{user_id}/assignments": _get("A user's role assignments", user_id),
        "/api/admin/tokens": _get(
            "Tokens (never the token itself)", _param("all", enum=["1"]), _param("user_id", "integer")
        ),
        "/api/admin/explain": _get(
            "Why a user may or may not act on an entity",
            _param("user"),
            _param("app"),
            _param("entity"),
            _param("ip"),
        ),
        "/api/admin/review": _get("The permission review"),
        "/api/admin/security-events": _get(
            "Security events, newest first", _param("kind"), _param("limit", "integer")
        ),
        "/api/definitions": _get("Every definition", tag="definitions"),
        "/api/definitions/{app}": _get("The definitions of one app", app, tag="definitions"),
        "/api/definitions/{app}/{kind}/{name}": _get("One definition", app, kind, name, tag="definitions"),
        "/api/definitions/{app}/{kind}/{name}/versions": _get(
            "Published versions", app, kind, name, tag="definitions"
        ),
        "/api/definitions/{app}/entity/{name}/trash": _get(
            "Dropped fields kept for restore", app, name, tag="definitions"
        ),
        "/api/templates/export/{app}": _get("An app as a template bundle", app, tag="templates"),
    }


def create_from_paths(offered: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    """``GET /api/mappings/<app>/<mapping>/draft-from/{id}`` of each (app, mapping, source, target) the caller
    may use: the draft of a new target record made from a source record (nothing written)."""
    return {
        f"/api/mappings/{app}/{name}/draft-from/{{id}}": _get(
            f"The draft of a new {target} made from a {source} (values, lines, errors; nothing written)",
            _param("id", "integer", "path"),
            tag="create from",
        )
        for app, name, source, target in offered
    }
