"""The integration loop: fan out new outbox events and run the deliveries' dispatcher, every few
milliseconds while there is work and every ``INTEGRATION_POLL_SECONDS`` (default 0.05) when idle.
Started by ``lowcode worker`` (and the in-process scheduler of ``lowcode serve``) in its own thread."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from lowcode.core.models import OutboxEvent, utcnow
from lowcode.delivery import MAX_ATTEMPTS, dispatch_pending
from lowcode.integrations.dispatch import Dispatcher
from lowcode.integrations.fanout import FanOutChannel, outbox_channels

_O = OutboxEvent.__table__


class IntegrationLoop:
    """One process's fan-out and dispatcher over ``services`` (db, settings, snapshot cache)."""

    def __init__(self, services, dispatcher: Dispatcher | None = None):
        self.services = services
        self.dispatcher = dispatcher or Dispatcher(services.db, services.settings)
        self.fan_out = FanOutChannel(services.snapshots, self.dispatcher)
        self.channels = outbox_channels(services.snapshots, self.fan_out)
        self.poll = float(services.settings.get("INTEGRATION_POLL_SECONDS") or 0.05)

    def step(self) -> int:
        """One round: outbox events due (fan-out, rule webhooks) then deliveries; returns the work done."""
        done = 0
        if self._outbox_due():
            try:
                result = dispatch_pending(
                    self.services.db, utcnow(), 200, self.services.settings, self.channels
                )
            except BaseException:
                self.fan_out.drop_adopted()
                raise
            self.fan_out.start_adopted()
            done += result.claimed
        done += self.dispatcher.tick()
        return done

    def run_forever(self, stop: threading.Event) -> None:
        """Step until ``stop`` is set; a failing step is logged and retried after a pause."""
        import logging

        while not stop.is_set():
            try:
                busy = self.step() > 0
            except Exception:  # noqa: BLE001 - the loop outlives a failing round (database restarts)
                logging.getLogger(__name__).exception("integration loop step failed")
                busy = False
                stop.wait(1.0)
            if not busy:
                stop.wait(self.poll)
        self.dispatcher.close()

    def start_thread(self, stop: threading.Event) -> threading.Thread:
        """Run :meth:`run_forever` in a daemon thread."""
        thread = threading.Thread(
            target=self.run_forever, args=(stop,), name="lowcode-integrations", daemon=True
        )
        thread.start()
        return thread

    def _outbox_due(self) -> bool:
        now = utcnow()
        due = sa.select(_O.c.id).where(
            _O.c.delivered_at.is_(None),
            _O.c.attempts < MAX_ATTEMPTS,
            sa.or_(_O.c.next_attempt_at.is_(None), _O.c.next_attempt_at <= now),
        )
        with self.services.db.read() as session:
            return session.execute(due.limit(1)).first() is not None
