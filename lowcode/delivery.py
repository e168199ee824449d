"""Outbox delivery: the channels events are delivered through, and the dispatcher that claims and delivers.

Every outbox row (:class:`lowcode.core.models.OutboxEvent`) is delivered by the channel registered under its
``kind``: ``webhook`` makes an HTTP call; ``event`` (published events) and the record events
(``created``/``updated``/``deleted``/``restored``) go to local channels that do nothing yet - realtime
pages and brokers come later - and are simply marked delivered, so they never pile up as pending.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import sqlalchemy as sa

from lowcode.auth.lifecycle import as_utc
from lowcode.core.db import Database
from lowcode.core.jsonutil import dumps
from lowcode.core.models import OutboxEvent, Sandbox, utcnow
from lowcode.integrations.channels.base import DeliveryFailed
from lowcode.integrations.channels.http_post import post_signed
from lowcode.registry import Registry
from lowcode.webhook_signing import webhook_secret
from lowcode.webhook_targets import Resolver, system_resolver

MAX_ATTEMPTS = 12
BACKOFF_BASE = dt.timedelta(seconds=10)
BACKOFF_MAX = dt.timedelta(hours=1)
LEASE = dt.timedelta(minutes=5)
"""How long a claimed event is reserved for the dispatcher delivering it."""
DEFAULT_TIMEOUT = 10.0
MAX_ERROR = 1000
SANDBOX_HELD = "held: app '{app}' is a sandbox, its events are not delivered outside"
RECORD_KINDS = ("created", "updated", "deleted", "restored")

_T = OutboxEvent.__table__


@dataclass(frozen=True)
class PendingEvent:
    """A claimed outbox event; ``attempts`` counts this attempt."""

    id: int
    kind: str
    app: str
    entity: str
    record_id: int | None
    payload: dict[str, Any]
    attempts: int
    created_at: dt.datetime | None = None

    @property
    def message_id(self) -> str:
        """The ``webhook-id``: the outbox row and when it was written (ids alone repeat after a restore)."""
        created = as_utc(self.created_at) if self.created_at else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        micros = (created - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
        return f"msg_{self.id}_{micros}"


class Channel:
    """Delivers the events of one or more outbox kinds."""

    local: ClassVar[bool] = False
    """Local channels do no I/O: they deliver inside the claiming transaction and are marked at once."""

    def deliver(self, event: PendingEvent, settings: Mapping[str, Any]) -> None:
        """Deliver one event. :raises DeliveryFailed: (any other exception counts as a failure too)"""
        raise NotImplementedError

    def deliver_in(self, session, event: PendingEvent, settings: Mapping[str, Any]) -> None:
        """A local channel's delivery inside the claiming transaction (``session``); default: :meth:`deliver`."""
        self.deliver(event, settings)


class LocalChannel(Channel):
    """Nothing to deliver to yet (realtime pages, brokers): the event is marked delivered."""

    local = True

    def deliver(self, event, settings):
        return None


class WebhookChannel(Channel):
    """An HTTP call with the event's JSON body (decimals as strings) and the Standard Webhooks headers
    ``webhook-id``, ``webhook-timestamp`` and - when a secret is configured (``WEBHOOK_SECRET`` setting or
    ``LOWCODE_WEBHOOK_SECRET``) - ``webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>``.
    A 2xx answer is success. ``clock`` gives the attempt's Unix time. The host must not resolve to a local
    or private address unless ``WEBHOOK_ALLOW`` allows it (:mod:`lowcode.webhook_targets`); the call goes
    to the address that was checked (:func:`lowcode.integrations.channels.http_post.post_signed`)."""

    def __init__(self, clock: Callable[[], float] = time.time, resolver: Resolver = system_resolver):
        self.clock = clock
        self.resolver = resolver

    def deliver(self, event, settings):
        message = event.payload
        headers = {str(k): str(v) for k, v in (message.get("headers") or {}).items()}
        headers["X-Lowcode-Delivery-Attempt"] = str(event.attempts)
        post_signed(
            str(message.get("url", "")),
            dumps(message.get("body", {})).encode("utf-8"),
            event.message_id,
            str(int(self.clock())),
            webhook_secret(settings),
            headers,
            settings,
            self.resolver,
            float(settings.get("WEBHOOK_TIMEOUT") or DEFAULT_TIMEOUT),
            str(message.get("method") or "POST"),
        )


def builtin_channels(record_channel: Channel | None = None) -> Registry[Channel]:
    """A registry holding the built-in channels, keyed by outbox kind; the record kinds go to
    ``record_channel`` (the subscriptions' fan-out, :mod:`lowcode.integrations.fanout`) or nowhere."""
    channels: Registry[Channel] = Registry("delivery channel")
    channels.register("webhook", WebhookChannel())
    channels.register("event", LocalChannel())  # published events: realtime pages and brokers come later
    for kind in RECORD_KINDS:
        channels.register(kind, record_channel or LocalChannel())
    return channels


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
    session.execute(
        sa.update(_T)
        .where(_T.c.id == event.id, _T.c.delivered_at.is_(None))
        .values(attempts=event.attempts, last_error=error, next_attempt_at=retry_at)
    )
    return error


def _hold(session, event: PendingEvent) -> str:
    """Keep a sandbox's outgoing event undelivered for good (given up at once, never attempted)."""
    error = SANDBOX_HELD.format(app=event.app)
    session.execute(
        sa.update(_T)
        .where(_T.c.id == event.id, _T.c.delivered_at.is_(None))
        .values(attempts=MAX_ATTEMPTS, last_error=error, next_attempt_at=None)
    )
    return error


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, DeliveryFailed) else f"{type(exc).__name__}: {exc}"
