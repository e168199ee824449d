"""Administration of users, and the checks shared by the admin services (role assignments:
:mod:`lowcode.auth.assignment_admin`, integrator tokens: :mod:`lowcode.auth.token_admin`, departments:
:mod:`lowcode.auth.departments`).

Plain functions: each takes the caller's ``session`` (the request's transaction - they never commit) and
the acting ``actor`` explicitly, raises :mod:`lowcode.errors` domain errors, and logs permission-relevant
changes as security events in the same transaction. Authorisation (administrators only) is the caller's
first step (``PermissionService.authorize_platform``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.lifecycle import as_utc, start_grace
from lowcode.auth.passwords import password_problems
from lowcode.auth.security_log import log_event
from lowcode.auth.sessions import end_user_sessions, sessions_ended_by
from lowcode.auth.users import create_user, hash_password
from lowcode.core.models import Department, User
from lowcode.errors import NotFound, ValidationFailed
from lowcode.runtime.context import Actor
from lowcode.runtime.snapshot import Snapshot

USER_FIELDS = frozenset(
    {
        "username",
        "display_name",
        "password",
        "is_admin",
        "active",
        "language",
        "department_id",
        "manager_id",
        "job_title",
        "level",
    }
)
GRACE_TRIGGERS = ("department_id", "job_title")
MAX_NOTE = 200


def invalid(message: str, field: str, problem: str) -> ValidationFailed:
    """A validation failure of one field (the administration functions' common refusal)."""
    return ValidationFailed(message, fields={field: [problem]})


def get_row(session: Session, model, ident: Any, what: str, field: str = "id"):
    """The row with id ``ident``. :raises ValidationFailed: not an integer; :raises NotFound:"""
    if not isinstance(ident, int) or isinstance(ident, bool):
        raise invalid(f"Give the id of a {what}", field, "An integer id is required.")
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"No {what} with id {ident}")
    return row


def parse_time(value: Any, field: str) -> dt.datetime | None:
    """An ISO 8601 date-time from JSON (naive means UTC), or None. :raises ValidationFailed:"""
    if value is None:
        return None
    try:
        return as_utc(dt.datetime.fromisoformat(value))
    except (TypeError, ValueError):
        raise invalid(
            f"'{field}' is not a date-time", field, "Use ISO 8601, e.g. 2030-01-31T17:00:00Z"
        ) from None


# -- users ---------------------------------------------------------------------------------------
def create_user_account(
    session: Session, actor: Actor, data: Mapping[str, Any], languages: list[str]
) -> User:
    """Create a user from ``data`` (``username`` and ``password`` required). :raises ValidationFailed:"""
    _check_user_keys(data)
    if not isinstance(data.get("username"), str) or not isinstance(data.get("password"), str):
        raise ValidationFailed(
            "A username and a password are required",
            fields={"username": ["required"], "password": ["required"]},
        )
    user = create_user(session, data["username"], data["password"])
    rest = {k: v for k, v in data.items() if k not in ("username", "password")}
    changes = _apply_user_fields(
        session, user, {**rest, "display_name": data.get("display_name") or user.username}, languages
    )
    log_admin_event(session, actor, "user_changed", user.id, created=True, changes=changes)
    return user


def update_user(
    session: Session,
    actor: Actor,
    snapshot: Snapshot,
    user_id: int,
    data: Mapping[str, Any],
    languages: list[str],
    now: dt.datetime,
) -> tuple[User, list[dict[str, Any]]]:
    """Change a user; a new department or job title starts the grace period of their open-ended assignments,
    a new password revokes their sign-in tokens.

    :return: the user and the assignments given an end date.
    :raises ValidationFailed, NotFound:
    """
    _check_user_keys(data)
    user = get_row(session, User, user_id, "user")
    if "username" in data and data["username"] != user.username:
        taken = session.scalar(
            sa.select(User.id).where(User.username == data["username"], User.id != user.id)
        )
        if taken is not None or not isinstance(data["username"], str) or not 0 < len(data["username"]) <= 150:
            raise invalid("Cannot rename the user", "username", "1 to 150 characters, not taken.")
    changes = _apply_user_fields(session, user, data, languages)
    if user.id == actor.user_id and ("is_admin" in changes or "active" in changes):
        raise invalid(
            "You cannot remove your own administrator rights or deactivate yourself",
            "is_admin" if "is_admin" in changes else "active",
            "Ask another administrator.",
        )
    ending = sessions_ended_by(changes)
    if ending is not None:
        changes["tokens_revoked"] = end_user_sessions(session, user.id, as_utc(now), ending)
    grace = []
    moved = [k for k in GRACE_TRIGGERS if k in changes]
    if moved:
        grace = start_grace(session, snapshot.apps, user, now, f"{', '.join(moved)} changed")
    if changes:
        log_admin_event(session, actor, "user_changed", user.id, changes=changes, grace=grace)
    return user, grace


def _check_user_keys(data: Any) -> None:
    if not isinstance(data, Mapping):
        raise ValidationFailed("Send a JSON object of user fields")
    unknown = set(data) - USER_FIELDS
    if unknown:
        raise ValidationFailed("Unknown user fields", fields={k: ["unknown field"] for k in sorted(unknown)})


def _apply_user_fields(session: Session, user: User, data: Mapping[str, Any], languages: list[str]) -> dict:
    """Validate and set every field but ``username``; returns ``{field: new value}`` of what changed
    (a password as ``"changed"``, never its value)."""
    errors: dict[str, list[str]] = {}
    checks = {
        "username": lambda v: isinstance(v, str),
        "display_name": lambda v: isinstance(v, str) and len(v) <= 200,
        "is_admin": lambda v: isinstance(v, bool),
        "active": lambda v: isinstance(v, bool),
        "language": lambda v: v in languages,
        "job_title": lambda v: isinstance(v, str) and len(v) <= 200,
        "level": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100,
        "department_id": lambda v: v is None or _exists(session, Department, v),
        "manager_id": lambda v: (
            v is None or (_exists(session, User, v) and not _manages(session, user.id, v))
        ),
    }
    for key, value in data.items():
        if key == "password":
            name = data.get("username")
            problems = password_problems(value, name if isinstance(name, str) else user.username)
            if problems:
                errors[key] = problems
        elif not checks[key](value):
            errors[key] = [_USER_FIELD_HELP[key]]
    if errors:
        raise ValidationFailed("Cannot save the user", fields=errors)
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key == "password":
            user.password_hash = hash_password(value)
            changes["password"] = "changed"
        elif key != "username" and getattr(user, key) != value:
            setattr(user, key, value)
            changes[key] = value
    if "username" in data and data["username"] != user.username:
        changes["username"] = user.username = data["username"]
    session.flush()
    return changes


_USER_FIELD_HELP = {
    "username": "Text.",
    "display_name": "Up to 200 characters.",
    "is_admin": "true or false.",
    "active": "true or false.",
    "language": "One of the configured languages.",
    "job_title": "Up to 200 characters.",
    "level": "An integer from 0 to 100.",
    "department_id": "An existing department id or null.",
    "manager_id": "An existing user id or null, not the user or someone they manage (directly or not).",
}


def _exists(session: Session, model, ident: Any) -> bool:
    return isinstance(ident, int) and not isinstance(ident, bool) and session.get(model, ident) is not None


def _manages(session: Session, user_id: int, manager_id: int) -> bool:
    """Whether making ``manager_id`` the manager of ``user_id`` closes a cycle (walks the chain up)."""
    seen, current = set(), manager_id
    while current is not None and current not in seen:
        if current == user_id:
            return True
        seen.add(current)
        current = session.scalar(sa.select(User.manager_id).where(User.id == current))
    return False


def check_role(snapshot: Snapshot, app: Any, role: Any) -> None:
    """Refuse an (app, role) pair that is not a published role. :raises ValidationFailed:"""
    if (app, role) not in snapshot.roles:
        raise invalid(f"'{role}' is not a published role of app '{app}'", "role", "Publish the role first.")


def future_time(value: dt.datetime | None, now: dt.datetime, field: str = "ends_at") -> dt.datetime | None:
    """``value`` when it is None or later than ``now``. :raises ValidationFailed: naming ``field``"""
    if value is not None and value <= as_utc(now):
        raise invalid(f"'{field}' is in the past", field, "Give a future date-time or null.")
    return value


def log_admin_event(session: Session, actor: Actor, kind: str, user_id: int, **details: Any) -> None:
    """Log an administrator's change concerning user ``user_id`` as security event ``kind``, by ``actor``."""
    username = session.scalar(sa.select(User.username).where(User.id == user_id)) or ""
    log_event(session, kind, username=username, user_id=user_id, ip=actor.ip, by=actor.username, **details)
