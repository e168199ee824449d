"""System tables of the integrations: the changes feed's commit clock, outbound deliveries per subscription and
the inbound API's idempotency keys (re-exported by :mod:`lowcode.core.models`; migrations 0008, 0009, 0011)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lowcode.core.model_base import Base, utcnow


class CommitStamp(Base):
    """PostgreSQL: the commit clock's tick of one write transaction that changed records (see
    :mod:`lowcode.core.commit_clock`); ``seq`` follows commit order."""

    __tablename__ = "lc_commit"
    seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    tx: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class Delivery(Base):
    """One outbox event for one subscription (``lowcode/integrations``): sent by its channel at least once,
    in commit order per record (``event_id`` orders the events of one ``record_key``)."""

    __tablename__ = "lc_delivery"
    __table_args__ = (
        sa.UniqueConstraint("app", "subscription", "event_id", name="uq_lc_delivery_event"),
        sa.Index("ix_lc_delivery_due", "status", "event_id"),
        sa.Index("ix_lc_delivery_record", "app", "subscription", "record_key", "event_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(64))
    subscription: Mapped[str] = mapped_column(sa.String(64))
    event_id: Mapped[int] = mapped_column(sa.BigInteger)
    """The outbox row (``lc_outbox.id``) this delivery was made from."""
    message_id: Mapped[str] = mapped_column(sa.String(64))
    """The stable event id receivers de-duplicate on (the same on every attempt and replay)."""
    entity: Mapped[str] = mapped_column(sa.String(64))
    record_key: Mapped[str] = mapped_column(sa.String(160))
    """``entity:id`` - a later event of the same key waits for the earlier ones."""
    kind: Mapped[str] = mapped_column(sa.String(32))
    channel: Mapped[str] = mapped_column(sa.String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    """``pending``, ``delivered`` or ``dead`` (given up after the maximum attempts; replayable)."""
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    lease_until: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    """Claimed by a dispatcher until then (renewed by its heartbeat while it delivers)."""
    lease_token: Mapped[str] = mapped_column(sa.String(32), default="")
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class IngestKey(Base):
    """An idempotency key of the inbound API (``lowcode/mappings/ingest.py``): the first request that claims
    ``(app, mapping, key)`` applies the record; any later one answers "duplicate" with the stored outcome."""

    __tablename__ = "lc_ingest_key"
    __table_args__ = (sa.UniqueConstraint("app", "mapping", "key", name="uq_lc_ingest_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(64))
    mapping: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
