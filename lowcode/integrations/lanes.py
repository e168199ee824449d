"""A subscription's lane: the ``lc_delivery`` rows leased to this process's dispatcher for one subscription,
sent one after another by one task on the dispatcher's pool, and the outcomes waiting to be written.

Sending never waits for the database: a task sends a row, notes its :class:`Outcome` and takes the next; the
integration loop writes the outcomes of every lane in its next round's one transaction (group commit). Until
then an outcome's row stays leased to this dispatcher (the heartbeat renews it), so no other claimer sends
it and no later event of its record overtakes it. A row that failed puts its record on the lane's ``held``
list until the failure (with its backoff, which then holds the record's later rows in the database) is
written: the lane's queued later rows of that record are released unsent at once, rows of it leased to the
lane meanwhile are released as they arrive, and no new row of it is adopted.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lowcode.core.models import Delivery

_D = Delivery.__table__
MAX_ERROR = 1000


@dataclass(frozen=True)
class Outcome:
    """What happened to one leased row: sent (``error`` None), failed (``error``), or ``released`` unsent."""

    row: Mapping[str, Any]
    error: str | None
    at: dt.datetime
    released: bool = False


@dataclass
class Lane:
    """One subscription's leased rows in this process (see the module docstring)."""

    queue: deque = field(default_factory=deque)
    """Rows to send, in event order."""
    running: bool = False
    """A task of the pool is sending this lane's queue."""
    reserved: bool = False
    """The fan-out's open transaction is leasing rows to this lane (they join it after the commit)."""
    held: dict[str, int] = field(default_factory=dict)
    """Record key -> the id of its row that failed here, until that failure is written."""
    unwritten: dict[int, str] = field(default_factory=dict)
    """Leased row id -> record key, until the row's outcome is written."""
    noted: int = 0
    """Outcomes noted by the lane's task and not written yet."""

    def idle(self) -> bool:
        """Nothing queued, sending, reserved or waiting to be written: the lane can go."""
        return not (self.queue or self.running or self.reserved or self.unwritten)

    def accepts(self, record_key: str, pending_ids: set[int]) -> bool:
        """A new row of ``record_key`` may join: its record is not held, and every pending row of it is
        already in this lane (``pending_ids``: the record's pending rows as the database has them)."""
        return record_key not in self.held and pending_ids <= set(self.unwritten)

    def join(self, rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Queue rows leased to this lane; returns those of a held record (to be released unsent)."""
        self.unwritten.update((row["id"], row["record_key"]) for row in rows)
        self.queue.extend(row for row in rows if row["record_key"] not in self.held)
        return [row for row in rows if row["record_key"] in self.held]

    def fail(self, row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """``row`` failed: hold its record; returns the queued later rows of it (to be released unsent)."""
        key = row["record_key"]
        self.held[key] = row["id"]
        later = [queued for queued in self.queue if queued["record_key"] == key]
        if later:
            self.queue = deque(queued for queued in self.queue if queued["record_key"] != key)
        return later

    def forget_written(self, ids: set[int]) -> None:
        """Outcomes of ``ids`` are committed: drop them, and the holds of the failures among them."""
        for row_id in ids:
            self.unwritten.pop(row_id, None)
        self.noted = max(self.noted - len(ids), 0)
        self.held = {key: row_id for key, row_id in self.held.items() if row_id not in ids}


def backoff_values(outcome: Outcome, attempts: int, max_attempts: int, wait: float) -> dict[str, Any]:
    """The columns a failed attempt writes: ``dead`` after ``max_attempts``, else due again after ``wait`` s."""
    error = outcome.error or ""
    if attempts >= max_attempts:
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        return {"status": "dead", "last_error": f"{error} (gave up after {tries})"[:MAX_ERROR]}
    return {"last_error": error[:MAX_ERROR], "next_attempt_at": outcome.at + dt.timedelta(seconds=wait)}


def write_outcomes(session, outcomes: list[Outcome], token: str, failed_values) -> None:
    """Write ``outcomes`` in the caller's transaction: the sent rows in one executemany, the released ones in
    one UPDATE, each failure on its own (``failed_values(outcome, attempts)`` -> columns); every statement is
    guarded by this dispatcher's lease ``token`` (a row another claimer took over is left alone)."""
    mine = sa.and_(_D.c.lease_token == token, _D.c.status == "pending")
    sent = [o for o in outcomes if not o.released and o.error is None]
    if sent:
        session.execute(
            sa.update(_D)
            .where(_D.c.id == sa.bindparam("row_id"), mine)
            .values(
                status="delivered",
                delivered_at=sa.bindparam("sent_at"),
                attempts=_D.c.attempts + 1,
                last_error="",
                lease_until=None,
                lease_token="",
            )
            .execution_options(synchronize_session=False),
            [{"row_id": o.row["id"], "sent_at": o.at} for o in sent],
        )
    released = [o.row["id"] for o in outcomes if o.released]
    if released:
        session.execute(
            sa.update(_D).where(_D.c.id.in_(released), mine).values(lease_until=None, lease_token="")
        )
    for outcome in outcomes:
        if outcome.released or outcome.error is None:
            continue
        attempts = outcome.row["attempts"] + 1
        session.execute(
            sa.update(_D)
            .where(_D.c.id == outcome.row["id"], mine)
            .values(attempts=attempts, lease_until=None, lease_token="", **failed_values(outcome, attempts))
        )
