"""The write queue of one SQLite file in this process: threads take SQLite's write lock in arrival order.

SQLite lets one writer in at a time. A thread that finds the lock taken is left to SQLite's busy handler,
which sleeps 1, 2, 5, ... up to 100 ms between tries and lets a newcomer overtake a sleeper, so under
concurrent writes a few requests wait hundreds of milliseconds, even seconds, while the lock is free most
of the time (measured with ``bench/bench_concurrency.py --probe``). Threads of one process therefore queue
here first, first come first served, and issue ``BEGIN IMMEDIATE`` only at the head of the queue; other
processes (gunicorn workers, ``lowcode worker``) still meet at SQLite's lock through its busy timeout.

:class:`WriteQueue` is a fair lock (waiters are woken in arrival order, a releasing thread cannot barge in
again); :func:`queue_for` gives the one queue of a database file; :class:`QueueSlot` is one write
transaction's place in it, taken when the transaction begins and given back once it has ended. A waiter
may carry a tag (:meth:`WriteQueue.acquire`): :meth:`WriteQueue.hand_over` passes the queue on only to a
waiter with the holder's tag (group commit, :mod:`lowcode.core.group_commit`, hands its open transaction
on that way).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque


class WriteQueue:
    """A first-come-first-served lock with a timeout; not re-entrant (see :meth:`held_by_me`)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[tuple[int, threading.Lock, object]] = deque()
        self._owner: int | None = None  # the holder's thread id; set by release() when it hands over

    def acquire(self, timeout: float, tag: object = None) -> bool:
        """Wait for our turn, at most ``timeout`` seconds; True once held. ``tag`` marks the waiter for
        :meth:`hand_over`."""
        me = threading.get_ident()
        with self._mutex:
            if self._owner is None:
                self._owner = me
                return True
            turn = threading.Lock()
            turn.acquire()
            waiter = (me, turn, tag)
            self._waiters.append(waiter)
        if turn.acquire(timeout=timeout):
            return True  # release() made us the owner before waking us
        with self._mutex:
            try:
                self._waiters.remove(waiter)
            except ValueError:  # release() handed us the queue just as we gave up: it is ours after all
                return True
            return False

    def release(self) -> None:
        """Hand the queue to the longest waiter, or leave it free."""
        with self._mutex:
            self._release_locked()

    def hand_over(self, tag: object) -> bool:
        """Hand the queue to the longest waiter if it carries ``tag`` (True); else keep it (False)."""
        with self._mutex:
            if not self._waiters or self._waiters[0][2] is not tag:
                return False
            self._release_locked()
            return True

    def _release_locked(self) -> None:
        if self._waiters:
            self._owner, turn, _tag = self._waiters.popleft()
            turn.release()
        else:
            self._owner = None

    def held_by_me(self) -> bool:
        """This thread holds the queue (a second write transaction of the same thread must not wait for it)."""
        return self._owner == threading.get_ident()

    def waiting(self) -> int:
        """How many threads wait (for tests and diagnostics)."""
        with self._mutex:
            return len(self._waiters)


_queues: dict[str, WriteQueue] = {}
_queues_mutex = threading.Lock()


def queue_for(path: str) -> WriteQueue:
    """The one queue of the SQLite file at ``path`` in this process (shared by every engine on it)."""
    key = os.path.realpath(path)
    with _queues_mutex:
        queue = _queues.get(key)
        if queue is None:
            queue = _queues[key] = WriteQueue()
        return queue


class QueueSlot:
    """One write transaction's place in a queue: :meth:`take` before ``BEGIN IMMEDIATE``, :meth:`give_back`
    after the COMMIT or ROLLBACK (whichever way the transaction ended)."""

    def __init__(self, queue: WriteQueue, timeout_s: float, tag: object = None):
        self.queue, self.timeout_s, self.tag, self.held = queue, timeout_s, tag, False

    def take(self) -> None:
        """Wait for our turn; a thread already holding the queue (a nested write) goes on to SQLite's own lock.

        :raises sqlite3.OperationalError: "database is locked" when the turn does not come within the
            busy timeout (what SQLite itself would say).
        """
        if self.held or self.queue.held_by_me():
            return
        if not self.queue.acquire(self.timeout_s, self.tag):
            raise sqlite3.OperationalError("database is locked")
        self.held = True

    def give_back(self) -> None:
        """Leave the queue if we hold it (idempotent)."""
        if self.held:
            self.held = False
            self.queue.release()
