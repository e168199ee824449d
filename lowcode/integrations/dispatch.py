"""The deliveries' dispatcher: claims due ``lc_delivery`` rows, sends them concurrently, records outcomes.

- Rounds: the integration loop runs one write transaction per round - :meth:`Dispatcher.write_round` writes
  the outcomes noted since the last round (group commit: sending never waits for a commit) and renews the
  leases in flight, the outbox fan-out adds rows (leased at once to a lane that may take them,
  :meth:`Dispatcher.adopt`), :meth:`Dispatcher.claim_in` leases due rows nobody holds - and after the commit
  :meth:`Dispatcher.finish_round` starts what was leased.
- Order: rows are claimed in ``event_id`` (outbox, i.e. commit) order, and a row is claimable only while no
  earlier pending row of the same subscription and record waits (backoff) or is leased; a subscription's rows
  are sent one after another by its lane (:mod:`lowcode.integrations.lanes`), and after a failure the lane's
  later rows of that record are released, so a record's events arrive in commit order. Dead letters do not
  hold later events back (they are replayed out of order; the payload's ``version`` tells the receiver).
- Isolation: one lane per subscription, at most ``DELIVERY_WORKERS`` lanes, each with a thread of the pool
  while it has rows - a hung endpoint holds only its own subscription, for at most its timeout per row.
- Leases: short (``DELIVERY_LEASE_SECONDS``, default 15 s) and renewed every third of it by the rounds (the
  heartbeat) while rows are in a lane, so a crashed worker's claims are free again within a lease.
- Claims are serialised: SQLite's ``BEGIN IMMEDIATE``; on PostgreSQL a transaction advisory lock (a row
  lock skipped by a concurrent claimer could let a later event of a record overtake an earlier one).
- Failures: exponential backoff with jitter; after ``DELIVERY_MAX_ATTEMPTS`` (default 12) the row is
  ``dead`` with its last error (:mod:`lowcode.integrations.replay` puts it back).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lowcode.core.db import Database
from lowcode.core.models import Delivery, utcnow
from lowcode.integrations.channels import builtin_outbound_channels
from lowcode.integrations.claims import claim_query, due_query
from lowcode.integrations.delivery_settings import DeliverySettings
from lowcode.integrations.lanes import Lane, Outcome, backoff_values, write_outcomes
from lowcode.integrations.sender import DeliverySender
from lowcode.registry import Registry
from lowcode.runtime.outbox_signal import OUTBOX_BELL, Bell

log = logging.getLogger(__name__)
_D = Delivery.__table__
CLAIM_LOCK = 0x6C634476  # the PostgreSQL advisory lock of delivery claims ("lcDv")


@dataclass
class Round:
    """One round's work: the outcomes it writes, the rows it claims (started after its commit)."""

    now: dt.datetime
    outcomes: list[Outcome] = field(default_factory=list)
    claimed: dict[tuple[str, str], list[Mapping[str, Any]]] = field(default_factory=dict)


class Dispatcher:
    """Claims and sends deliveries in rounds run by the integration loop (see the module docstring);
    :meth:`close` stops it."""

    def __init__(
        self,
        db: Database,
        settings: Mapping[str, Any],
        channels: Registry | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        bell: Bell = OUTBOX_BELL,
    ):
        self.db = db
        self.bell = bell
        """Rung when a lane waits for its outcomes to be written (the loop runs a round at once)."""
        self.settings = settings
        self.numbers = DeliverySettings(settings)
        self.channels = channels if channels is not None else builtin_outbound_channels()
        self.clock = clock
        self.sender = DeliverySender(db, settings, self.channels, clock)
        self.token = secrets.token_hex(8)
        self.pool = ThreadPoolExecutor(self.numbers.workers, thread_name_prefix="lowcode-delivery")
        self._lock = threading.Lock()
        self._written = threading.Condition(self._lock)
        self._lanes: dict[tuple[str, str], Lane] = {}
        self._outcomes: list[Outcome] = []
        self._renewed = self.clock()
        self._stopping = threading.Event()

    # -- rounds ---------------------------------------------------------------------------------------
    def wants_round(self, now: dt.datetime) -> bool:
        """Outcomes have waited ``DELIVERY_WRITE_SECONDS``, leases need renewing, or rows are due."""
        with self._lock:
            oldest = self._outcomes[0].at if self._outcomes else None
            leased = any(lane.unwritten for lane in self._lanes.values())
        if oldest is not None and (now - oldest).total_seconds() >= self.numbers.write_delay:
            return True
        if leased and now - self._renewed >= self.numbers.lease / 3:
            return True
        return self._any_due(now)

    def begin_round(self, now: dt.datetime) -> Round:
        """Take the outcomes noted so far for this round."""
        with self._lock:
            outcomes, self._outcomes = self._outcomes, []
        return Round(now, outcomes)

    def write_round(self, session, round_: Round) -> int:
        """Write the round's outcomes and renew the leases in flight (in the round's transaction)."""
        write_outcomes(session, round_.outcomes, self.token, self._failed_values)
        if round_.now - self._renewed >= self.numbers.lease / 3:
            written = {o.row["id"] for o in round_.outcomes}
            with self._lock:
                ids = sorted(i for lane in self._lanes.values() for i in lane.unwritten if i not in written)
            if ids:
                session.execute(
                    sa.update(_D)
                    .where(_D.c.id.in_(ids), _D.c.lease_token == self.token, _D.c.status == "pending")
                    .values(lease_until=round_.now + self.numbers.lease)
                )
            self._renewed = round_.now
        return len(round_.outcomes)

    def claim_in(self, session, round_: Round) -> int:
        """Lease the due rows nobody holds (in event order, at most ``DELIVERY_BATCH``) to the lanes of their
        subscriptions - new lanes only while there are fewer than ``DELIVERY_WORKERS``."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(CLAIM_LOCK)))
        rows = session.execute(self._claim_query(round_.now)).mappings().all()
        with self._lock:
            room = self.numbers.workers - len(self._lanes)
            known = set(self._lanes)
        new_lanes: set[tuple[str, str]] = set()
        for row in rows:
            key = (row["app"], row["subscription"])
            if key not in known and key not in new_lanes:
                if len(new_lanes) >= room:
                    continue  # claimed by a later round, once a lane is free
                new_lanes.add(key)
            round_.claimed.setdefault(key, []).append(row)
        ids = [r["id"] for group in round_.claimed.values() for r in group]
        if ids:
            session.execute(sa.update(_D).where(_D.c.id.in_(ids)).values(**self.lease_values(round_.now)))
        return len(ids)

    def finish_round(self, round_: Round, committed: bool) -> None:
        """After the round's transaction: forget the written outcomes and start the claimed rows; after a
        rollback put the outcomes back for the next round."""
        with self._lock:
            if not committed:
                self._outcomes[:0] = round_.outcomes
                for lane in self._lanes.values():
                    lane.reserved = False
                self._drop_idle()
                return
            written: dict[tuple[str, str], set[int]] = {}
            for outcome in round_.outcomes:
                key = (outcome.row["app"], outcome.row["subscription"])
                written.setdefault(key, set()).add(outcome.row["id"])
            for key, ids in written.items():
                if key in self._lanes:
                    self._lanes[key].forget_written(ids)
            self._written.notify_all()
        for key, rows in round_.claimed.items():
            self.start(key, rows)
        with self._lock:
            self._drop_idle()

    def tick(self) -> int:
        """One round of the dispatcher alone (no fan-out) in its own transaction; returns rows written or
        claimed."""
        now = self.clock()
        if not self.wants_round(now):
            return 0
        round_ = self.begin_round(now)
        try:
            with self.db.write() as session:
                done = self.write_round(session, round_) + self.claim_in(session, round_)
        except BaseException:
            self.finish_round(round_, committed=False)
            raise
        self.finish_round(round_, committed=True)
        return done

    # -- the fan-out's hand-off (rows leased in the fan-out's transaction, started after its commit) --------
    def adopt(self, session, key: tuple[str, str], record_key: str, joining: set[int]) -> bool:
        """May a new row of ``record_key`` join ``key``'s lane (reserving the lane)? Only if the record's
        pending rows are all in that lane already (or ``joining`` it in this transaction), the record is not
        held there, and the lane exists or another one may."""
        pending = set(
            session.scalars(
                sa.select(_D.c.id).where(
                    _D.c.app == key[0],
                    _D.c.subscription == key[1],
                    _D.c.record_key == record_key,
                    _D.c.status == "pending",
                )
            )
        )
        with self._lock:
            lane = self._lanes.get(key)
            if lane is None:
                if len(self._lanes) >= self.numbers.workers or pending - joining:
                    return False
                lane = self._lanes[key] = Lane()
            if not lane.accepts(record_key, pending - joining):
                return False
            lane.reserved = True
            return True

    def lease_values(self, now: dt.datetime) -> dict[str, Any]:
        """The columns that lease a new row to this dispatcher."""
        return {"lease_until": now + self.numbers.lease, "lease_token": self.token}

    def start(self, key: tuple[str, str], rows: list[Mapping[str, Any]]) -> None:
        """Queue rows leased (committed) to this dispatcher on their subscription's lane."""
        with self._lock:
            lane = self._lanes.setdefault(key, Lane())
            lane.reserved = False
            for row in lane.join(rows):
                self._note(lane, Outcome(row, None, self.clock(), released=True))
            if lane.running or not lane.queue:
                return
            lane.running = True
        self.pool.submit(self._run, key)

    def drop_reservations(self) -> None:
        """The fan-out's transaction rolled back: its reservations are void."""
        with self._lock:
            for lane in self._lanes.values():
                lane.reserved = False
            self._drop_idle()

    def idle(self) -> bool:
        """Nothing leased, in flight or waiting to be written."""
        with self._lock:
            return not self._lanes and not self._outcomes

    def close(self) -> None:
        """Stop: wait for rows in flight (each bounded by its channel's timeout; queued ones are released),
        write the outcomes, close connections."""
        self._stopping.set()
        self.pool.shutdown(wait=True)
        try:
            round_ = self.begin_round(self.clock())
            if round_.outcomes:
                with self.db.write() as session:
                    self.write_round(session, round_)
        finally:
            self.sender.close()

    # -- claiming -----------------------------------------------------------------------------------
    def _any_due(self, now: dt.datetime) -> bool:
        with self.db.read() as session:
            return session.execute(due_query(now).limit(1)).first() is not None

    def _claim_query(self, now: dt.datetime) -> sa.Select:
        return claim_query(now, self.numbers.batch)

    def _drop_idle(self) -> None:
        for key in [k for k, lane in self._lanes.items() if lane.idle()]:
            del self._lanes[key]

    # -- a lane's task --------------------------------------------------------------------------------
    def _run(self, key: tuple[str, str]) -> None:
        """Send the lane's rows one after another until its queue is empty; note each outcome."""
        try:
            while True:
                with self._lock:
                    lane = self._lanes[key]
                    if not lane.queue:
                        lane.running = False
                        return
                    while lane.noted > self.numbers.ahead and not self._stopping.is_set():
                        self.bell.ring()  # a round now, not after DELIVERY_WRITE_SECONDS
                        self._written.wait(0.1)
                    row = lane.queue.popleft()
                    hold = self._stopping.is_set()
                error = None if hold else self.sender.send(row)
                with self._lock:
                    now = self.clock()
                    self._note(lane, Outcome(row, error, now, released=hold))
                    for later in lane.fail(row) if error is not None else []:
                        self._note(lane, Outcome(later, None, now, released=True))
        except Exception:  # noqa: BLE001 - the lane must not stay marked running; leases expire
            log.exception("delivery task of %s failed", key)
            with self._lock:
                if key in self._lanes:
                    self._lanes[key].running = False

    def _note(self, lane: Lane, outcome: Outcome) -> None:
        """(Under the lock.) Keep ``outcome`` for the next round."""
        self._outcomes.append(outcome)
        lane.noted += 1

    def _failed_values(self, outcome: Outcome, attempts: int) -> dict[str, Any]:
        wait = self.numbers.retry_wait(attempts)
        return backoff_values(outcome, attempts, self.numbers.max_attempts, wait)
