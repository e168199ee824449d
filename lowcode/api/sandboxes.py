"""``/api/sandboxes``: make a sandbox of an app, read its change set, publish it to the live app, throw it
away. Only users who may design the whole app (:mod:`lowcode.sandbox.access`)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from lowcode.api.edge import json_body, services, unit_of_work
from lowcode.auth.design_access import require_design
from lowcode.errors import BadRequest
from lowcode.runtime.schema_plan import PublishOptions
from lowcode.sandbox.access import audit
from lowcode.sandbox.changes import change_set, publish_to_live, require_sandbox
from lowcode.sandbox.discard import throw_away
from lowcode.sandbox.making import DEFAULT_SAMPLE, make_sandbox
from lowcode.sandbox.masking import mask_key_for

OPTION_KEYS = {"renames", "consent", "restore"}
bp = Blueprint("api_sandboxes", __name__, url_prefix="/api/sandboxes")


def _body(allowed: set[str]) -> dict:
    body = json_body() if request.get_data(cache=True) else {}
    if not isinstance(body, dict) or set(body) - allowed:
        raise BadRequest(f"The body is an object that may hold {', '.join(sorted(allowed))}")
    return body


@bp.post("/<app>")
def make(app: str):
    """Make a sandbox of ``app``. Optional body: ``name`` (default ``<app>_sandbox``), ``sample`` (the latest
    records copied per table, default 20; what they link to comes too; personal fields masked)."""
    with unit_of_work(write=True) as ctx:
        svc = services()
        require_design(svc.permissions, ctx, app)
        body = _body({"name", "sample"})
        name, sample = body.get("name"), body.get("sample", DEFAULT_SAMPLE)
        if not isinstance(name, str | None) or not isinstance(sample, int) or isinstance(sample, bool):
            raise BadRequest("'name' must be a text and 'sample' a whole number")
        key = mask_key_for(svc.settings)
        made = make_sandbox(
            ctx,
            svc.records,
            svc.snapshots,
            app,
            name=name,
            per_entity=sample,
            mask_key=key,
            settings=svc.settings,
        )
        audit(ctx, made["app"], "sandbox made", live_app=app)
    return jsonify(made), 201


@bp.get("/<app>")
def changes(app: str):
    """The change set of the sandbox ``app``: definitions added or changed against its live app (with
    conflicts), live changes since the copy, unpublished sandbox drafts."""
    with unit_of_work(write=False) as ctx:
        require_design(services().permissions, ctx, app)
        return jsonify(change_set(ctx.session, app).as_json())


@bp.post("/<app>/publish")
def publish(app: str):
    """Publish the sandbox's change set to its live app. Optional body: ``confirm`` (true: publish although
    the live app changed since the copy), ``dry_run``, ``entities`` (publish options per entity: renames,
    consent, restore). The answer lists each definition published with its version and schema plan."""
    with unit_of_work(write=True) as ctx:
        svc = services()
        require_design(svc.permissions, ctx, app)
        live = require_sandbox(ctx.session, app).live_app
        require_design(svc.permissions, ctx, live)
        body = _body({"confirm", "dry_run", "entities"})
        confirm, dry_run, per_entity = (
            body.get("confirm", False),
            body.get("dry_run", False),
            body.get("entities", {}),
        )
        if not isinstance(confirm, bool) or not isinstance(dry_run, bool) or not isinstance(per_entity, dict):
            raise BadRequest("'confirm' and 'dry_run' must be true or false and 'entities' an object")
        if not all(isinstance(doc, dict) and not set(doc) - OPTION_KEYS for doc in per_entity.values()):
            raise BadRequest("Publish options of an entity may hold 'renames', 'consent' and 'restore'")
        options = {name: PublishOptions.from_json(doc) for name, doc in per_entity.items()}
        result, published = publish_to_live(
            ctx, app, options, confirmed=confirm, dry_run=dry_run, settings=svc.settings
        )
        if not dry_run:
            audit(ctx, live, "published from a sandbox", sandbox=app, definitions=len(published))
    return jsonify(
        {
            **result.as_json(),
            "dry_run": dry_run,
            "published": [
                {
                    "kind": p.kind,
                    "name": p.name,
                    "version": p.version,
                    "plan": p.plan.as_json() if p.plan else None,
                }
                for p in published
            ],
        }
    )


@bp.delete("/<app>")
def discard(app: str):
    """Throw the sandbox ``app`` away: its tables, definitions and every record of it."""
    with unit_of_work(write=True) as ctx:
        require_design(services().permissions, ctx, app)
        live = require_sandbox(ctx.session, app).live_app
        outcome = throw_away(ctx.session, app)
        audit(ctx, app, "sandbox thrown away", live_app=live)
    return jsonify(outcome)
