"""Administration of role assignments: assign, renew, end; each change logged as a security event.

Same conventions as :mod:`lowcode.auth.admin`: the caller's session (never committed here), the acting actor
explicitly, domain errors; the caller authorises first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.admin import (
    MAX_NOTE,
    check_role,
    future_time,
    get_row,
    invalid,
    log_admin_event,
    parse_time,
)
from lowcode.auth.lifecycle import ENDED_MARK, as_utc, with_note
from lowcode.auth.sessions import SIGN_IN_TOKENS, end_user_sessions
from lowcode.core.models import ApiToken, RoleAssignment, User
from lowcode.runtime.context import Actor
from lowcode.runtime.snapshot import Snapshot


def assign_role(
    session: Session, actor: Actor, snapshot: Snapshot, data: Mapping[str, Any], now: dt.datetime
) -> RoleAssignment:
    """Give a user a published role of an app, optionally until ``ends_at``. :raises ValidationFailed, NotFound:"""
    user = get_row(session, User, data.get("user_id"), "user", "user_id")
    app, role = data.get("app"), data.get("role")
    check_role(snapshot, app, role)
    ends_at = future_time(parse_time(data.get("ends_at"), "ends_at"), now)
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
    log_admin_event(
        session, actor, "role_assigned", user.id, assignment=row.id, app=app, role=role, ends_at=ends_at
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
    row.ends_at = future_time(ends_at, now)
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
    log_admin_event(
        session,
        actor,
        kind,
        row.user_id,
        assignment=row.id,
        app=row.app,
        role=row.role,
        ends_at=as_utc(row.ends_at),
        **extra,
    )
