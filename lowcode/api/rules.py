"""``/api/rules/<app>``: the rule-run log, and dry runs of rules against real records.

- ``GET /api/rules/<app>/runs?entity=&record_id=&rule=&limit=``: runs, newest first. With ``entity`` the
  caller needs ``read`` on it (and, with ``record_id``, on that record); app-wide queries are for
  administrators only.
- ``POST /api/rules/<app>/dry-run`` with ``{"entity", "record_id"?, "changes"?, "version"?, "rule"?,
  "cascade"?}``: what the write would do with only the named rule (or every rule of the entity) enabled,
  rolled back (see :mod:`lowcode.rules.dryrun`). Needs ``update`` (or, without ``record_id``, ``create``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from lowcode.api.edge import json_body, record_version, services, unit_of_work
from lowcode.api.params import int_arg
from lowcode.core.jsonutil import to_jsonable
from lowcode.core.models import RuleRunEntry
from lowcode.errors import BadRequest, NotFound
from lowcode.rules.dryrun import dry_run
from lowcode.rules.runlog import runs

bp = Blueprint("api_rules", __name__, url_prefix="/api/rules")

MAX_LIMIT = 500
DRY_RUN_KEYS = frozenset({"entity", "record_id", "changes", "version", "rule", "cascade"})


def run_json(entry: RuleRunEntry) -> dict[str, Any]:
    """One rule run as JSON."""
    return to_jsonable(
        {
            "id": entry.id,
            "at": entry.at,
            "rule": entry.rule,
            "rule_version": entry.rule_version,
            "entity": entry.entity,
            "record_id": entry.record_id,
            "trigger": entry.trigger,
            "phase": entry.phase,
            "outcome": entry.outcome,
            "message": entry.message,
            "duration_ms": entry.duration_ms,
            "actions": entry.actions or [],
        }
    )


@bp.get("/<app>/runs")
def list_runs(app: str):
    """Rule runs of an app, newest first, optionally of one entity, record or rule."""
    entity, rule = request.args.get("entity") or None, request.args.get("rule") or None
    record_id = int_arg(request.args, "record_id", None, 1)
    limit = int_arg(request.args, "limit", 100, 1, MAX_LIMIT)
    if record_id is not None and entity is None:
        raise BadRequest("record_id needs entity")
    with unit_of_work(write=False) as ctx:
        ctx.snapshot.app(app)
        visible = None
        if entity is None:
            services().permissions.authorize_platform(ctx.actor, "read the rule runs of a whole app")
        else:
            compiled = ctx.snapshot.entity(app, entity)
            services().permissions.authorize(ctx.actor, compiled, "read")
            if record_id is not None:
                _readable_record(ctx, app, entity, record_id)
            visible = services().queries.visible_ids(ctx, compiled)  # only runs of records they may read
        found = runs(
            ctx.session, app, entity=entity, record_id=record_id, rule=rule, limit=limit, record_ids=visible
        )
        items = [run_json(e) for e in found]
    return jsonify({"data": items})


def _readable_record(ctx, app: str, entity: str, record_id: int) -> None:
    """The caller's record rules must let them read the record (deleted records included)."""
    queries = services().queries
    try:
        queries.get(ctx, app, entity, record_id)
    except NotFound:
        queries.get(ctx, app, entity, record_id, deleted=True)


@bp.post("/<app>/dry-run")
def dry_run_rules(app: str):
    """Run a write with some rules in a transaction that is rolled back; report what it would do."""
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object")
    unknown = sorted(set(body) - DRY_RUN_KEYS)
    if unknown:
        raise BadRequest(f"Unknown keys: {', '.join(unknown)}")
    entity, record_id, changes = body.get("entity"), body.get("record_id"), body.get("changes", {})
    version, rule, cascade = body.get("version"), body.get("rule"), body.get("cascade", True)
    if not isinstance(entity, str) or not entity:
        raise BadRequest("entity is required")
    for name, value in (("record_id", record_id), ("version", version)):
        if value is not None:
            record_version(value, name)
    if not isinstance(changes, dict):
        raise BadRequest("changes must be an object of field values")
    if rule is not None and not isinstance(rule, str):
        raise BadRequest("rule must be a rule name")
    if not isinstance(cascade, bool):
        raise BadRequest("cascade must be true or false")
    with unit_of_work(write=True) as ctx:
        ctx.snapshot.app(app)
        result = dry_run(
            services(), ctx, app, entity, record_id, changes, version=version, rule=rule, cascade=cascade
        )
    return jsonify(result)
