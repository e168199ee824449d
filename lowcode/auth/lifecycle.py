"""Grant lifecycle: the grace period after a department or job change, and the expiry job.

When a user's department or job title changes, each of their open-ended role assignments gets an end
date ``now + grace`` (the assignment app's ``grace_hours``, default 48): an administrator renews the ones
that should stay. Access stops at ``ends_at`` by itself (:func:`lowcode.auth.actors.roles_in_force` only
counts assignments in force); the scheduled job :func:`end_expired_assignments` then records each
assignment that has ended - a marker in its ``note`` and one ``assignment_ended`` security event - exactly
once, even when several workers run the job at the same moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.security_log import log_event
from lowcode.core.models import RoleAssignment, User

DEFAULT_GRACE_HOURS = 48
ENDED_MARK = "[ended]"
"""Appended to ``RoleAssignment.note`` when the expiry job has recorded the end (there is no column)."""
MAX_NOTE = 300
JOB_ACTOR = "system:scheduler"


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """An aware UTC datetime (SQLite hands back naive values, which are UTC by construction)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def grace_period(apps: Mapping[str, Any], app: str) -> dt.timedelta:
    """The grace period of an app: its definition's ``grace_hours``, else 48 hours.

    :param apps: the snapshot's published apps (``Snapshot.apps``: name -> ``AppInfo``).
    """
    info = apps.get(app)
    hours = info.definition.get("grace_hours") if info is not None else None
    return dt.timedelta(hours=DEFAULT_GRACE_HOURS if hours is None else int(hours))


def is_ended_marked(assignment: RoleAssignment) -> bool:
    """Whether the expiry job has already recorded that this assignment ended."""
    return ENDED_MARK in (assignment.note or "")


def start_grace(
    session: Session, apps: Mapping[str, Any], user: User, now: dt.datetime, reason: str
) -> list[dict[str, Any]]:
    """Give each open-ended assignment of ``user`` that is in force an end date ``now + grace``.

    Called in the transaction that changes the user's department or job; the caller logs the change
    (the returned list goes into the ``user_changed`` event).
    :return: ``[{"assignment", "app", "role", "ends_at"}]`` for each assignment given an end date.
    """
    now = as_utc(now)
    rows = session.scalars(
        sa.select(RoleAssignment)
        .where(RoleAssignment.user_id == user.id, RoleAssignment.ends_at.is_(None))
        .order_by(RoleAssignment.id)
    )
    changed = []
    for row in rows:
        row.ends_at = now + grace_period(apps, row.app)
        row.note = with_note(row.note, f"grace: {reason}")
        changed.append({"assignment": row.id, "app": row.app, "role": row.role, "ends_at": row.ends_at})
    session.flush()
    return changed


def end_expired_assignments(session: Session, now: dt.datetime) -> list[int]:
    """Record every assignment whose ``ends_at`` has passed: mark it and log ``assignment_ended`` once.

    The mark is a guarded UPDATE (``... WHERE note NOT LIKE '%[ended]%'``), so when two workers run the
    job together only the one whose UPDATE matched logs the event.
    :return: the ids of the assignments recorded by this run.
    """
    now = as_utc(now)
    due = session.execute(
        sa.select(RoleAssignment, User.username)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.ends_at.is_not(None),
            RoleAssignment.ends_at <= now,
            RoleAssignment.note.not_like(f"%{ENDED_MARK}%"),
        )
        .order_by(RoleAssignment.id)
    ).all()
    ended = []
    for row, username in due:
        marked = session.execute(
            sa.update(RoleAssignment)
            .where(RoleAssignment.id == row.id, RoleAssignment.note.not_like(f"%{ENDED_MARK}%"))
            .values(note=with_note(row.note, ENDED_MARK))
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:
            continue  # another worker recorded it first
        log_event(
            session,
            "assignment_ended",
            username=username,
            user_id=row.user_id,
            assignment=row.id,
            app=row.app,
            role=row.role,
            ends_at=as_utc(row.ends_at),
            by=JOB_ACTOR,
        )
        ended.append(row.id)
    return ended


def with_note(note: str | None, addition: str) -> str:
    """``note`` with ``addition`` appended, trimmed from the left so the addition always fits."""
    combined = f"{note} {addition}".strip() if note else addition
    return combined[-MAX_NOTE:]
