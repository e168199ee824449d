"""``/api/integrations``: outbound delivery health, dead letters and replay - administrators only."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify

from lowcode.api.edge import json_body, services, unit_of_work
from lowcode.core.models import utcnow
from lowcode.errors import BadRequest
from lowcode.integrations.health import dead_letters, health
from lowcode.integrations.replay import ReplayRequest, replay

bp = Blueprint("api_integrations", __name__, url_prefix="/api/integrations")


@bp.get("/health")
def get_health():
    """Per subscription: pending, failing, dead, delivered, lag, last error."""
    with unit_of_work(write=False) as ctx:
        services().permissions.authorize_platform(ctx.actor, "see integration health")
        rows = [h.as_json() for h in health(ctx.session, utcnow())]
        dead = dead_letters(ctx.session)
    return jsonify({"subscriptions": rows, "dead_letters": dead})


def _time(body: dict, key: str) -> dt.datetime | None:
    raw = body.get(key)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(str(raw))
    except ValueError:
        raise BadRequest(f"{key}: an ISO 8601 date-time, e.g. 2026-11-25T06:00:00Z") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > 64):
        raise BadRequest(f"{key}: a name")
    return value


@bp.post("/replay")
def post_replay():
    """Replay ``{"dead": true}`` (dead letters) or ``{"since": ..., "until": ...}`` (every delivery of the
    range), optionally of one ``app`` / ``subscription``; answers how many were put back."""
    with unit_of_work(write=True) as ctx:
        services().permissions.authorize_platform(ctx.actor, "replay deliveries")
        count = replay(ctx.session, _replay_request(), utcnow())
    return jsonify({"replayed": count})


def _replay_request() -> ReplayRequest:
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object")
    dead = body.get("dead", False)
    if not isinstance(dead, bool):
        raise BadRequest("dead: true or false")
    wanted = ReplayRequest(
        dead, _text(body, "app"), _text(body, "subscription"), _time(body, "since"), _time(body, "until")
    )
    wanted.check()
    return wanted
