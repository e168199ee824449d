"""Integration health: per subscription, what waits, what failed, what is dead, and how far behind."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.lifecycle import as_utc
from lowcode.core.models import Delivery
from lowcode.integrations.subscriptions import published_channels

_D = Delivery.__table__


@dataclass(frozen=True)
class SubscriptionHealth:
    """One subscription's delivery state."""

    app: str
    subscription: str
    channel: str
    pending: int
    failing: int
    """Pending deliveries that failed at least once (waiting for their retry)."""
    dead: int
    delivered: int
    lag_seconds: float | None
    """Age of the oldest pending delivery (None: nothing pending)."""
    last_error: str
    last_delivered_at: dt.datetime | None

    def as_json(self) -> dict[str, Any]:
        """The API's form."""
        return {
            "app": self.app,
            "subscription": self.subscription,
            "channel": self.channel,
            "pending": self.pending,
            "failing": self.failing,
            "dead": self.dead,
            "delivered": self.delivered,
            "lag_seconds": self.lag_seconds,
            "last_error": self.last_error,
            "last_delivered_at": self.last_delivered_at.isoformat() if self.last_delivered_at else None,
        }


def health(session: Session, now: dt.datetime) -> list[SubscriptionHealth]:
    """Every published subscription (and any with deliveries left), by app and name."""
    pending = _D.c.status == "pending"
    rows = session.execute(
        sa.select(
            _D.c.app,
            _D.c.subscription,
            sa.func.count().filter(pending),
            sa.func.count().filter(sa.and_(pending, _D.c.attempts > 0)),
            sa.func.count().filter(_D.c.status == "dead"),
            sa.func.count().filter(_D.c.status == "delivered"),
            sa.func.min(_D.c.created_at).filter(pending),
            sa.func.max(_D.c.delivered_at),
        ).group_by(_D.c.app, _D.c.subscription)
    ).all()
    counted = {(r[0], r[1]): r for r in rows}
    channels = published_channels(session)
    out = []
    for key in sorted(set(counted) | set(channels)):
        r = counted.get(key)
        oldest = as_utc(r[6]) if r is not None and r[6] is not None else None
        out.append(
            SubscriptionHealth(
                key[0],
                key[1],
                str((channels.get(key) or {}).get("kind", "")),
                r[2] if r else 0,
                r[3] if r else 0,
                r[4] if r else 0,
                r[5] if r else 0,
                round((now - oldest).total_seconds(), 3) if oldest else None,
                _last_error(session, key) if r else "",
                as_utc(r[7]) if r is not None and r[7] is not None else None,
            )
        )
    return out


def _last_error(session: Session, key: tuple[str, str]) -> str:
    found = session.execute(
        sa.select(_D.c.last_error)
        .where(_D.c.app == key[0], _D.c.subscription == key[1], _D.c.last_error != "")
        .order_by(_D.c.id.desc())
        .limit(1)
    ).first()
    return found[0] if found else ""


def dead_letters(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """The newest dead deliveries with their last error."""
    rows = session.execute(
        sa.select(_D).where(_D.c.status == "dead").order_by(_D.c.id.desc()).limit(limit)
    ).mappings()
    return [
        {
            "id": r["id"],
            "app": r["app"],
            "subscription": r["subscription"],
            "message_id": r["message_id"],
            "record_key": r["record_key"],
            "kind": r["kind"],
            "attempts": r["attempts"],
            "last_error": r["last_error"],
            "created_at": as_utc(r["created_at"]).isoformat(),
        }
        for r in rows
    ]
