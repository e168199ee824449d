"""Shared parts of the administration pages (``/admin/...``): the administrators-only unit of work,
reading posted forms into service arguments, choice lists, the ``utc`` filter and the nav's "Admin" link.

Every administration view opens its unit of work with :func:`admin_work`, which asks
``PermissionService.authorize_platform`` before anything else (a non-administrator gets the 403 page;
anonymous visitors were already sent to sign in by the blueprint's guard) and, for writes, checks the
CSRF token before the database is touched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request, session
from sqlalchemy.orm import Session

from lowcode.api.edge import services, unit_of_work
from lowcode.auth.lifecycle import as_utc
from lowcode.core.models import Department, User
from lowcode.core.numbers import digits_to_int, int_from_text
from lowcode.fields.base import normalise_label, pick_label
from lowcode.pages.blueprint import bp
from lowcode.pages.security import require_csrf
from lowcode.runtime.context import WriteContext
from lowcode.runtime.snapshot import Snapshot

MAX_ROWS = 500
"""Longest list an administration page shows (users, tokens, events)."""


@contextmanager
def admin_work(what: str, write: bool = False) -> Iterator[WriteContext]:
    """A unit of work for an administration page: administrators only, writes CSRF-checked first.

    :param what: the action named in the refusal ("manage users").
    :raises PermissionDenied: a wrong or missing CSRF token, or an actor who is not an administrator.
    """
    if write:
        require_csrf()
    with unit_of_work(write=write, source="page") as ctx:
        services().permissions.authorize_platform(ctx.actor, what)
        yield ctx


def languages() -> list[str]:
    """The configured interface languages (``LANGUAGES`` setting)."""
    return list(current_app.config["LOWCODE"]["LANGUAGES"])


# -- posted forms ----------------------------------------------------------------------------------
def form_text(name: str, limit: int = 2000) -> str:
    """A posted text field, stripped and cut to ``limit`` characters (past every service limit, so an
    overlong value is refused by the service rather than cut silently)."""
    return request.form.get(name, "").strip()[:limit]


def form_id(name: str) -> Any:
    """A posted id: None when blank, an int when digits, else the raw text (the service refuses it)."""
    raw = form_text(name, 20)
    if not raw:
        return None
    number = digits_to_int(raw)
    return raw if number is None else number


def form_int(name: str, default: int = 0) -> Any:
    """A posted integer (``default`` when blank); other text is passed on for the service to refuse."""
    raw = form_text(name, 20)
    if not raw:
        return default
    try:
        return int_from_text(raw)
    except ValueError:
        return raw


def form_bool(name: str) -> bool:
    """Whether a checkbox was ticked."""
    return request.form.get(name) in ("on", "1", "true")


def form_time(name: str) -> str | None:
    """A posted ``datetime-local`` value (read as UTC by the services), or None when blank."""
    return form_text(name, 40) or None


def app_role(value: str) -> tuple[str, str]:
    """Split an ``app/role`` choice into its two parts (empty strings when malformed)."""
    app, _, role = value.partition("/")
    return app, role


# -- choice lists ----------------------------------------------------------------------------------
def departments_in_tree_order(db: Session) -> list[dict[str, Any]]:
    """Every department by path, with its depth (0 for a root) for indenting."""
    rows = db.scalars(sa.select(Department).order_by(Department.path).limit(MAX_ROWS))
    return [
        {"id": d.id, "name": d.name, "parent_id": d.parent_id, "path": d.path, "depth": d.path.count("/") - 2}
        for d in rows
    ]


def department_choices(db: Session) -> list[tuple[int, str]]:
    """``(id, indented name)`` of every department, in tree order."""
    return [(d["id"], "\u2003" * d["depth"] + d["name"]) for d in departments_in_tree_order(db)]


def user_choices(db: Session, active_only: bool = False) -> list[tuple[int, str]]:
    """``(id, "username (display name)")`` of the users, by username."""
    query = sa.select(User.id, User.username, User.display_name).order_by(User.username).limit(MAX_ROWS)
    if active_only:
        query = query.where(User.active.is_(True))
    return [
        (i, f"{name} ({shown})" if shown and shown != name else name) for i, name, shown in db.execute(query)
    ]


def role_choices(snapshot: Snapshot, lang: str) -> list[tuple[str, str]]:
    """``("app/role", "App · Role")`` of every published role, by app and role name."""
    choices = []
    for app, role in sorted(snapshot.roles):
        info = snapshot.apps.get(app)
        app_label = info.label_for(lang) if info else app
        label = label_text(snapshot.roles[(app, role)].get("label"), lang) or role
        choices.append((f"{app}/{role}", f"{app_label} \u00b7 {label} ({role})"))
    return choices


def label_text(label: Any, lang: str) -> str:
    """A definition label (text or ``{language: text}``) in ``lang``, falling back to English."""
    return pick_label(normalise_label(label, ""), lang, "")


# -- template helpers ------------------------------------------------------------------------------
@bp.app_template_filter("utc")
def format_utc(value: dt.datetime | None) -> str:
    """A date-time as ``2030-01-31 17:00 UTC`` (``—`` for none)."""
    if value is None:
        return "\u2014"
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def is_platform_admin() -> bool:
    """Whether the signed-in user is a platform administrator (for the nav's "Admin" link).

    Reuses the actor of the request's unit of work when there was one; else one small read."""
    user_id = session.get("user_id")
    if not user_id:
        return False
    if "lowcode_is_admin" not in g:
        ctx = g.get("lowcode_ctx")
        if ctx is not None and ctx.actor.user_id == user_id:
            g.lowcode_is_admin = ctx.actor.is_admin
        else:
            with services().db.read() as db:
                user = db.get(User, user_id)
                g.lowcode_is_admin = bool(user is not None and user.active and user.is_admin)
    return g.lowcode_is_admin


@bp.app_context_processor
def admin_template_globals() -> dict[str, Any]:
    """``is_platform_admin()`` for every template (``base.html`` shows the "Admin" link with it)."""
    return {"is_platform_admin": is_platform_admin}
