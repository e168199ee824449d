"""``/api/definitions``: read, save drafts, publish, list versions and roll back definitions."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from lowcode.api.edge import json_body, services, unit_of_work
from lowcode.core.jsonutil import to_jsonable
from lowcode.definitions import publisher, store, trash
from lowcode.definitions.app_names import require_free_app_name
from lowcode.definitions.validate import validator_for
from lowcode.errors import BadRequest
from lowcode.runtime.schema_plan import PublishOptions

bp = Blueprint("api_definitions", __name__, url_prefix="/api/definitions")


@bp.get("")
@bp.get("/<app>")
def list_definitions(app: str | None = None):
    """Every definition (optionally of one app) with its published version and whether a draft is pending."""
    with unit_of_work(write=False) as ctx:
        services().permissions.authorize_platform(ctx.actor, "read definitions")
        items = [
            {
                "app": d.app,
                "kind": d.kind,
                "name": d.name,
                "published_version": d.published_version,
                "draft_updated_at": to_jsonable(d.draft_updated_at),
            }
            for d in store.list_definitions(ctx.session, app)
        ]
    return jsonify({"data": items})


@bp.get("/<app>/<kind>/<name>")
def get_definition(app: str, kind: str, name: str):
    """Draft and published body of one definition."""
    validator_for(kind)
    with unit_of_work(write=False) as ctx:
        services().permissions.authorize_platform(ctx.actor, "read definitions")
        view = store.get_definition(ctx.session, app, kind, name)
    return jsonify(
        {
            "app": app,
            "kind": kind,
            "name": name,
            "draft": view.draft,
            "published": view.published,
            "published_version": view.published_version,
        }
    )


@bp.put("/<app>/<kind>/<name>")
def put_definition(app: str, kind: str, name: str):
    """Save a draft (validated against the kind's JSON Schema; errors carry JSON paths)."""
    validator_for(kind)
    body = json_body()
    with unit_of_work(write=True) as ctx:
        services().permissions.authorize_platform(ctx.actor, "edit definitions")
        if kind == "app" and not store.list_definitions(ctx.session, app):
            require_free_app_name(app, services().reserved_app_names)
        store.save_draft(ctx.session, app, kind, name, body)
    return jsonify({"app": app, "kind": kind, "name": name, "draft": body})


def _publish_request() -> tuple[PublishOptions, bool]:
    """Publish options from an optional JSON body (renames, consent, restore) and whether it is a dry run."""
    body = json_body() if request.get_data(cache=True) else {}
    if not isinstance(body, dict):
        raise BadRequest("The publish options must be a JSON object")
    unknown = set(body) - {"renames", "consent", "restore", "dry_run"}
    if unknown:
        raise BadRequest(f"Unknown publish options: {', '.join(sorted(unknown))}")
    if not isinstance(body.get("dry_run", False), bool):
        raise BadRequest("'dry_run' must be true or false")
    return PublishOptions.from_json(body), body.get("dry_run", False)


def _published_json(app: str, outcome: publisher.Published, **extra) -> dict:
    plan = outcome.plan.as_json() if outcome.plan is not None else None
    return {
        "app": app,
        "kind": outcome.kind,
        "name": outcome.name,
        "version": outcome.version,
        "plan": plan,
        **extra,
    }


@bp.post("/<app>/<kind>/<name>/publish")
def publish_definition(app: str, kind: str, name: str):
    """Publish the draft as a new version (entities: the table follows the schema plan, which is returned).

    Optional JSON body: ``renames`` {old key: new key}, ``consent`` [field keys whose conversion may lose
    data], ``restore`` {field key: trash id}, ``dry_run`` (true: only the checks and the plan, nothing changes).
    """
    validator_for(kind)
    options, dry_run = _publish_request()
    with unit_of_work(write=not dry_run) as ctx:
        services().permissions.authorize_platform(ctx.actor, "publish definitions")
        if dry_run:
            outcome = publisher.dry_run_publish(
                ctx.session, app, kind, name, options, settings=services().settings
            )
        else:
            outcome = publisher.publish_definition(
                ctx.session,
                app,
                kind,
                name,
                ctx.actor.username,
                options=options,
                settings=services().settings,
            )
    return jsonify(_published_json(app, outcome, dry_run=dry_run))


@bp.post("/<app>/publish")
def publish_app_drafts(app: str):
    """Publish every pending draft of an app together (a rename reaches the forms, views and rules that use the
    field in one step). Optional body: ``{"dry_run": bool, "entities": {"<entity>": {renames, consent,
    restore}}}``; the answer lists each definition with its version and, for entities, the schema plan."""
    body = json_body() if request.get_data(cache=True) else {}
    if not isinstance(body, dict) or set(body) - {"dry_run", "entities"}:
        raise BadRequest("The body may hold 'dry_run' and 'entities' (publish options per entity name)")
    dry_run, per_entity = body.get("dry_run", False), body.get("entities", {})
    if not isinstance(dry_run, bool) or not isinstance(per_entity, dict):
        raise BadRequest("'dry_run' must be true or false and 'entities' an object")
    options = {name: PublishOptions.from_json(_options_object(doc)) for name, doc in per_entity.items()}
    with unit_of_work(write=not dry_run) as ctx:
        services().permissions.authorize_platform(ctx.actor, "publish definitions")
        if dry_run:
            outcomes = publisher.dry_run_drafts(ctx.session, app, options, settings=services().settings)
        else:
            outcomes = publisher.publish_drafts(
                ctx.session, app, ctx.actor.username, options=options, settings=services().settings
            )
    items = [_published_json(app, outcome) for outcome in outcomes]
    return jsonify({"app": app, "dry_run": dry_run, "published": items})


def _options_object(doc) -> dict:
    if not isinstance(doc, dict) or set(doc) - {"renames", "consent", "restore"}:
        raise BadRequest("Publish options of an entity may hold 'renames', 'consent' and 'restore'")
    return doc


@bp.get("/<app>/<kind>/<name>/versions")
def list_versions(app: str, kind: str, name: str):
    """Published versions, newest first."""
    validator_for(kind)
    with unit_of_work(write=False) as ctx:
        services().permissions.authorize_platform(ctx.actor, "read definitions")
        items = [
            to_jsonable(
                {
                    "version": v.version,
                    "published_at": v.published_at,
                    "published_by": v.published_by,
                    "note": v.note,
                    "body": v.body,
                }
            )
            for v in store.versions(ctx.session, app, kind, name)
        ]
    return jsonify({"data": items})


@bp.post("/<app>/<kind>/<name>/rollback/<int:version>")
def rollback_definition(app: str, kind: str, name: str, version: int):
    """Republish an earlier version's body as a new version (same optional options as publish)."""
    validator_for(kind)
    options, dry_run = _publish_request()
    if dry_run:
        raise BadRequest("A rollback has no dry run; save the old version as a draft and dry-run its publish")
    with unit_of_work(write=True) as ctx:
        services().permissions.authorize_platform(ctx.actor, "publish definitions")
        outcome = publisher.rollback(
            ctx.session, app, kind, name, version, ctx.actor.username, options, settings=services().settings
        )
    return jsonify(_published_json(app, outcome, rolled_back_to=version))


@bp.get("/<app>/entity/<name>/trash")
def list_trash(app: str, name: str):
    """Columns moved to the trash by publishes of an entity (removed or converted fields, orphans)."""
    with unit_of_work(write=False) as ctx:
        services().permissions.authorize_platform(ctx.actor, "read definitions")
        items = trash.list_trash(ctx.session, app, name)
    return jsonify({"data": to_jsonable(items)})


@bp.post("/<app>/entity/<name>/trash/<int:trash_id>/restore")
def restore_trashed(app: str, name: str, trash_id: int):
    """Bring a trashed column back as a field and publish; optional body ``{"as": "new_key"}``."""
    body = json_body() if request.get_data(cache=True) else {}
    as_key = body.get("as") if isinstance(body, dict) else None
    if not isinstance(body, dict) or set(body) - {"as"} or not isinstance(as_key, str | None):
        raise BadRequest("The body may only hold 'as': the field key to restore under")
    with unit_of_work(write=True) as ctx:
        services().permissions.authorize_platform(ctx.actor, "publish definitions")
        outcome = trash.restore(
            ctx.session, app, name, trash_id, ctx.actor.username, as_key, settings=services().settings
        )
    return jsonify(_published_json(app, outcome, restored=trash_id))


@bp.delete("/<app>/entity/<name>/trash/<int:trash_id>")
def purge_trashed(app: str, name: str, trash_id: int):
    """Drop a trashed column for good."""
    with unit_of_work(write=True) as ctx:
        services().permissions.authorize_platform(ctx.actor, "publish definitions")
        entry = trash.purge(ctx.session, app, name, trash_id, ctx.actor.username)
    return jsonify(to_jsonable(entry))
