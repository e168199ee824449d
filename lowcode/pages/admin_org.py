"""Administration pages: the department tree (create, rename/move, delete) and integrator tokens
(create for a user + app role, shown once; list; revoke). The work is done by :mod:`lowcode.auth.admin`.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.auth import departments, token_admin
from lowcode.auth.lifecycle import as_utc
from lowcode.core.models import ApiToken, User, utcnow
from lowcode.errors import ValidationFailed
from lowcode.pages.admin_common import (
    MAX_ROWS,
    admin_work,
    app_role,
    department_choices,
    departments_in_tree_order,
    form_id,
    form_text,
    form_time,
    role_choices,
    user_choices,
)
from lowcode.pages.blueprint import bp
from lowcode.pages.i18n import current_language


# -- departments -----------------------------------------------------------------------------------
def render_departments(
    status: int = 200,
    message: str | None = None,
    errors: dict | None = None,
    failed: int | None = None,
    values: dict | None = None,
):
    """The department tree with each one's number of users; ``failed`` marks the row a refused change
    was about (its reason is shown there), else the reason goes above the create form."""
    with admin_work("read departments") as ctx:
        tree = departments_in_tree_order(ctx.session)
        counts = dict(
            ctx.session.execute(
                sa.select(User.department_id, sa.func.count())
                .where(User.department_id.is_not(None))
                .group_by(User.department_id)
            ).all()
        )
        choices = department_choices(ctx.session)
    for node in tree:
        node["users"] = counts.get(node["id"], 0)
    page = {
        "tree": tree,
        "choices": choices,
        "message": message,
        "errors": errors or {},
        "failed": failed,
        "values": values or {},
    }
    return render_template("admin/departments.html", p=page), status


@bp.get("/admin/departments")
def admin_departments():
    """The department tree and the create form."""
    return render_departments()


@bp.post("/admin/departments")
def admin_create_department():
    """Add a department (a root when no parent is chosen)."""
    name, parent_id = form_text("name"), form_id("parent_id")
    try:
        with admin_work("manage departments", write=True) as ctx:
            departments.create_department(ctx.session, ctx.actor, name, parent_id)
    except ValidationFailed as exc:
        return render_departments(422, exc.message, exc.fields, values={"name": name, "parent_id": parent_id})
    flash(_("Department %(name)s created.", name=name), "success")
    return redirect(url_for("pages.admin_departments"), code=303)


@bp.post("/admin/departments/<int:dept_id>")
def admin_update_department(dept_id: int):
    """Rename and/or move a department (its whole subtree moves along; a move under itself is refused)."""
    changes = {"name": form_text("name"), "parent_id": form_id("parent_id")}
    try:
        with admin_work("manage departments", write=True) as ctx:
            departments.update_department(ctx.session, ctx.actor, dept_id, changes)
    except ValidationFailed as exc:
        return render_departments(422, exc.message, exc.fields, failed=dept_id)
    flash(_("Department saved."), "success")
    return redirect(url_for("pages.admin_departments"), code=303)


@bp.post("/admin/departments/<int:dept_id>/delete")
def admin_delete_department(dept_id: int):
    """Delete an empty department; the service's refusal (users or sub-departments left) is shown."""
    try:
        with admin_work("manage departments", write=True) as ctx:
            departments.delete_department(ctx.session, ctx.actor, dept_id)
    except ValidationFailed as exc:
        return render_departments(422, exc.message, failed=dept_id)
    flash(_("Department deleted."), "success")
    return redirect(url_for("pages.admin_departments"), code=303)


# -- integrator tokens -----------------------------------------------------------------------------
def render_tokens(
    status: int = 200, message: str | None = None, errors: dict | None = None, values: dict | None = None
):
    """Integrator tokens, newest first (``?all=1``: sign-in tokens too) - never a token's secret - and
    the create form."""
    show_all = request.args.get("all") == "1"
    with admin_work("read tokens") as ctx:
        query = (
            sa.select(ApiToken, User.username)
            .join(User, User.id == ApiToken.user_id)
            .order_by(ApiToken.id.desc())
            .limit(MAX_ROWS)
        )
        if not show_all:
            query = query.where(ApiToken.app.is_not(None))
        now = utcnow()
        tokens = [_token_row(t, username, now) for t, username in ctx.session.execute(query)]
        page = {
            "tokens": tokens,
            "all": show_all,
            "users": user_choices(ctx.session, active_only=True),
            "roles": role_choices(ctx.snapshot, current_language()),
            "message": message,
            "errors": errors or {},
            "values": values or {},
        }
    return render_template("admin/tokens.html", p=page), status


def _token_row(token: ApiToken, username: str, now) -> dict:
    expires = as_utc(token.expires_at)
    state = "revoked" if token.revoked_at else "expired" if expires and expires <= now else "active"
    return {
        "id": token.id,
        "name": token.name,
        "user_id": token.user_id,
        "username": username,
        "app": token.app,
        "role": token.role,
        "created_by": token.created_by,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": expires,
        "revoked_at": token.revoked_at,
        "state": state,
    }


@bp.get("/admin/tokens")
def admin_tokens():
    """The token list and the create form."""
    return render_tokens()


@bp.post("/admin/tokens")
def admin_create_token():
    """Issue a token acting with one role of one app for a user; the result page shows it this once."""
    app, role = app_role(form_text("role"))
    data = {
        "user_id": form_id("user_id"),
        "app": app,
        "role": role,
        "name": form_text("name"),
        "expires_at": form_time("expires_at"),
    }
    try:
        with admin_work("create tokens", write=True) as ctx:
            row, plain = token_admin.create_scoped_token(ctx.session, ctx.actor, ctx.snapshot, data, utcnow())
            username = ctx.session.get(User, row.user_id).username
            token = _token_row(row, username, utcnow())
    except ValidationFailed as exc:
        values = {**data, "role": form_text("role"), "expires_at": data["expires_at"] or ""}
        return render_tokens(422, exc.message, exc.fields, values)
    response = make_response(render_template("admin/token_created.html", token=token, plain=plain))
    response.headers["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@bp.post("/admin/tokens/<int:token_id>/revoke")
def admin_revoke_token(token_id: int):
    """Revoke a token at once."""
    try:
        with admin_work("revoke tokens", write=True) as ctx:
            token_admin.revoke_token_by_id(ctx.session, ctx.actor, token_id, utcnow())
    except ValidationFailed as exc:
        return render_tokens(422, exc.message)
    flash(_("Token %(id)s revoked.", id=token_id), "success")
    return redirect(url_for("pages.admin_tokens"), code=303)
