"""The outbox's doorbell: a transaction that wrote outbox rows rings it once it has committed, so the
integration loop fans them out at once instead of at its next poll.

- In this process: :data:`OUTBOX_BELL` (a :class:`Bell`) is rung once the session's transaction is durably
  committed (:func:`~lowcode.core.group_commit.after_durable_commit`: after the group's COMMIT under group
  commit; never before: the loop must find the rows; a rolled-back transaction rings nothing).
- Across processes on PostgreSQL: the transaction also runs ``pg_notify('lowcode_outbox', '')``, which the
  server delivers at COMMIT (never for a rolled-back one) to every ``LISTEN lowcode_outbox`` connection -
  :class:`PgListener` rings the bell of the ``lowcode worker`` process.
- SQLite across processes has no doorbell: the loop's short poll (``INTEGRATION_POLL_SECONDS``) stays.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from sqlalchemy import event

from lowcode.core.group_commit import after_durable_commit

log = logging.getLogger(__name__)
CHANNEL = "lowcode_outbox"
_RUNG = "lc_outbox_bell"


class Bell:
    """A generation counter with a condition: :meth:`ring` bumps it, :meth:`wait` returns once it moved
    past the generation the waiter saw (so a ring between a look and the wait is never lost)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        """The number of rings so far."""
        return self._generation

    def ring(self) -> None:
        """Wake every waiter."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for a ring after generation ``seen``; True if one came."""
        with self._cond:
            return self._cond.wait_for(lambda: self._generation != seen, timeout)


OUTBOX_BELL = Bell()
"""This process's bell of committed outbox rows."""


def ring_after_commit(session) -> None:
    """Called by every outbox write: ring the bell once this session's transaction has committed (once per
    transaction), and on PostgreSQL queue the ``NOTIFY`` other processes listen to."""
    if session.info.get(_RUNG):
        return
    session.info[_RUNG] = True
    after_durable_commit(session, lambda: _rang(session))
    event.listen(session, "after_rollback", _forget)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_notify(CHANNEL, "")))


def _rang(session) -> None:
    session.info.pop(_RUNG, None)
    OUTBOX_BELL.ring()


def _forget(session) -> None:
    session.info.pop(_RUNG, None)


class PgListener:
    """A thread holding one PostgreSQL connection that ``LISTEN``\\ s on :data:`CHANNEL` and rings ``bell``
    for each notification (other processes' outbox commits); reconnects after a pause when the server goes."""

    def __init__(self, url: str, bell: Bell = OUTBOX_BELL):
        self.url = url
        self.bell = bell
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="lowcode-outbox-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (within a second)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        import psycopg

        dsn = sa.engine.make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.bell.ring()  # anything committed while we were not listening
                    while not self._stop.is_set():
                        for _note in conn.notifies(timeout=1.0, stop_after=1):
                            self.bell.ring()
            except Exception:  # noqa: BLE001 - the poll covers the gap; try again shortly
                log.warning("outbox listener lost its connection; polling until it is back", exc_info=True)
                self._stop.wait(2.0)
