"""The claim queries of the deliveries' dispatcher: which ``lc_delivery`` rows are due, in event order.

A row is due when it is pending, not waiting out a backoff, not leased (or its lease ran out), and no earlier
pending row of the same subscription and record is waiting (backoff) or leased - so a record's events go out
in commit order. Dead letters do not hold later events back.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from lowcode.core.models import Delivery

_D = Delivery.__table__


def due_query(now: dt.datetime) -> sa.Select:
    """The ids of the rows due at ``now`` (see the module docstring)."""
    earlier = _D.alias("earlier")
    blocked = (
        sa.select(earlier.c.id)
        .where(
            earlier.c.app == _D.c.app,
            earlier.c.subscription == _D.c.subscription,
            earlier.c.record_key == _D.c.record_key,
            earlier.c.event_id < _D.c.event_id,
            earlier.c.status == "pending",
            sa.or_(earlier.c.next_attempt_at > now, earlier.c.lease_until >= now),
        )
        .exists()
    )
    return sa.select(_D.c.id).where(
        _D.c.status == "pending",
        sa.or_(_D.c.next_attempt_at.is_(None), _D.c.next_attempt_at <= now),
        sa.or_(_D.c.lease_until.is_(None), _D.c.lease_until < now),
        ~blocked,
    )


def claim_query(now: dt.datetime, batch: int) -> sa.Select:
    """The first ``batch`` due rows, whole, in event order."""
    ids = due_query(now).order_by(_D.c.event_id).limit(batch).subquery()
    return sa.select(_D).where(_D.c.id.in_(sa.select(ids.c.id))).order_by(_D.c.event_id, _D.c.id)
