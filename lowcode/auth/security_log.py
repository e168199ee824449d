"""Security events: sign-ins, token use, permission changes and denials.

Events are written in a transaction of their own, so a denial is recorded even though the request that
was denied rolls back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.db import Database
from lowcode.core.jsonutil import to_jsonable
from lowcode.core.models import SecurityEvent, utcnow

KINDS = (
    "login_succeeded",
    "login_failed",
    "login_locked",
    "token_used",
    "token_created",
    "token_revoked",
    "role_assigned",
    "role_unassigned",
    "assignment_ended",
    "user_changed",
    "permission_denied",
    "definition_published",
    "definition_edited",
    "query_too_costly",
    "data_exported",
)


def log_event(
    session: Session,
    kind: str,
    *,
    username: str = "",
    user_id: int | None = None,
    ip: str = "",
    **detail: Any,
) -> None:
    """Append an event to ``session``'s transaction (use :func:`log_event_now` to survive a rollback)."""
    if kind not in KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    session.execute(
        sa.insert(SecurityEvent).values(
            kind=kind, username=username, user_id=user_id, ip=ip, detail=to_jsonable(detail), at=utcnow()
        )
    )


def log_event_now(db: Database, kind: str, **fields: Any) -> None:
    """Write one event in its own committed transaction."""
    with db.write() as session:
        log_event(session, kind, **fields)


def log_denial_now(db: Database, actor: Any, reason: str, request: Any, **detail: Any) -> None:
    """A refused request (``request``: the web request, for its address, method and path) as a
    ``permission_denied`` event of ``actor`` (None: nobody signed in), in its own committed transaction."""
    log_event_now(
        db,
        "permission_denied",
        username=actor.username if actor else "",
        user_id=actor.user_id if actor else None,
        ip=request.remote_addr or "",
        method=request.method,
        path=request.path,
        reason=reason,
        **detail,
    )


def count_since(
    session: Session, kind: str, since: dt.datetime, *, username: str | None = None, ip: str | None = None
) -> int:
    """How many events of a kind happened since a moment, for a username and/or an address."""
    query = (
        sa.select(sa.func.count())
        .select_from(SecurityEvent)
        .where(SecurityEvent.kind == kind, SecurityEvent.at >= since)
    )
    if username is not None:
        query = query.where(SecurityEvent.username == username)
    if ip is not None:
        query = query.where(SecurityEvent.ip == ip)
    return session.scalar(query) or 0


def recent_events(session: Session, limit: int = 200, kind: str | None = None) -> list[SecurityEvent]:
    """The newest events, optionally of one kind."""
    query = sa.select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(limit)
    if kind:
        query = query.where(SecurityEvent.kind == kind)
    return list(session.scalars(query))
