"""``/api/changes``: the changes feed (:mod:`lowcode.runtime.changes`), permission-filtered, in commit order."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from lowcode.api.edge import services, unit_of_work
from lowcode.api.params import int_arg
from lowcode.runtime.changes import MAX_LIMIT, FeedScope, Position, read_changes

bp = Blueprint("api_changes", __name__, url_prefix="/api/changes")


@bp.get("")
def changes():
    """Changes after ``since`` (a ``next`` value; absent: from the start), at most ``limit``, optionally of one
    ``app`` or one ``entity`` of it: ``{"data": [...], "next": position, "more": bool}``."""
    since = Position.parse(request.args.get("since"))
    limit = int_arg(request.args, "limit", 100, 1, MAX_LIMIT)
    scope = FeedScope(app=request.args.get("app") or None, entity=request.args.get("entity") or None)
    with unit_of_work(write=False) as ctx:
        page = read_changes(ctx, services().permissions, since, limit, scope)
    return jsonify({"data": page.entries, "next": str(page.next), "more": page.more})
