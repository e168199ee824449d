"""The notifications inbox: the signed-in user's notifications, mark read (one or all), and the unread count
shown in the navigation bar of every page."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for

from lowcode import notifications
from lowcode.api.edge import services, unit_of_work
from lowcode.api.params import int_arg
from lowcode.pages.blueprint import bp
from lowcode.pages.display import format_moment
from lowcode.pages.security import require_csrf


@bp.app_context_processor
def inbox_globals() -> dict:
    """``inbox_unread()`` for the navigation bar: one COUNT query, only when a page actually asks."""
    return {"inbox_unread": _unread_for_session}


def _unread_for_session() -> int:
    user_id = session.get("user_id")
    if not user_id:
        return 0
    with services().db.read() as db_session:
        return notifications.unread_count(db_session, user_id)


@bp.get("/inbox")
def inbox():
    """The user's newest notifications (``?unread=1``: unread only; ``?before=<id>``: older ones)."""
    unread_only = request.args.get("unread") == "1"
    before_id = int_arg(request.args, "before", None, 1)
    with unit_of_work(write=False, source="page") as ctx:
        rows = notifications.list_for_user(ctx.session, ctx.actor.user_id, notifications.PAGE_SIZE, before_id,
                                           unread_only)  # fmt: skip
        items = [
            {"id": r.id, "title": r.title, "body": r.body, "link": notifications.safe_link(r.link),
             "at": format_moment(r.created_at), "read": r.read_at is not None, "app": r.app}
            for r in rows
        ]  # fmt: skip
    older = items[-1]["id"] if len(items) == notifications.PAGE_SIZE else None
    return render_template("pages/inbox.html", items=items, unread_only=unread_only, older=older)


@bp.post("/inbox/<int:notification_id>/read")
def inbox_mark_read(notification_id: int):
    """Mark one of the user's notifications read (CSRF-checked), then back to the inbox."""
    require_csrf()
    with unit_of_work(write=True, source="page") as ctx:
        notifications.mark_read(ctx.session, ctx.actor.user_id, notification_id)
    return redirect(_back(), code=303)


@bp.post("/inbox/read-all")
def inbox_mark_all_read():
    """Mark all the user's notifications read (CSRF-checked), then back to the inbox."""
    require_csrf()
    with unit_of_work(write=True, source="page") as ctx:
        notifications.mark_all_read(ctx.session, ctx.actor.user_id)
    return redirect(_back(), code=303)


def _back() -> str:
    return url_for("pages.inbox", unread="1") if request.form.get("unread") == "1" else url_for("pages.inbox")
