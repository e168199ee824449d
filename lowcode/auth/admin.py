"""Administration of users, role assignments and integrator tokens (departments: :mod:`lowcode.auth.departments`).

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

from lowcode.auth.lifecycle import ENDED_MARK, as_utc, start_grace, with_note
from lowcode.auth.passwords import password_problems
from lowcode.auth.security_log import log_event
from lowcode.auth.sessions import SIGN_IN_TOKENS, end_user_sessions, sessions_ended_by
from lowcode.auth.users import create_user, hash_password, hash_token, issue_token
from lowcode.core.models import ApiToken, Department, RoleAssignment, User
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
    log_event(
        session,
        "user_changed",
        username=user.username,
        user_id=user.id,
        ip=actor.ip,
        by=actor.username,
        created=True,
        changes=changes,
    )
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
        log_event(
            session,
            "user_changed",
            username=user.username,
            user_id=user.id,
            ip=actor.ip,
            by=actor.username,
            changes=changes,
            grace=grace,
        )
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


# -- role assignments ----------------------------------------------------------------------------
def assign_role(
    session: Session, actor: Actor, snapshot: Snapshot, data: Mapping[str, Any], now: dt.datetime
) -> RoleAssignment:
    """Give a user a published role of an app, optionally until ``ends_at``. :raises ValidationFailed, NotFound:"""
    user = get_row(session, User, data.get("user_id"), "user", "user_id")
    app, role = data.get("app"), data.get("role")
    _check_role(snapshot, app, role)
    ends_at = _future(parse_time(data.get("ends_at"), "ends_at"), now)
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > MAX_NOTE or ENDED_MARK in note:
        raise invalid("The note is not valid", "note", f"Text of up to {MAX_NOTE} characters.")
    held = session.scalar(
        sa.select(RoleAssignment.id).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.app == app,
            RoleAssignment.role == role,
            sa.or_(RoleAssignment.ends_at.is_(None), RoleAssignment.ends_at > as_utc(now)),
        )
    )
    if held is not None:
        raise invalid(
            f"{user.username} already holds {app}.{role}", "role", f"Renew assignment {held} instead."
        )
    row = RoleAssignment(
        user_id=user.id,
        app=app,
        role=role,
        starts_at=as_utc(now),
        ends_at=ends_at,
        note=note,
        granted_by=actor.username,
    )
    session.add(row)
    session.flush()
    log_event(
        session,
        "role_assigned",
        username=user.username,
        user_id=user.id,
        ip=actor.ip,
        by=actor.username,
        assignment=row.id,
        app=app,
        role=role,
        ends_at=ends_at,
    )
    return row


def end_assignment(session: Session, actor: Actor, assignment_id: int, now: dt.datetime) -> RoleAssignment:
    """End an assignment now (``role_unassigned``): every session and sign-in token of the user ends, and
    so do their integrator tokens acting with that app role. :raises ValidationFailed: if it has ended.

    The end is audited here, so the expiry job's mark is set at once (it logs no ``assignment_ended``).
    """
    row = _open_assignment(session, assignment_id, now)
    row.ends_at = as_utc(now)
    row.note = with_note(row.note, ENDED_MARK)
    session.flush()
    role_tokens = (ApiToken.app == row.app) & (ApiToken.role == row.role)
    revoked = end_user_sessions(session, row.user_id, as_utc(now), SIGN_IN_TOKENS | role_tokens)
    _log_assignment(session, actor, "role_unassigned", row, tokens_revoked=revoked)
    return row


def renew_assignment(
    session: Session, actor: Actor, assignment_id: int, ends_at: dt.datetime | None, now: dt.datetime
) -> RoleAssignment:
    """Keep an assignment that has not ended yet: a new end date, or open-ended when None."""
    row = _open_assignment(session, assignment_id, now)
    row.ends_at = _future(ends_at, now)
    session.flush()
    _log_assignment(session, actor, "role_assigned", row, renewed=True)
    return row


def _open_assignment(session: Session, assignment_id: int, now: dt.datetime) -> RoleAssignment:
    row = get_row(session, RoleAssignment, assignment_id, "role assignment")
    if row.ends_at is not None and as_utc(row.ends_at) <= as_utc(now):
        raise invalid(
            f"Assignment {row.id} ended at {as_utc(row.ends_at).isoformat()}",
            "ends_at",
            "An ended assignment stays ended: assign the role again.",
        )
    return row


def _log_assignment(session: Session, actor: Actor, kind: str, row: RoleAssignment, **extra: Any) -> None:
    username = session.scalar(sa.select(User.username).where(User.id == row.user_id)) or ""
    log_event(
        session,
        kind,
        username=username,
        user_id=row.user_id,
        ip=actor.ip,
        by=actor.username,
        assignment=row.id,
        app=row.app,
        role=row.role,
        ends_at=as_utc(row.ends_at),
        **extra,
    )


def _check_role(snapshot: Snapshot, app: Any, role: Any) -> None:
    if (app, role) not in snapshot.roles:
        raise invalid(f"'{role}' is not a published role of app '{app}'", "role", "Publish the role first.")


def _future(value: dt.datetime | None, now: dt.datetime, field: str = "ends_at") -> dt.datetime | None:
    if value is not None and value <= as_utc(now):
        raise invalid(f"'{field}' is in the past", field, "Give a future date-time or null.")
    return value


# -- integrator tokens ---------------------------------------------------------------------------
def create_scoped_token(
    session: Session, actor: Actor, snapshot: Snapshot, data: Mapping[str, Any], now: dt.datetime
) -> tuple[ApiToken, str]:
    """Issue a token that acts only with one role of one app; the plain token is returned once.

    :raises ValidationFailed, NotFound:
    """
    user = get_row(session, User, data.get("user_id"), "user", "user_id")
    if not user.active:
        raise invalid(f"{user.username} is not active", "user_id", "Activate the user first.")
    _check_role(snapshot, data.get("app"), data.get("role"))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise invalid("A token needs a name", "name", "1 to 200 characters, e.g. the integrating system.")
    expires_at = _future(parse_time(data.get("expires_at"), "expires_at"), now, "expires_at")
    plain = issue_token(session, user, name=name.strip())
    row = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    row.app, row.role, row.expires_at, row.created_by = data["app"], data["role"], expires_at, actor.username
    session.flush()
    log_event(
        session,
        "token_created",
        username=user.username,
        user_id=user.id,
        ip=actor.ip,
        by=actor.username,
        token=row.id,
        name=row.name,
        app=row.app,
        role=row.role,
        expires_at=expires_at,
    )
    return row, plain


def revoke_token_by_id(session: Session, actor: Actor, token_id: int, now: dt.datetime) -> ApiToken:
    """Revoke a token. :raises ValidationFailed: if it is already revoked; :raises NotFound:"""
    row = get_row(session, ApiToken, token_id, "token")
    if row.revoked_at is not None:
        raise invalid(f"Token {row.id} is already revoked", "token", "Nothing to do.")
    row.revoked_at = as_utc(now)
    session.flush()
    username = session.scalar(sa.select(User.username).where(User.id == row.user_id)) or ""
    log_event(
        session,
        "token_revoked",
        username=username,
        user_id=row.user_id,
        ip=actor.ip,
        by=actor.username,
        token=row.id,
        name=row.name,
        app=row.app,
        role=row.role,
    )
    return row
