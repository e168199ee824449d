"""In-app notifications: who receives them, writing them in the caller's transaction, reading and marking them.

Rows are written by the ``notify`` rule action inside the writing transaction, so a refused write notifies
nobody. Every read and change here is scoped to one user: a user never sees or marks another's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.lifecycle import as_utc
from lowcode.core.models import Notification, RoleAssignment, User, utcnow
from lowcode.errors import NotFound

MAX_TITLE = 200
MAX_BODY = 4000
MAX_LINK = 500
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

_INSERT = Notification.__table__.insert()
_T = Notification.__table__


def safe_link(link: Any) -> str:
    """``link`` if it is a path on this site or an http(s) address, else "" (never ``javascript:``...)."""
    if not isinstance(link, str):
        return ""
    link = link.strip()
    if len(link) > MAX_LINK or any(ch in link for ch in "\r\n\t\\"):
        return ""
    if link.startswith("/") and not link.startswith("//"):
        return link
    return link if link.lower().startswith(("https://", "http://")) else ""


# -- recipients -------------------------------------------------------------------------------------
def role_holders(session: Session, app: str, role: str, now: dt.datetime | None = None) -> list[int]:
    """Active users holding ``role`` of ``app`` at ``now`` (assignments started and not yet ended)."""
    now = as_utc(now or utcnow())
    query = (
        sa.select(RoleAssignment.user_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.app == app,
            RoleAssignment.role == role,
            RoleAssignment.starts_at <= now,
            sa.or_(RoleAssignment.ends_at.is_(None), RoleAssignment.ends_at > now),
            User.active.is_(True),
        )
        .distinct()
    )
    return sorted(session.scalars(query))


def active_users(session: Session, user_ids: Iterable[int]) -> list[int]:
    """Those of ``user_ids`` that name an active user (unknown and deactivated ones are dropped)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return []
    query = sa.select(User.id).where(User.id.in_(wanted), User.active.is_(True))
    return sorted(session.scalars(query))


def user_languages(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """``{user id: interface language}`` of ``user_ids``."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    return dict(session.execute(sa.select(User.id, User.language).where(User.id.in_(wanted))).all())


# -- writing ----------------------------------------------------------------------------------------
def notify(
    session: Session,
    user_ids: Iterable[int],
    title: str,
    body: str = "",
    link: str = "",
    *,
    app: str = "",
    entity: str = "",
    record_id: int | None = None,
    rule: str = "",
    now: dt.datetime | None = None,
) -> int:
    """Write one notification per user in the caller's transaction; returns how many were written."""
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    common = {
        "title": (title or "")[:MAX_TITLE],
        "body": (body or "")[:MAX_BODY],
        "link": safe_link(link),
        "app": app,
        "entity": entity,
        "record_id": record_id,
        "rule": rule,
        "created_at": as_utc(now or utcnow()),
        "read_at": None,
    }
    session.execute(_INSERT, [{**common, "user_id": user_id} for user_id in ids])
    return len(ids)


# -- reading and marking (always one user's own) ----------------------------------------------------
def unread_count(session: Session, user_id: int) -> int:
    """How many unread notifications the user has (one COUNT on the (user_id, read_at) index)."""
    query = sa.select(sa.func.count()).select_from(_T).where(_T.c.user_id == user_id, _T.c.read_at.is_(None))
    return int(session.scalar(query) or 0)


def kind_of(row: Notification) -> str:
    """A notification's kind: ``<app>:<rule>`` of the rule that sent it (``:`` for others)."""
    return f"{row.app}:{row.rule}"


def _kind_filter(kind: str) -> list:
    app, _sep, rule = kind.partition(":")
    return [_T.c.app == app, _T.c.rule == rule]


def kinds_for_user(session: Session, user_id: int) -> list[dict[str, Any]]:
    """The user's notifications grouped by kind: ``[{"kind", "app", "rule", "total", "unread", "latest"}]``,
    the group with the newest notification first (one GROUP BY)."""
    unread = sa.func.sum(sa.case((_T.c.read_at.is_(None), 1), else_=0))
    query = (
        sa.select(
            _T.c.app,
            _T.c.rule,
            sa.func.count().label("total"),
            unread.label("unread"),
            sa.func.max(_T.c.id).label("latest"),
        )
        .where(_T.c.user_id == user_id)
        .group_by(_T.c.app, _T.c.rule)
        .order_by(sa.func.max(_T.c.id).desc())
    )
    return [
        {
            "kind": f"{r.app}:{r.rule}",
            "app": r.app,
            "rule": r.rule,
            "total": int(r.total),
            "unread": int(r.unread or 0),
            "latest": r.latest,
        }
        for r in session.execute(query)
    ]


def list_for_user(
    session: Session,
    user_id: int,
    limit: int = PAGE_SIZE,
    before_id: int | None = None,
    unread_only: bool = False,
    kind: str | None = None,
) -> list[Notification]:
    """The user's notifications, newest first; ``before_id`` pages on (keyset on the id); ``kind``
    (``<app>:<rule>``) keeps one kind."""
    query = sa.select(Notification).where(Notification.user_id == user_id)
    if kind is not None:
        query = query.where(*_kind_filter(kind))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(
    session: Session, user_id: int, notification_id: int, now: dt.datetime | None = None
) -> Notification:
    """Mark one of the user's notifications read (idempotent). :raises NotFound: if it is not theirs."""
    row = session.scalar(
        sa.select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
    )
    if row is None:
        raise NotFound(f"No notification {notification_id}")
    if row.read_at is None:
        row.read_at = as_utc(now or utcnow())
        session.flush()
    return row


def mark_all_read(
    session: Session, user_id: int, now: dt.datetime | None = None, kind: str | None = None
) -> int:
    """Mark every unread notification of the user (of one ``kind``, when given) read; returns how many
    changed."""
    where = [
        _T.c.user_id == user_id,
        _T.c.read_at.is_(None),
        *(_kind_filter(kind) if kind is not None else []),
    ]
    result = session.execute(sa.update(_T).where(*where).values(read_at=as_utc(now or utcnow())))
    return int(result.rowcount or 0)


def notification_json(row: Notification) -> dict[str, Any]:
    """The API form of a notification."""
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "link": row.link or None,
        "app": row.app,
        "entity": row.entity,
        "record_id": row.record_id,
        "rule": row.rule,
        "created_at": as_utc(row.created_at),
        "read_at": as_utc(row.read_at),
        "read": row.read_at is not None,
    }
