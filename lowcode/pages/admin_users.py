"""Administration pages: the overview, the user list with search and the create form, and a user's page
(edit their fields, reset the password, see their role assignments).

The work is done by :mod:`lowcode.auth.admin` (the same functions as ``/api/admin``); the role-assignment
buttons of the user page post to :mod:`lowcode.pages.admin_assignments`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.api.params import int_arg
from lowcode.auth import admin
from lowcode.auth.explain import assignment_json
from lowcode.core.models import ApiToken, Department, RoleAssignment, User, utcnow
from lowcode.errors import NotFound, ValidationFailed
from lowcode.pages.admin_common import (
    MAX_ROWS,
    admin_work,
    department_choices,
    form_bool,
    form_id,
    form_int,
    form_text,
    languages,
    role_choices,
    user_choices,
)
from lowcode.pages.blueprint import bp
from lowcode.pages.i18n import LANGUAGES, current_language

GRACE_NOTE = "grace:"
"""How :func:`lowcode.auth.lifecycle.start_grace` marks the note of an assignment given an end date."""


def user_row(user: User) -> dict[str, Any]:
    """A user's columns as a plain dict (the ORM row expires when the unit of work ends)."""
    return {c.key: getattr(user, c.key) for c in User.__table__.columns if c.key != "password_hash"}


def language_choices() -> list[tuple[str, str]]:
    """``(code, own name)`` of the configured languages."""
    return [(code, LANGUAGES.get(code, code)) for code in languages()]


@bp.get("/admin")
def admin_home():
    """The administration overview: a link and a count for each section."""
    with admin_work("administer the platform") as ctx:
        db = ctx.session
        counts = {
            "users": db.scalar(sa.select(sa.func.count()).select_from(User)),
            "departments": db.scalar(sa.select(sa.func.count()).select_from(Department)),
            "roles": len(ctx.snapshot.roles),
            "tokens": db.scalar(
                sa.select(sa.func.count())
                .select_from(ApiToken)
                .where(ApiToken.app.is_not(None), ApiToken.revoked_at.is_(None))
            ),
        }
    return render_template("admin/home.html", counts=counts)


# -- the user list ---------------------------------------------------------------------------------
def render_users(
    status: int = 200, errors: dict | None = None, message: str | None = None, values: dict | None = None
):
    """The user list (``?q=`` matches username or display name, ``?department=`` one department) with
    the create form (``values``/``errors`` when a creation failed)."""
    q, dept = request.args.get("q", "")[:150], int_arg(request.args, "department", None, 1)
    with admin_work("read users") as ctx:
        query = sa.select(User).order_by(User.username).limit(MAX_ROWS)
        if q:
            query = query.where(
                sa.or_(
                    User.username.contains(q, autoescape=True), User.display_name.contains(q, autoescape=True)
                )
            )
        if dept is not None:
            query = query.where(User.department_id == dept)
        users = [user_row(u) for u in ctx.session.scalars(query)]
        departments = department_choices(ctx.session)
    page = {
        "users": users,
        "q": q,
        "department": dept,
        "departments": departments,
        "department_names": {i: n.strip() for i, n in departments},
        "languages": language_choices(),
        "errors": errors or {},
        "message": message,
        "values": values or {"language": current_language(), "level": 0},
    }
    return render_template("admin/users.html", p=page), status


@bp.get("/admin/users")
def admin_users():
    """Every user (up to 500), searchable, and the form to create one."""
    return render_users()


@bp.post("/admin/users")
def admin_create_user():
    """Create a user from the form, then open their page."""
    data: dict[str, Any] = {
        "username": form_text("username"),
        "password": request.form.get("password", ""),
        "display_name": form_text("display_name"),
        "is_admin": form_bool("is_admin"),
        "language": form_text("language") or "en",
        "department_id": form_id("department_id"),
        "job_title": form_text("job_title"),
        "level": form_int("level"),
    }
    try:
        with admin_work("manage users", write=True) as ctx:
            user_id = admin.create_user_account(ctx.session, ctx.actor, data, languages()).id
    except ValidationFailed as exc:
        return render_users(422, exc.fields, exc.message, {k: v for k, v in data.items() if k != "password"})
    flash(_("User %(name)s created.", name=data["username"]), "success")
    return redirect(url_for("pages.admin_user", user_id=user_id), code=303)


# -- one user --------------------------------------------------------------------------------------
def render_user(
    user_id: int,
    status: int = 200,
    errors: dict | None = None,
    message: str | None = None,
    values: dict | None = None,
    assign: dict | None = None,
):
    """A user's page: the edit form (``values``/``errors`` after a failed save), their role assignments
    (newest first, with renew and end buttons) and the assign form (``assign`` after a failed one)."""
    lang = current_language()
    with admin_work("read users") as ctx:
        user = ctx.session.get(User, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}")
        now = utcnow()
        rows = ctx.session.scalars(
            sa.select(RoleAssignment)
            .where(RoleAssignment.user_id == user_id)
            .order_by(RoleAssignment.id.desc())
            .limit(MAX_ROWS)
        )
        assignments = []
        for row in rows:
            item = assignment_json(row, now)
            item["open"] = item["ends_at"] is None or item["ends_at"] > now
            item["grace"] = item["open"] and item["ends_at"] is not None and GRACE_NOTE in (row.note or "")
            assignments.append(item)
        form = {
            "display_name": user.display_name,
            "active": user.active,
            "is_admin": user.is_admin,
            "language": user.language,
            "department_id": user.department_id,
            "manager_id": user.manager_id,
            "job_title": user.job_title,
            "level": user.level,
            **(values or {}),
        }
        page = {
            "user": user_row(user),
            "form": form,
            "errors": errors or {},
            "message": message,
            "is_self": user.id == ctx.actor.user_id,
            "assignments": assignments,
            "departments": department_choices(ctx.session),
            "languages": language_choices(),
            "managers": [c for c in user_choices(ctx.session) if c[0] != user.id],
            "roles": role_choices(ctx.snapshot, lang),
            "assign": assign or {"errors": {}},
        }
    return render_template("admin/user.html", p=page), status


@bp.get("/admin/users/<int:user_id>")
def admin_user(user_id: int):
    """The page of one user."""
    return render_user(user_id)


@bp.post("/admin/users/<int:user_id>")
def admin_update_user(user_id: int):
    """Save the edit form; a new department or job title starts the grace period (shown as a notice),
    a new password ends the user's sign-in tokens."""
    data: dict[str, Any] = {
        "display_name": form_text("display_name"),
        "active": form_bool("active"),
        "is_admin": form_bool("is_admin"),
        "language": form_text("language"),
        "department_id": form_id("department_id"),
        "manager_id": form_id("manager_id"),
        "job_title": form_text("job_title"),
        "level": form_int("level"),
    }
    password = request.form.get("password", "")
    if password:
        data["password"] = password
    try:
        with admin_work("manage users", write=True) as ctx:
            _user, grace = admin.update_user(
                ctx.session, ctx.actor, ctx.snapshot, user_id, data, languages(), utcnow()
            )
    except ValidationFailed as exc:
        data.pop("password", None)
        return render_user(user_id, 422, exc.fields, exc.message, data)
    flash(_("Saved."), "success")
    if password:
        flash(_("The password was reset; the user's sign-in tokens were revoked."), "info")
    if grace:
        ends = min(item["ends_at"] for item in grace)
        flash(
            _(
                "The department or job title changed, so %(count)s open-ended role assignment(s) now end "
                "after the grace period (from %(at)s). Renew the ones that should stay.",
                count=len(grace),
                at=ends.strftime("%Y-%m-%d %H:%M UTC"),
            ),
            "warning",
        )
    return redirect(url_for("pages.admin_user", user_id=user_id), code=303)
