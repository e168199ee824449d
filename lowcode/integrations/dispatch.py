"""The deliveries' dispatcher: claims due ``lc_delivery`` rows, sends them concurrently, records outcomes.

- Order: rows are claimed in ``event_id`` (outbox, i.e. commit) order, and a row is claimable only while no
  earlier pending row of the same subscription and record waits (backoff) or is leased elsewhere; a
  subscription's claimed rows are sent one after another by one task, and after a failure the later rows of
  that record are released, so a record's events arrive in commit order. Dead letters do not hold later
  events back (they are replayed out of order; the payload's ``version`` tells the receiver).
- Isolation: one task per subscription on a bounded thread pool; a subscription with a task in flight is not
  claimed again, others are - a hung endpoint holds only its own subscription, for at most its timeout.
- Leases: short (``DELIVERY_LEASE_SECONDS``, default 15 s) and renewed by :meth:`Dispatcher.tick` (the
  heartbeat) while the task runs, so a crashed worker's claims are free again within a lease.
- Claims are serialised: SQLite's ``BEGIN IMMEDIATE``; on PostgreSQL a transaction advisory lock (a row
  lock skipped by a concurrent claimer could let a later event of a record overtake an earlier one).
- Failures: exponential backoff with jitter; after ``DELIVERY_MAX_ATTEMPTS`` (default 12) the row is
  ``dead`` with its last error (:mod:`lowcode.integrations.replay` puts it back).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from lowcode.auth.lifecycle import as_utc
from lowcode.core.db import Database
from lowcode.core.jsonutil import dumps
from lowcode.core.models import Delivery, utcnow
from lowcode.integrations.channels import builtin_outbound_channels
from lowcode.integrations.channels.base import DeliveryFailed, Message
from lowcode.integrations.subscriptions import published_channels
from lowcode.registry import Registry

log = logging.getLogger(__name__)
_D = Delivery.__table__
CLAIM_LOCK = 0x6C634476  # the PostgreSQL advisory lock of delivery claims ("lcDv")
MAX_ERROR = 1000


def backoff_with_jitter(
    attempts: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after the ``attempts``-th failure: ``base * 2**(attempts-1)`` capped at ``cap``,
    then a random half of it added to the other half (never less than half the exponential step)."""
    step = min(base * (2 ** max(attempts - 1, 0)), cap)
    return step / 2 + rand() * step / 2


class DeliverySettings:
    """The dispatcher's numbers, read from the settings once."""

    def __init__(self, settings: Mapping[str, Any]):
        self.lease = dt.timedelta(seconds=float(settings.get("DELIVERY_LEASE_SECONDS") or 15))
        self.max_attempts = int(settings.get("DELIVERY_MAX_ATTEMPTS") or 12)
        self.backoff_base = float(settings.get("DELIVERY_BACKOFF_SECONDS") or 5)
        self.backoff_cap = float(settings.get("DELIVERY_BACKOFF_MAX_SECONDS") or 3600)
        self.workers = int(settings.get("DELIVERY_WORKERS") or 8)
        self.batch = int(settings.get("DELIVERY_BATCH") or 50)


class Dispatcher:
    """Claims and sends deliveries; call :meth:`tick` often (the integration loop does, every few ms when
    busy); :meth:`close` stops it."""

    def __init__(
        self,
        db: Database,
        settings: Mapping[str, Any],
        channels: Registry | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        self.db = db
        self.settings = settings
        self.numbers = DeliverySettings(settings)
        self.channels = channels if channels is not None else builtin_outbound_channels()
        self.clock = clock
        self.token = secrets.token_hex(8)
        self.pool = ThreadPoolExecutor(self.numbers.workers, thread_name_prefix="lowcode-delivery")
        self._lock = threading.Lock()
        self._busy: dict[tuple[str, str], set[int]] = {}
        self._renewed = self.clock()
        self._stopping = threading.Event()

    # -- the loop's step ---------------------------------------------------------------------------
    def tick(self) -> int:
        """Renew the leases in flight when due, claim what free workers can take; returns rows claimed."""
        now = self.clock()
        self._heartbeat(now)
        with self._lock:
            busy = set(self._busy)
        if len(busy) >= self.numbers.workers or not self._any_due(now, busy):
            return 0
        with self.db.write() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(sa.select(sa.func.pg_advisory_xact_lock(CLAIM_LOCK)))
            rows = session.execute(self._claim_query(now, busy)).mappings().all()
            if rows:
                session.execute(
                    sa.update(_D)
                    .where(_D.c.id.in_([r["id"] for r in rows]))
                    .values(lease_until=now + self.numbers.lease, lease_token=self.token)
                )
        groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for row in rows:
            groups.setdefault((row["app"], row["subscription"]), []).append(row)
        free = self.numbers.workers - len(busy)
        for key, group in list(groups.items())[:free]:
            with self._lock:
                self._busy[key] = {r["id"] for r in group}
            self.pool.submit(self._run, key, group)
        for _key, group in list(groups.items())[free:]:
            self._release([r["id"] for r in group])
        return len(rows)

    # -- direct hand-off from the fan-out (no claim round trip for a subscription that is free) ---------
    def reserve(self, key: tuple[str, str]) -> bool:
        """Reserve a free subscription for rows the fan-out is about to lease to this dispatcher."""
        with self._lock:
            if key in self._busy or len(self._busy) >= self.numbers.workers:
                return False
            self._busy[key] = set()
            return True

    def lease_values(self, now: dt.datetime) -> dict[str, Any]:
        """The columns that lease a new row to this dispatcher."""
        return {"lease_until": now + self.numbers.lease, "lease_token": self.token}

    def start(self, key: tuple[str, str], rows: list[Mapping[str, Any]]) -> None:
        """Send rows leased (committed) to this dispatcher, on a reserved subscription."""
        with self._lock:
            self._busy[key] = {r["id"] for r in rows}
        self.pool.submit(self._run, key, rows)

    def unreserve(self, key: tuple[str, str]) -> None:
        """Give back a reservation whose rows were never committed."""
        with self._lock:
            if not self._busy.get(key, {0}):
                self._busy.pop(key, None)

    def idle(self) -> bool:
        """No task in flight."""
        with self._lock:
            return not self._busy

    def close(self) -> None:
        """Stop: wait for tasks in flight (each bounded by its channel's timeout), close connections."""
        self._stopping.set()  # tasks release the rows they have not started
        self.pool.shutdown(wait=True)
        for channel in self.channels.all():
            channel.close()

    # -- claiming -----------------------------------------------------------------------------------
    def _any_due(self, now: dt.datetime, busy: set[tuple[str, str]]) -> bool:
        with self.db.read() as session:
            return session.execute(self._due_query(now, busy).limit(1)).first() is not None

    def _due_query(self, now: dt.datetime, busy: set[tuple[str, str]]) -> sa.Select:
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
        query = sa.select(_D.c.id).where(
            _D.c.status == "pending",
            sa.or_(_D.c.next_attempt_at.is_(None), _D.c.next_attempt_at <= now),
            sa.or_(_D.c.lease_until.is_(None), _D.c.lease_until < now),
            ~blocked,
        )
        for app, name in busy:
            query = query.where(sa.not_(sa.and_(_D.c.app == app, _D.c.subscription == name)))
        return query

    def _claim_query(self, now: dt.datetime, busy: set[tuple[str, str]]) -> sa.Select:
        ids = self._due_query(now, busy).order_by(_D.c.event_id).limit(self.numbers.batch).subquery()
        return sa.select(_D).where(_D.c.id.in_(sa.select(ids.c.id))).order_by(_D.c.event_id, _D.c.id)

    def _heartbeat(self, now: dt.datetime) -> None:
        if now - self._renewed < self.numbers.lease / 3:
            return
        self._renewed = now
        with self._lock:
            ids = sorted(i for group in self._busy.values() for i in group)
        if ids:
            with self.db.write() as session:
                session.execute(
                    sa.update(_D)
                    .where(_D.c.id.in_(ids), _D.c.lease_token == self.token, _D.c.status == "pending")
                    .values(lease_until=now + self.numbers.lease)
                )

    def _release(self, ids: list[int]) -> None:
        if ids:
            with self.db.write() as session:
                session.execute(
                    sa.update(_D)
                    .where(_D.c.id.in_(ids), _D.c.lease_token == self.token)
                    .values(lease_until=None, lease_token="")
                )

    # -- a subscription's task ------------------------------------------------------------------------
    def _run(self, key: tuple[str, str], rows: list[Mapping[str, Any]]) -> None:
        try:
            failed_records: set[str] = set()
            for row in rows:
                if row["record_key"] in failed_records or self._stopping.is_set():
                    self._release([row["id"]])
                else:
                    error = self._send(row)
                    self._record(row, error)
                    if error is not None:
                        failed_records.add(row["record_key"])
                with self._lock:
                    self._busy[key].discard(row["id"])
        except Exception:  # noqa: BLE001 - the task must free its subscription; leases expire
            log.exception("delivery task of %s failed", key)
        finally:
            with self._lock:
                self._busy.pop(key, None)

    def _send(self, row: Mapping[str, Any]) -> str | None:
        payload = row["payload"] or {}
        target = self._target(row)
        if target is None:
            return f"subscription '{row['subscription']}' is no longer published"
        try:
            channel = self.channels.get(str(target.get("kind", "")))
            message = Message(row["message_id"], dumps(payload).encode("utf-8"), target, row["attempts"] + 1)
            channel.send(message, self.settings)
            return None
        except DeliveryFailed as exc:
            return str(exc)[:MAX_ERROR]
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery, retried later
            return f"{type(exc).__name__}: {exc}"[:MAX_ERROR]

    def _target(self, row: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The subscription's channel as published now (read again every few seconds)."""
        now = self.clock()
        cached = getattr(self, "_targets", None)
        if cached is None or cached[0] < now - dt.timedelta(seconds=5):
            with self.db.read() as session:
                cached = self._targets = (now, published_channels(session))
        return cached[1].get((row["app"], row["subscription"]))

    def _record(self, row: Mapping[str, Any], error: str | None) -> None:
        now = self.clock()
        attempts = row["attempts"] + 1
        if error is None:
            values: dict[str, Any] = {"status": "delivered", "delivered_at": now, "last_error": ""}
        elif attempts >= self.numbers.max_attempts:
            values = {
                "status": "dead",
                "last_error": f"{error} (gave up after {attempts} attempts)"[:MAX_ERROR],
            }
        else:
            wait = backoff_with_jitter(attempts, self.numbers.backoff_base, self.numbers.backoff_cap)
            values = {"last_error": error, "next_attempt_at": now + dt.timedelta(seconds=wait)}
        with self.db.write() as session:
            session.execute(
                sa.update(_D)
                .where(_D.c.id == row["id"], _D.c.lease_token == self.token, _D.c.status == "pending")
                .values(attempts=attempts, lease_until=None, lease_token="", **values)
            )


def as_aware(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time as UTC-aware (SQLite gives naive ones back)."""
    return as_utc(value) if value is not None else None
