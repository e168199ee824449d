"""``/api/definitions``: read, save drafts, publish, list versions and roll back definitions."""

from __future__ import annotations

from flask import Blueprint, jsonify

from lowcode.api.edge import json_body, services, unit_of_work
from lowcode.core.jsonutil import to_jsonable
from lowcode.definitions import store
from lowcode.definitions.validate import validator_for

bp = Blueprint("api_definitions", __name__, url_prefix="/api/definitions")


@bp.get("")
@bp.get("/<app>")
def list_definitions(app: str | None = None):
    """Every definition (optionally of one app) with its published version and whether a draft is pending."""
    with unit_of_work(write=False) as ctx:
        services().permissions.authorize_platform(ctx.actor, "read definitions")
        items = [
            {"app": d.app, "kind": d.kind, "name": d.name, "published_version": d.published_version,
             "draft_updated_at": to_jsonable(d.draft_updated_at)}
            for d in store.list_definitions(ctx.session, app)
        ]  # fmt: skip
    return jsonify({"data": items})


@bp.get("/<app>/<kind>/<name>")
def get_definition(app: str, kind: str, name: str):
    """Draft and published body of one definition."""
    validator_for(kind)
    with unit_of_work(write=False) as ctx:
        services().permissions.authorize_platform(ctx.actor, "read definitions")
        view = store.get_definition(ctx.session, app, kind, name)
    return jsonify({"app": app, "kind": kind, "name": name, "draft": view.draft,
                    "published": view.published, "published_version": view.published_version})  # fmt: skip


@bp.put("/<app>/<kind>/<name>")
def put_definition(app: str, kind: str, name: str):
    """Save a draft (validated against the kind's JSON Schema; errors carry JSON paths)."""
    validator_for(kind)
    body = json_body()
    with unit_of_work(write=True) as ctx:
        services().permissions.authorize_platform(ctx.actor, "edit definitions")
        store.save_draft(ctx.session, app, kind, name, body)
    return jsonify({"app": app, "kind": kind, "name": name, "draft": body})


@bp.post("/<app>/<kind>/<name>/publish")
def publish_definition(app: str, kind: str, name: str):
    """Publish the draft as a new version (entities: the table is created or altered)."""
    validator_for(kind)
    with unit_of_work(write=True) as ctx:
        services().permissions.authorize_platform(ctx.actor, "publish definitions")
        version = store.publish(ctx.session, app, kind, name, ctx.actor.username)
    return jsonify({"app": app, "kind": kind, "name": name, "version": version})


@bp.get("/<app>/<kind>/<name>/versions")
def list_versions(app: str, kind: str, name: str):
    """Published versions, newest first."""
    validator_for(kind)
    with unit_of_work(write=False) as ctx:
        services().permissions.authorize_platform(ctx.actor, "read definitions")
        items = [to_jsonable({"version": v.version, "published_at": v.published_at, "published_by": v.published_by,
                              "note": v.note, "body": v.body}) for v in store.versions(ctx.session, app, kind, name)]  # fmt: skip
    return jsonify({"data": items})


@bp.post("/<app>/<kind>/<name>/rollback/<int:version>")
def rollback_definition(app: str, kind: str, name: str, version: int):
    """Republish an earlier version's body as a new version."""
    validator_for(kind)
    with unit_of_work(write=True) as ctx:
        services().permissions.authorize_platform(ctx.actor, "publish definitions")
        new_version = store.rollback(ctx.session, app, kind, name, version, ctx.actor.username)
    return jsonify(
        {"app": app, "kind": kind, "name": name, "version": new_version, "rolled_back_to": version}
    )
