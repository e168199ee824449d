"""The integration loop: fan out new outbox events and run the deliveries' dispatcher in rounds of one write
transaction each - woken by the outbox's doorbell (:mod:`lowcode.runtime.outbox_signal`: in this process
after a commit with outbox rows; from other processes by PostgreSQL's ``NOTIFY``) and otherwise every
``INTEGRATION_POLL_SECONDS`` (default 0.05; backoffs coming due, leases to renew, SQLite writers in other
processes). Started by ``lowcode worker`` (and the in-process scheduler of ``lowcode serve``) in its own
thread."""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from lowcode.core.models import OutboxEvent, utcnow
from lowcode.delivery import MAX_ATTEMPTS, DispatchResult, claim_events, deliver_claimed
from lowcode.integrations.dispatch import Dispatcher
from lowcode.integrations.fanout import FanOutChannel, outbox_channels
from lowcode.runtime.outbox_signal import OUTBOX_BELL, Bell, PgListener

log = logging.getLogger(__name__)
_O = OutboxEvent.__table__
OUTBOX_BATCH = 200


class IntegrationLoop:
    """One process's fan-out and dispatcher over ``services`` (db, settings, snapshot cache)."""

    def __init__(self, services, dispatcher: Dispatcher | None = None, bell: Bell = OUTBOX_BELL):
        self.services = services
        self.dispatcher = dispatcher or Dispatcher(services.db, services.settings)
        self.fan_out = FanOutChannel(services.snapshots, self.dispatcher)
        self.channels = outbox_channels(services.snapshots, self.fan_out)
        self.poll = float(services.settings.get("INTEGRATION_POLL_SECONDS") or 0.05)
        self.bell = bell

    def step(self) -> int:
        """One round in one write transaction - the outcomes noted since the last round, the outbox events
        due (fan-out, rule webhooks), the deliveries due - then start what it leased; returns the work done
        (0: nothing was due, no transaction was opened)."""
        db, settings, dispatcher = self.services.db, self.services.settings, self.dispatcher
        now = utcnow()
        outbox = self._outbox_due()
        if not outbox and not dispatcher.wants_round(now):
            return 0
        round_ = dispatcher.begin_round(now)
        result, remote = DispatchResult(), []
        try:
            with db.write() as session:
                done = dispatcher.write_round(session, round_)
                if outbox:
                    result, remote = claim_events(session, now, OUTBOX_BATCH, settings, self.channels)
                done += result.claimed + dispatcher.claim_in(session, round_)
        except BaseException:
            self.fan_out.drop_adopted()
            dispatcher.finish_round(round_, committed=False)
            raise
        self.fan_out.start_adopted()
        dispatcher.finish_round(round_, committed=True)
        deliver_claimed(db, remote, now, settings, result)  # rule webhooks (lowcode.delivery), rare
        return done or 1

    def run_forever(self, stop: threading.Event) -> None:
        """Step until ``stop`` is set; a failing step is logged and retried after a pause."""
        listener = self._listener()
        try:
            while not stop.is_set():
                seen = self.bell.generation
                try:
                    busy = self.step() > 0
                except Exception:  # noqa: BLE001 - the loop outlives a failing round (database restarts)
                    log.exception("integration loop step failed")
                    busy = False
                    stop.wait(1.0)
                if not busy:
                    self.bell.wait(seen, self.poll)
        finally:
            if listener is not None:
                listener.stop()
            self.dispatcher.close()

    def start_thread(self, stop: threading.Event) -> threading.Thread:
        """Run :meth:`run_forever` in a daemon thread."""
        thread = threading.Thread(
            target=self.run_forever, args=(stop,), name="lowcode-integrations", daemon=True
        )
        thread.start()
        return thread

    def _listener(self) -> PgListener | None:
        """PostgreSQL: listen to other processes' outbox commits (``lowcode worker`` beside the web app)."""
        if self.services.db.dialect != "postgresql":
            return None
        listener = PgListener(self.services.db.url, self.bell)
        listener.start()
        return listener

    def _outbox_due(self) -> bool:
        now = utcnow()
        due = sa.select(_O.c.id).where(
            _O.c.delivered_at.is_(None),
            _O.c.attempts < MAX_ATTEMPTS,
            sa.or_(_O.c.next_attempt_at.is_(None), _O.c.next_attempt_at <= now),
        )
        with self.services.db.read() as session:
            return session.execute(due.limit(1)).first() is not None
