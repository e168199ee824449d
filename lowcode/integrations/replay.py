"""Replay: dead letters, or every delivery of a time range, put back to ``pending`` and sent again with
their original event ids (receivers that de-duplicate see a replay of what they have as a repeat)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.models import Delivery
from lowcode.errors import BadRequest
from lowcode.runtime.outbox_signal import ring_after_commit

_D = Delivery.__table__
MAX_RANGE = dt.timedelta(days=31)


@dataclass(frozen=True)
class ReplayRequest:
    """What to replay: ``dead`` letters, or all deliveries made ``since``..``until`` (UTC); narrowed to an
    app and a subscription when given."""

    dead_only: bool
    app: str | None = None
    subscription: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def check(self) -> None:
        """:raises BadRequest: a range replay without both ends, ends reversed, or longer than 31 days."""
        if self.dead_only and self.since is None and self.until is None:
            return
        if self.since is None or self.until is None:
            raise BadRequest("A time range replay needs both since and until")
        if self.until <= self.since:
            raise BadRequest("until must be after since")
        if self.until - self.since > MAX_RANGE:
            raise BadRequest("A replay covers at most 31 days")


def replay(session: Session, request: ReplayRequest, now: dt.datetime) -> int:
    """Put the chosen deliveries back to pending (attempts from zero, due now); returns how many."""
    request.check()
    where = [_D.c.status == "dead"] if request.dead_only else [_D.c.status.in_(("dead", "delivered"))]
    if request.app:
        where.append(_D.c.app == request.app)
    if request.subscription:
        where.append(_D.c.subscription == request.subscription)
    if request.since is not None:
        where.append(_D.c.created_at >= request.since)
    if request.until is not None:
        where.append(_D.c.created_at < request.until)
    result = session.execute(
        sa.update(_D)
        .where(*where)
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=now,
            lease_until=None,
            lease_token="",
            delivered_at=None,
        )
    )
    count = result.rowcount or 0
    if count:
        ring_after_commit(session)  # the loop picks them up at once
    return count
