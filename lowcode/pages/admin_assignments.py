"""Administration pages: role assignments of a user - assign a published role, renew, end now.

The forms live on the user's page (:func:`lowcode.pages.admin_users.render_user`); a refused change
re-renders that page with the reason, a done one goes back to it with a notice.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _

from lowcode.auth import admin, assignment_admin
from lowcode.core.models import RoleAssignment, utcnow
from lowcode.errors import NotFound, ValidationFailed
from lowcode.pages.admin_common import admin_work, app_role, form_text, form_time
from lowcode.pages.admin_users import render_user
from lowcode.pages.blueprint import bp


def _back(user_id: int):
    return redirect(url_for("pages.admin_user", user_id=user_id) + "#assignments", code=303)


def _owner(ctx, assignment_id: int) -> int:
    """The user of an assignment (for going back to their page). :raises NotFound:"""
    row = ctx.session.get(RoleAssignment, assignment_id)
    if row is None:
        raise NotFound(f"No role assignment with id {assignment_id}")
    return row.user_id


@bp.post("/admin/users/<int:user_id>/assignments")
def admin_assign_role(user_id: int):
    """Give the user a published role (``app/role`` choice), optionally until an end date (UTC)."""
    app, role = app_role(form_text("role"))
    data = {
        "user_id": user_id,
        "app": app,
        "role": role,
        "ends_at": form_time("ends_at"),
        "note": form_text("note"),
    }
    try:
        with admin_work("assign roles", write=True) as ctx:
            assignment_admin.assign_role(ctx.session, ctx.actor, ctx.snapshot, data, utcnow())
    except ValidationFailed as exc:
        assign = {
            "errors": exc.fields,
            "message": exc.message,
            "role": form_text("role"),
            "ends_at": data["ends_at"] or "",
            "note": data["note"],
        }
        return render_user(user_id, 422, assign=assign)
    flash(_("Role %(role)s of %(app)s assigned.", role=role, app=app), "success")
    return _back(user_id)


@bp.post("/admin/assignments/<int:assignment_id>/renew")
def admin_renew_assignment(assignment_id: int):
    """Keep an assignment that has not ended: a new end date (UTC), or open-ended when left blank."""
    user_id = 0
    try:
        with admin_work("assign roles", write=True) as ctx:
            user_id = _owner(ctx, assignment_id)
            ends_at = admin.parse_time(form_time("ends_at"), "ends_at")
            assignment_admin.renew_assignment(ctx.session, ctx.actor, assignment_id, ends_at, utcnow())
    except ValidationFailed as exc:
        assign = {"errors": {}, "problems": exc.fields, "message": exc.message, "failed": assignment_id}
        return render_user(user_id, 422, assign=assign)
    flash(_("Assignment %(id)s renewed.", id=assignment_id), "success")
    return _back(user_id)


@bp.post("/admin/assignments/<int:assignment_id>/end")
def admin_end_assignment(assignment_id: int):
    """End an assignment now."""
    user_id = 0
    try:
        with admin_work("assign roles", write=True) as ctx:
            user_id = _owner(ctx, assignment_id)
            assignment_admin.end_assignment(ctx.session, ctx.actor, assignment_id, utcnow())
    except ValidationFailed as exc:
        return render_user(
            user_id,
            422,
            assign={"errors": {}, "problems": exc.fields, "message": exc.message, "failed": assignment_id},
        )
    flash(_("Assignment %(id)s ended.", id=assignment_id), "success")
    return _back(user_id)
