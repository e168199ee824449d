"""Outbox delivery: the dispatcher that claims due outbox events and delivers them.

Every outbox row (:class:`lowcode.core.models.OutboxEvent`) is delivered by the channel registered under its
``kind`` (:mod:`lowcode.delivery_channels`): ``webhook`` makes an HTTP call; ``event`` (published events)
and the record events go to local channels, marked delivered at once, so they never pile up as pending.

:func:`dispatch_pending` runs in three short transactions, never holding a lock during network I/O:

1. claim - select due events ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; concurrent dispatchers skip each
   other's rows; on SQLite ``BEGIN IMMEDIATE`` serialises claims instead), deliver local ones at once, and
   lease the others (``next_attempt_at = now + LEASE``, ``attempts + 1``) so nobody else claims them;
2. deliver the leased events, outside any transaction;
3. record the outcomes: ``delivered_at``, or ``last_error`` and the next attempt after an exponential
   backoff; after :data:`MAX_ATTEMPTS` an event is given up (kept, with its last error, for inspection).

Sandbox apps (``lc_sandbox``) never send anything outside: their events go to local channels only; an
event for a channel that would leave the process (a webhook) is held - never attempted, kept undelivered
with the reason and given up at once, so nobody outside hears of a sandbox's trial data.

Delivery is at least once: a dispatcher that dies mid-delivery leaves its lease to expire and the event is
delivered again. Webhooks follow the Standard Webhooks scheme (https://www.standardwebhooks.com): the
``webhook-id`` header names the event (the same on every attempt: receivers de-duplicate on it),
``webhook-timestamp`` is the attempt's Unix time, and ``webhook-signature`` signs ``id.timestamp.body``, so a
captured request cannot be replayed later with a fresh timestamp (the receiver example is in docs/API.md).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lowcode.auth.lifecycle import as_utc
from lowcode.core.db import Database
from lowcode.core.definition_models import Sandbox
from lowcode.core.models import OutboxEvent, utcnow
from lowcode.delivery_channels import DEFAULT_TIMEOUT, Channel, PendingEvent, builtin_channels
from lowcode.integrations.channels.base import DeliveryFailed
from lowcode.registry import Registry

MAX_ATTEMPTS = 12
BACKOFF_BASE = dt.timedelta(seconds=10)
BACKOFF_MAX = dt.timedelta(hours=1)
LEASE = dt.timedelta(minutes=5)
"""How long a claimed event is reserved for the dispatcher delivering it."""
MAX_ERROR = 1000
SANDBOX_HELD = "held: app '{app}' is a sandbox, its events are not delivered outside"

_T = OutboxEvent.__table__


CHANNELS = builtin_channels()
"""The channels :func:`dispatch_pending` uses by default."""


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failed attempt: 10 s, 20 s, 40 s ... at most an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


@dataclass
class DispatchResult:
    """What one dispatch round did."""

    claimed: int = 0
    delivered: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    released: list[int] = field(default_factory=list)
    """Leased but not attempted (the round ran out of time); claimable again at once."""


def dispatch_pending(
    db: Database,
    now: dt.datetime | None = None,
    limit: int = 100,
    settings: Mapping[str, Any] | None = None,
    channels: Registry[Channel] | None = None,
) -> DispatchResult:
    """Claim up to ``limit`` due events, deliver them, record the outcomes (see the module docstring)."""
    now = as_utc(now or utcnow())
    settings = settings or {}
    with db.write() as session:
        result, remote = claim_events(session, now, limit, settings, channels)
    return deliver_claimed(db, remote, now, settings, result)


def claim_events(
    session,
    now: dt.datetime,
    limit: int,
    settings: Mapping[str, Any],
    channels: Registry[Channel] | None = None,
) -> tuple[DispatchResult, list[tuple[PendingEvent, Channel]]]:
    """Step 1 in the caller's write transaction: claim due events, deliver the local ones there, lease the
    others; returns the result so far and the leased remote events (for :func:`deliver_claimed`)."""
    channels = channels if channels is not None else CHANNELS
    result = DispatchResult()
    remote: list[tuple[PendingEvent, Channel]] = []
    rows = session.execute(_claim_query(now, limit)).mappings().all()
    result.claimed = len(rows)
    sandboxes = set(session.scalars(sa.select(Sandbox.app))) if rows else set()
    local: list[int] = []
    for row in rows:
        event = PendingEvent(
            row["id"],
            row["kind"],
            row["app"],
            row["entity"],
            row["record_id"],
            row["payload"] or {},
            row["attempts"] + 1,
            row["created_at"],
        )
        channel = channels.get(event.kind) if event.kind in channels else None
        if channel is None:
            result.failed[event.id] = _fail(
                session, event, f"no delivery channel for kind '{event.kind}'", now
            )
        elif not channel.local and event.app in sandboxes:
            result.failed[event.id] = _hold(session, event)
        elif channel.local:
            try:
                channel.deliver_in(session, event, settings)
                local.append(event.id)
            except Exception as exc:  # noqa: BLE001 - recorded on the event, retried later
                result.failed[event.id] = _fail(session, event, _describe(exc), now)
        else:
            remote.append((event, channel))
    _mark_delivered(session, local, now, claimed=True)
    if remote:
        session.execute(
            sa.update(_T)
            .where(_T.c.id.in_([e.id for e, _ in remote]))
            .values(attempts=_T.c.attempts + 1, next_attempt_at=now + LEASE)
        )
    result.delivered.extend(local)
    return result, remote


def deliver_claimed(
    db: Database,
    remote: list[tuple[PendingEvent, Channel]],
    now: dt.datetime,
    settings: Mapping[str, Any],
    result: DispatchResult,
) -> DispatchResult:
    """Steps 2 and 3: deliver the leased remote events outside any transaction, then record the outcomes."""
    if not remote:
        return result
    outcomes = _deliver_all(remote, settings, result)
    with db.write() as session:
        _mark_delivered(session, [i for i, error in outcomes.items() if error is None], now)
        for event, _ in remote:
            error = outcomes.get(event.id)
            if error is not None:
                result.failed[event.id] = _fail(session, event, error, now)
        if result.released:
            session.execute(
                sa.update(_T)
                .where(_T.c.id.in_(result.released), _T.c.delivered_at.is_(None))
                .values(attempts=_T.c.attempts - 1, next_attempt_at=None)
            )
    result.delivered.extend(i for i, error in outcomes.items() if error is None)
    return result


def dispatch_rounds(
    db: Database,
    now: dt.datetime | None = None,
    settings: Mapping[str, Any] | None = None,
    limit: int = 25,
    max_rounds: int = 80,
    channels: Registry[Channel] | None = None,
) -> dict[str, int]:
    """Dispatch until a round finds fewer than ``limit`` due events (the worker job); returns counts.

    Small rounds on purpose: each claim is a write transaction, and on SQLite it holds the one write lock
    (about 0.15 ms per event marked, plus the commit). 25 events hold it about as long as one record write,
    and every round queues again behind the requests waiting in the process write queue (FIFO), so the
    in-process dispatcher of ``lowcode serve`` yields to them instead of holding them up for 200 events."""
    summary = {"delivered": 0, "failed": 0}
    for _ in range(max_rounds):
        result = dispatch_pending(db, now, limit, settings, channels)
        summary["delivered"] += len(result.delivered)
        summary["failed"] += len(result.failed)
        if result.claimed < limit:
            break
    return summary


def pending_counts(session, now: dt.datetime | None = None) -> dict[str, int]:
    """Undelivered events: ``due`` (claimable now), ``waiting`` (backoff or lease), ``given_up``."""
    now = as_utc(now or utcnow())
    undelivered = _T.c.delivered_at.is_(None)
    given_up = _T.c.attempts >= MAX_ATTEMPTS
    due = sa.or_(_T.c.next_attempt_at.is_(None), _T.c.next_attempt_at <= now)
    row = session.execute(
        sa.select(
            sa.func.count().filter(sa.and_(undelivered, ~given_up, due)),
            sa.func.count().filter(sa.and_(undelivered, ~given_up, ~due)),
            sa.func.count().filter(sa.and_(undelivered, given_up)),
        )
    ).one()
    return {"due": row[0], "waiting": row[1], "given_up": row[2]}


# -- helpers ---------------------------------------------------------------------------------------
def _claim_query(now: dt.datetime, limit: int):
    due = sa.and_(
        _T.c.delivered_at.is_(None),
        _T.c.attempts < MAX_ATTEMPTS,
        sa.or_(_T.c.next_attempt_at.is_(None), _T.c.next_attempt_at <= now),
    )
    columns = (
        _T.c.id,
        _T.c.kind,
        _T.c.app,
        _T.c.entity,
        _T.c.record_id,
        _T.c.payload,
        _T.c.attempts,
        _T.c.created_at,
    )
    # SQLite renders no FOR UPDATE: its write lock (BEGIN IMMEDIATE) already serialises claims.
    return (
        sa.select(*columns)
        .where(due)
        .order_by(_T.c.id)
        .limit(max(1, limit))
        .with_for_update(skip_locked=True)
    )


def _deliver_all(remote, settings, result: DispatchResult) -> dict[int, str | None]:
    """Deliver leased events one by one until the lease is nearly used up; the rest are released."""
    timeout = float(settings.get("WEBHOOK_TIMEOUT") or DEFAULT_TIMEOUT)
    budget = LEASE.total_seconds() - 2 * timeout
    started = time.monotonic()
    outcomes: dict[int, str | None] = {}
    for index, (event, channel) in enumerate(remote):
        if time.monotonic() - started > budget:
            result.released.extend(e.id for e, _ in remote[index:])
            break
        try:
            channel.deliver(event, settings)
            outcomes[event.id] = None
        except Exception as exc:  # noqa: BLE001 - recorded on the event, retried later
            outcomes[event.id] = _describe(exc)
    return outcomes


def _mark_delivered(session, ids: list[int], now: dt.datetime, claimed: bool = False) -> None:
    if not ids:
        return
    values: dict[str, Any] = {"delivered_at": now, "next_attempt_at": None, "last_error": ""}
    if claimed:
        values["attempts"] = _T.c.attempts + 1
    session.execute(sa.update(_T).where(_T.c.id.in_(ids), _T.c.delivered_at.is_(None)).values(**values))


def _fail(session, event: PendingEvent, error: str, now: dt.datetime) -> str:
    """Record a failed attempt: its error, and when to try again (or that we give up)."""
    error = error[:MAX_ERROR]
    if event.attempts >= MAX_ATTEMPTS:
        error = f"{error} (gave up after {event.attempts} attempts)"[:MAX_ERROR]
        retry_at = None
    else:
        retry_at = now + backoff(event.attempts)
    _record_failure(session, event.id, event.attempts, error, retry_at)
    return error


def _hold(session, event: PendingEvent) -> str:
    """Keep a sandbox's outgoing event undelivered for good (given up at once, never attempted)."""
    error = SANDBOX_HELD.format(app=event.app)
    _record_failure(session, event.id, MAX_ATTEMPTS, error, None)
    return error


def _record_failure(session, event_id: int, attempts: int, error: str, retry_at: dt.datetime | None) -> None:
    """An undelivered event's attempts, last error and next attempt (None: never again)."""
    session.execute(
        sa.update(_T)
        .where(_T.c.id == event_id, _T.c.delivered_at.is_(None))
        .values(attempts=attempts, last_error=error, next_attempt_at=retry_at)
    )


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, DeliveryFailed) else f"{type(exc).__name__}: {exc}"
