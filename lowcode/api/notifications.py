"""``/api/notifications``: the caller's own notifications - list (newest first, with the unread count),
mark one read, mark all read. Nobody sees or changes another user's notifications (not even an admin)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from lowcode import notifications
from lowcode.api.edge import unit_of_work
from lowcode.api.params import int_arg
from lowcode.errors import Unauthenticated

bp = Blueprint("api_notifications", __name__, url_prefix="/api/notifications")


def _user_id(ctx) -> int:
    if ctx.actor.user_id is None:
        raise Unauthenticated("Sign in first")
    return ctx.actor.user_id


@bp.get("")
def list_notifications():
    """``?limit=50&before=<id>&unread=1`` -> ``{"data": [...], "unread": n, "next_before": id | null}``."""
    limit = int_arg(request.args, "limit", notifications.PAGE_SIZE, 1, notifications.MAX_PAGE_SIZE)
    before = int_arg(request.args, "before", None, 1)
    unread_only = request.args.get("unread") in ("1", "true")
    with unit_of_work(write=False) as ctx:
        user_id = _user_id(ctx)
        rows = notifications.list_for_user(ctx.session, user_id, limit, before, unread_only)
        unread = notifications.unread_count(ctx.session, user_id)
        data = [notifications.notification_json(r) for r in rows]
    next_before = data[-1]["id"] if len(data) == limit else None
    return jsonify({"data": data, "unread": unread, "next_before": next_before})


@bp.post("/<int:notification_id>/read")
def mark_read(notification_id: int):
    """Mark one of the caller's notifications read -> the notification and the new unread count."""
    with unit_of_work(write=True) as ctx:
        user_id = _user_id(ctx)
        row = notifications.mark_read(ctx.session, user_id, notification_id)
        body = {
            **notifications.notification_json(row),
            "unread": notifications.unread_count(ctx.session, user_id),
        }
    return jsonify(body)


@bp.post("/read-all")
def mark_all_read():
    """Mark every unread notification of the caller read -> ``{"marked": n, "unread": 0}``."""
    with unit_of_work(write=True) as ctx:
        marked = notifications.mark_all_read(ctx.session, _user_id(ctx))
    return jsonify({"marked": marked, "unread": 0})
