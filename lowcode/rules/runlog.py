"""The rule-run log: every run of every rule, queryable per record and per rule."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.models import RuleRunEntry, utcnow
from lowcode.runtime import row_buffer

_INSERT = RuleRunEntry.__table__.insert()
"""One prebuilt Core insert (an ORM-enabled ``insert(RuleRunEntry).values(...)`` built a new statement and
cache key for every run)."""


def log_run(session: Session, **entry: Any) -> None:
    """Append one run to ``session``'s transaction (at the end of the collecting block it is in, see
    :mod:`lowcode.runtime.row_buffer`)."""
    row_buffer.insert(session, _INSERT, {"at": utcnow(), **entry})


def runs(
    session: Session,
    app: str,
    *,
    entity: str | None = None,
    record_id: int | None = None,
    rule: str | None = None,
    limit: int = 100,
    record_ids: sa.Select | None = None,
    failed_only: bool = False,
) -> list[RuleRunEntry]:
    """Runs of an app, newest first, optionally for one record or one rule; ``record_ids`` (a subquery)
    limits them to the runs of those records (a reader's record rules); ``failed_only``: the runs that did
    not end ``ok`` (refused, invalid, failed, skipped)."""
    row_buffer.flush(session)
    query = (
        sa.select(RuleRunEntry).where(RuleRunEntry.app == app).order_by(RuleRunEntry.id.desc()).limit(limit)
    )
    if entity is not None:
        query = query.where(RuleRunEntry.entity == entity)
    if record_id is not None:
        query = query.where(RuleRunEntry.record_id == record_id)
    if rule is not None:
        query = query.where(RuleRunEntry.rule == rule)
    if failed_only:
        query = query.where(RuleRunEntry.outcome != "ok")
    if record_ids is not None:
        query = query.where(RuleRunEntry.record_id.in_(record_ids))
    return list(session.scalars(query))
