"""``/api/openapi.json``: an OpenAPI 3.1 document of what the caller may use.

Anonymous callers see the sign-in operations only. A signed-in user sees the entities, operations and
workflow transitions their roles grant, without the fields their roles hide (the permission service
answers every question). Administrators see every published entity.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from lowcode.api.edge import resolve_actor, services
from lowcode.api.openapi_ingest import ingest_paths
from lowcode.api.openapi_paths import ERROR_SCHEMA, Allowed, auth_paths, entity_paths, entity_schema
from lowcode.api.openapi_platform import admin_paths, create_from_paths, user_paths
from lowcode.auth.permissions import PermissionService
from lowcode.errors import PermissionDenied, Unauthenticated
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import Actor
from lowcode.runtime.snapshot import Snapshot

bp = Blueprint("api_openapi", __name__, url_prefix="/api")

DESCRIBED_ACTIONS = ("read", "create", "update", "delete", "export")


def allowed_for(permissions: PermissionService, actor: Actor, entity: CompiledEntity) -> Allowed | None:
    """What ``actor`` may use of ``entity`` now (None: nothing at all)."""

    def granted(check, *args) -> bool:
        try:
            check(actor, entity, *args)
        except PermissionDenied:
            return False
        return True

    actions = frozenset(a for a in DESCRIBED_ACTIONS if granted(permissions.grants, a))
    names = list(entity.workflow.transitions) if entity.workflow is not None else []
    transitions = tuple(n for n in names if granted(permissions.transition_grants, n))
    if not actions and not transitions:
        return None
    return Allowed(
        actions,
        transitions,
        permissions.hidden_fields(actor, entity),
        permissions.read_only_fields(actor, entity),
    )


def _child_schemas(snapshot: Snapshot, entity: CompiledEntity, allowed: Allowed) -> dict[str, Any]:
    """Schemas of the child tables of the visible child fields (child rows are shown whole)."""
    out = {}
    for cf in entity.child_fields:
        if cf.name not in allowed.hidden:
            child = snapshot.entity(entity.app, cf.fdef.options["entity"])
            out[f"{child.app}.{child.name}"] = entity_schema(child)
    return out


def _qualify_refs(schemas: dict[str, Any], snapshot: Snapshot) -> None:
    """Child-table fields refer to their table by entity name; point them at ``app.entity``."""
    for schema in schemas.values():
        for prop in schema.get("properties", {}).values():
            items = prop.get("items", {})
            if "$ref" in items and not items["$ref"].startswith("#/components/schemas/Error"):
                target = items["$ref"].rsplit("/", 1)[1]
                if "." not in target:
                    app = next((a for (a, n) in snapshot.entities if n == target), "")
                    items["$ref"] = f"#/components/schemas/{app}.{target}"


def _offered(
    snapshot: Snapshot, actor: Actor, permissions: PermissionService
) -> list[tuple[str, str, str, str]]:
    """The "create from" mappings the actor may use: read their source, create their target."""
    found = []
    for (app, name), mapping in sorted(snapshot.mappings.items()):
        source = snapshot.entities.get((app, mapping.source_entity or ""))
        if mapping.offer is None or source is None:
            continue
        try:
            permissions.authorize(actor, mapping.target, "create")
            permissions.authorize(actor, source, "read")
        except PermissionDenied:
            continue
        found.append((app, name, source.name, mapping.target.name))
    return found


def build_openapi(
    snapshot: Snapshot | None, actor: Actor | None, permissions: PermissionService
) -> dict[str, Any]:
    """The OpenAPI document for ``actor`` (None: anonymous, the sign-in operations only)."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = auth_paths(signed_in=actor is not None)
    if actor is not None and snapshot is not None:
        writable: set[tuple[str, str]] = set()
        for (app, name), entity in sorted(snapshot.entities.items()):
            allowed = None if entity.is_child else allowed_for(permissions, actor, entity)
            if allowed is None:
                continue
            if allowed.actions & {"create", "update"}:
                writable.add((app, name))
            schemas[f"{app}.{name}"] = entity_schema(entity, allowed)
            schemas.update(_child_schemas(snapshot, entity, allowed))
            paths.update(entity_paths(entity, allowed))
        _qualify_refs(schemas, snapshot)
        paths.update(ingest_paths(snapshot, lambda e: (e.app, e.name) in writable))
        paths.update(user_paths())
        paths.update(create_from_paths(_offered(snapshot, actor, permissions)))
        paths.update(_report_paths(snapshot, actor, permissions))
        if actor.is_admin:
            paths.update(admin_paths(sorted({a for a, _ in snapshot.entities})))
    return {
        "openapi": "3.1.0",
        "info": {"title": "lowcode data API", "version": str(snapshot.version) if snapshot else "0"},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _report_paths(snapshot: Snapshot, actor: Actor, permissions: PermissionService) -> dict[str, Any]:
    """The runs of the reports the actor may run (their data permissions are checked when they run)."""
    from lowcode.api.openapi_reports import report_paths
    from lowcode.reports.service import ReportService

    service = ReportService(permissions)
    runnable = [r for r in snapshot.reports.values() if service.may_run_as(actor, snapshot, r)]
    return report_paths(sorted(runnable, key=lambda r: (r.app, r.name)))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of what the caller may use (sign-in only for anonymous callers, or a token
    that is no longer valid)."""
    svc = services()
    with svc.db.read() as session:
        try:
            actor = resolve_actor(session, required=False)
        except Unauthenticated:
            actor = None
        snapshot = svc.snapshots.get(session) if actor is not None else None
        return jsonify(build_openapi(snapshot, actor, svc.permissions))
