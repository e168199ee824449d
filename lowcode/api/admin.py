"""``/api/admin``: departments, users, role assignments, integrator tokens, explain, review, security events.

Administrators only: every route asks ``authorize_platform`` first. The work is done by
:mod:`lowcode.auth.admin`, :mod:`lowcode.auth.explain` and the security log.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request

from lowcode.api.edge import json_body, services, unit_of_work
from lowcode.api.params import int_arg
from lowcode.auth import admin, assignment_admin, departments, token_admin
from lowcode.auth.explain import assignment_json, explain, find_user, review
from lowcode.auth.lifecycle import as_utc
from lowcode.auth.security_log import KINDS, recent_events
from lowcode.core.models import ApiToken, Department, RoleAssignment, User, utcnow
from lowcode.errors import BadRequest, NotFound

bp = Blueprint("api_admin", __name__, url_prefix="/api/admin")
MAX_LIST = 1000


def _authorize(ctx, what: str) -> None:
    services().permissions.authorize_platform(ctx.actor, what)


def _object_body(optional: bool = False) -> dict[str, Any]:
    if optional and not request.get_data(cache=True):
        return {}
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object")
    return body


def _languages() -> list[str]:
    return current_app.config["LOWCODE"]["LANGUAGES"]


def _department_json(d: Department) -> dict[str, Any]:
    return {"id": d.id, "name": d.name, "parent_id": d.parent_id, "path": d.path}


def _user_json(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "is_admin": u.is_admin,
        "active": u.active,
        "language": u.language,
        "department_id": u.department_id,
        "manager_id": u.manager_id,
        "job_title": u.job_title,
        "level": u.level,
        "created_at": as_utc(u.created_at),
    }


def _token_json(t: ApiToken) -> dict[str, Any]:
    """A token without its secret (only the hash is stored, and it is not shown either)."""
    return {
        "id": t.id,
        "user_id": t.user_id,
        "name": t.name,
        "app": t.app,
        "role": t.role,
        "created_by": t.created_by,
        "created_at": as_utc(t.created_at),
        "last_used_at": as_utc(t.last_used_at),
        "expires_at": as_utc(t.expires_at),
        "revoked_at": as_utc(t.revoked_at),
    }


# -- departments -----------------------------------------------------------------------------------
@bp.get("/departments")
def list_departments():
    """Every department in tree order (by path)."""
    with unit_of_work(write=False) as ctx:
        _authorize(ctx, "read departments")
        rows = ctx.session.scalars(sa.select(Department).order_by(Department.path).limit(MAX_LIST))
        return jsonify({"data": [_department_json(d) for d in rows]})


@bp.post("/departments")
def create_department():
    """``{"name", "parent_id"?}`` -> the new department."""
    with unit_of_work(write=True) as ctx:
        _authorize(ctx, "manage departments")
        body = _object_body()
        dept = departments.create_department(ctx.session, ctx.actor, body.get("name"), body.get("parent_id"))
        return jsonify(_department_json(dept)), 201


@bp.patch("/departments/<int:dept_id>")
def update_department(dept_id: int):
    """``{"name"?, "parent_id"?}``: rename and/or move (the subtree moves along; cycles are refused)."""
    with unit_of_work(write=True) as ctx:
        _authorize(ctx, "manage departments")
        dept = departments.update_department(ctx.session, ctx.actor, dept_id, _object_body())
        return jsonify(_department_json(dept))


@bp.delete("/departments/<int:dept_id>")
def delete_department(dept_id: int):
    """Delete an empty department (422 while it has users or sub-departments)."""
    with unit_of_work(write=True) as ctx:
        _authorize(ctx, "manage departments")
        departments.delete_department(ctx.session, ctx.actor, dept_id)
    return "", 204


# -- users ---------------------------------------------------------------------------------------
@bp.get("/users")
def list_users():
    """Users by username; ``q`` matches username or display name, ``department`` one department."""
    with unit_of_work(write=False) as ctx:
        _authorize(ctx, "read users")
        query = sa.select(User).order_by(User.username).limit(MAX_LIST)
        if q := request.args.get("q", "")[:150]:
            query = query.where(
                sa.or_(
                    User.username.contains(q, autoescape=True), User.display_name.contains(q, autoescape=True)
                )
            )
        if (dept := int_arg(request.args, "department", None, 1)) is not None:
            query = query.where(User.department_id == dept)
        return jsonify({"data": [_user_json(u) for u in ctx.session.scalars(query)]})


@bp.post("/users")
def create_user():
    """``{"username", "password", ...}`` -> the new user (never the password)."""
    with unit_of_work(write=True) as ctx:
        _authorize(ctx, "manage users")
        user = admin.create_user_account(ctx.session, ctx.actor, _object_body(), _languages())
        return jsonify(_user_json(user)), 201


@bp.get("/users/<int:user_id>")
def get_user(user_id: int):
    """One user."""
    with unit_of_work(write=False) as ctx:
        _authorize(ctx, "read users")
        user = ctx.session.get(User, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}")
        return jsonify(_user_json(user))


@bp.patch("/users/<int:user_id>")
def update_user(user_id: int):
    """Change fields; a new department or job title gives open-ended assignments an end date (``grace``)."""
    with unit_of_work(write=True) as ctx:
        _authorize(ctx, "manage users")
        user, grace = admin.update_user(
            ctx.session, ctx.actor, ctx.snapshot, user_id, _object_body(), _languages(), utcnow()
        )
        return jsonify({**_user_json(user), "grace": grace})


# -- role assignments ------------------------------------------------------------------------------
@bp.get("/users/<int:user_id>/assignments")
def list_assignments(user_id: int):
    """Every assignment of a user (ended ones too), newest first."""
    with unit_of_work(write=False) as ctx:
        _authorize(ctx, "read role assignments")
        if ctx.session.get(User, user_id) is None:
            raise NotFound(f"No user with id {user_id}")
        rows = ctx.session.scalars(
            sa.select(RoleAssignment)
            .where(RoleAssignment.user_id == user_id)
            .order_by(RoleAssignment.id.desc())
        )
        now = utcnow()
        return jsonify({"data": [assignment_json(r, now) for r in rows]})


@bp.post("/assignments")
def create_assignment():
    """``{"user_id", "app", "role", "ends_at"?, "note"?}``: the role must be published in the app."""
    with unit_of_work(write=True) as ctx:
        _authorize(ctx, "assign roles")
        now = utcnow()
        row = assignment_admin.assign_role(ctx.session, ctx.actor, ctx.snapshot, _object_body(), now)
        return jsonify(assignment_json(row, now)), 201


@bp.post("/assignments/<int:assignment_id>/renew")
def renew_assignment(assignment_id: int):
    """Keep an assignment: ``{"ends_at": iso}`` for a new end, ``null`` or no body for open-ended."""
    with unit_of_work(write=True) as ctx:
        _authorize(ctx, "assign roles")
        now = utcnow()
        ends_at = admin.parse_time(_object_body(optional=True).get("ends_at"), "ends_at")
        row = assignment_admin.renew_assignment(ctx.session, ctx.actor, assignment_id, ends_at, now)
        return jsonify(assignment_json(row, now))


@bp.delete("/assignments/<int:assignment_id>")
def end_assignment(assignment_id: int):
    """End an assignment now."""
    with unit_of_work(write=True) as ctx:
        _authorize(ctx, "assign roles")
        now = utcnow()
        row = assignment_admin.end_assignment(ctx.session, ctx.actor, assignment_id, now)
        return jsonify(assignment_json(row, now))


# -- integrator tokens -----------------------------------------------------------------------------
@bp.get("/tokens")
def list_tokens():
    """Integrator tokens (``?all=1``: sign-in tokens too), newest first; never the token itself."""
    with unit_of_work(write=False) as ctx:
        _authorize(ctx, "read tokens")
        query = sa.select(ApiToken).order_by(ApiToken.id.desc()).limit(MAX_LIST)
        if request.args.get("all") != "1":
            query = query.where(ApiToken.app.is_not(None))
        if (user := int_arg(request.args, "user_id", None, 1)) is not None:
            query = query.where(ApiToken.user_id == user)
        return jsonify({"data": [_token_json(t) for t in ctx.session.scalars(query)]})


@bp.post("/tokens")
def create_token():
    """``{"user_id", "app", "role", "name", "expires_at"?}`` -> the token, shown this once."""
    with unit_of_work(write=True) as ctx:
        _authorize(ctx, "create tokens")
        row, plain = token_admin.create_scoped_token(
            ctx.session, ctx.actor, ctx.snapshot, _object_body(), utcnow()
        )
        return jsonify({**_token_json(row), "token": plain}), 201


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int):
    """Revoke a token (any token, sign-in ones included)."""
    with unit_of_work(write=True) as ctx:
        _authorize(ctx, "revoke tokens")
        row = token_admin.revoke_token_by_id(ctx.session, ctx.actor, token_id, utcnow())
        return jsonify(_token_json(row))


# -- explain, review, security events --------------------------------------------------------------
@bp.get("/explain")
def explain_access():
    """``?user=<id or username>&app=&entity=[&ip=]``: per action, allowed or not and why."""
    with unit_of_work(write=False) as ctx:
        _authorize(ctx, "explain permissions")
        args = {k: request.args.get(k, "") for k in ("user", "app", "entity")}
        missing = [k for k, v in args.items() if not v]
        if missing:
            raise BadRequest(f"Give {', '.join(missing)} (user: id or username)")
        user = find_user(ctx.session, args["user"])
        body = explain(
            ctx.session,
            ctx.snapshot,
            user,
            args["app"],
            args["entity"],
            now=utcnow(),
            ip=request.args.get("ip", "")[:64],
        )
        return jsonify(body)


@bp.get("/review")
def review_report():
    """The permission review: administrators, assignments unused for 90 days, assignments past their end."""
    with unit_of_work(write=False) as ctx:
        _authorize(ctx, "review permissions")
        return jsonify(review(ctx.session, ctx.snapshot, utcnow()))


@bp.get("/security-events")
def security_events():
    """The newest security events: ``?kind=`` (one of the known kinds), ``?limit=`` (1 to 1000, default 200)."""
    with unit_of_work(write=False) as ctx:
        _authorize(ctx, "read security events")
        kind = request.args.get("kind") or None
        if kind is not None and kind not in KINDS:
            raise BadRequest(f"Unknown kind {kind!r}; known: {', '.join(KINDS)}")
        rows = recent_events(ctx.session, int_arg(request.args, "limit", 200, 1, MAX_LIST), kind)
        return jsonify(
            {
                "data": [
                    {
                        "id": e.id,
                        "at": as_utc(e.at),
                        "kind": e.kind,
                        "user_id": e.user_id,
                        "username": e.username,
                        "ip": e.ip,
                        "detail": e.detail,
                    }
                    for e in rows
                ]
            }
        )
