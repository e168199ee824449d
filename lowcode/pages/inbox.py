"""The notifications inbox: the signed-in user's notifications grouped by kind (the rule that sent them) with
counts, mark read (one, a kind, or all), and the unread count shown in the navigation bar of every page."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from lowcode import notifications
from lowcode.api.edge import services, unit_of_work
from lowcode.api.params import int_arg
from lowcode.pages.blueprint import bp
from lowcode.pages.display import format_moment
from lowcode.pages.i18n import current_language
from lowcode.pages.rulenames import rule_label
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


GROUP_PREVIEW = 3
"""Notifications of each kind shown on the grouped inbox (the kind's own page shows them all)."""


def _item(row) -> dict:
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "link": notifications.safe_link(row.link),
        "at": format_moment(row.created_at),
        "read": row.read_at is not None,
        "app": row.app,
    }


def _kind_label(ctx, app: str, rule: str, language: str) -> str:
    if not rule:
        return _("Other notifications")
    return rule_label(ctx, app, rule, language)


def _kind_arg() -> str | None:
    kind = request.values.get("kind", "")
    return kind if ":" in kind and len(kind) <= 130 else None


@bp.get("/inbox")
def inbox():
    """The user's notifications grouped by kind (the rule that sent them) with counts; ``?kind=<app>:<rule>``:
    that kind's notifications (``?unread=1``: unread only; ``?before=<id>``: older ones)."""
    unread_only = request.args.get("unread") == "1"
    before_id = int_arg(request.args, "before", None, 1)
    kind = _kind_arg()
    language = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        user_id = ctx.actor.user_id
        groups = notifications.kinds_for_user(ctx.session, user_id)
        for group in groups:
            group["label"] = _kind_label(ctx, group["app"], group["rule"], language)
            group["url"] = url_for("pages.inbox", kind=group["kind"])
            if kind is None and (group["unread"] or not unread_only):
                rows = notifications.list_for_user(
                    ctx.session, user_id, GROUP_PREVIEW, None, unread_only, group["kind"]
                )
                group["items"] = [_item(r) for r in rows]
        items = []
        if kind is not None:
            rows = notifications.list_for_user(
                ctx.session, user_id, notifications.PAGE_SIZE, before_id, unread_only, kind
            )
            items = [_item(r) for r in rows]
    if unread_only and kind is None:
        groups = [g for g in groups if g["unread"]]
    current = next((g for g in groups if g["kind"] == kind), None)
    older = items[-1]["id"] if len(items) == notifications.PAGE_SIZE else None
    return render_template(
        "pages/inbox.html",
        groups=groups,
        items=items,
        kind=kind,
        current=current,
        unread_only=unread_only,
        older=older,
    )


@bp.post("/inbox/<int:notification_id>/read")
def inbox_mark_read(notification_id: int):
    """Mark one of the user's notifications read (CSRF-checked), then back to the inbox."""
    require_csrf()
    with unit_of_work(write=True, source="page") as ctx:
        notifications.mark_read(ctx.session, ctx.actor.user_id, notification_id)
    return redirect(_back(), code=303)


@bp.post("/inbox/read-all")
def inbox_mark_all_read():
    """Mark all the user's notifications (of one ``kind``, when posted) read (CSRF-checked), then back."""
    require_csrf()
    with unit_of_work(write=True, source="page") as ctx:
        notifications.mark_all_read(ctx.session, ctx.actor.user_id, kind=_kind_arg())
    return redirect(_back(), code=303)


def _back() -> str:
    kind = request.form.get("back_kind", "")
    args = {"unread": "1"} if request.form.get("unread") == "1" else {}
    if ":" in kind and len(kind) <= 130:
        args["kind"] = kind
    return url_for("pages.inbox", **args)
