"""Commit order of record changes, for the changes feed (:mod:`lowcode.runtime.changes`).

On SQLite one writer commits at a time (``BEGIN IMMEDIATE``), so the audit rows' ids already follow commit
order. On PostgreSQL they do not: two transactions draw ids from one sequence and may commit in the other
order, so a reader that remembered "after id 6" would miss id 5 committed later. So on PostgreSQL every write
transaction that appended audit rows (:func:`mark_changed`) takes the commit clock just before it commits:
under a transaction-scoped advisory lock it inserts one ``lc_commit`` row (``seq`` from a sequence, ``tx`` =
its transaction id, which its audit rows carry in ``lc_audit.tx``). The lock is held until the commit is
visible, so the transactions stamped ``seq`` n are visible before any stamped n + 1 can take the lock: seq
order is commit order, and a reader who has seen seq n will never later find a smaller one. The price is
that the commits (not the work) of writing transactions run one at a time, as they do on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

CHANGED = "lowcode_changed"
"""``session.info`` key: the transaction appended audit rows and must take the commit clock."""
CLOCK_LOCK = 7_310_431_112_004_551
"""The advisory lock key of the commit clock (an arbitrary constant of this application)."""

_STAMP = sa.text(
    "INSERT INTO lc_commit (tx, at) "
    "SELECT written.tx, now() FROM (SELECT pg_advisory_xact_lock(:key)) AS clock, "
    "(SELECT tx FROM lc_audit WHERE tx = (pg_current_xact_id()::text)::bigint LIMIT 1) AS written"
).bindparams(key=CLOCK_LOCK)
"""One tick, only when audit rows of this transaction are still there (a dry run's savepoint rolled them
back: then nothing is stamped, and a dry run leaves no trace). ``nextval`` of ``seq`` runs after the lock."""


def mark_changed(session: Session) -> None:
    """Note that ``session``'s transaction appended audit rows (called by :mod:`lowcode.runtime.audit`)."""
    session.info[CHANGED] = True


def install_commit_clock(writers: sessionmaker) -> None:
    """Stamp each PostgreSQL write transaction of ``writers`` that changed records, just before COMMIT."""
    event.listen(writers, "before_commit", _stamp)


def _stamp(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the clock is taken once, at the real COMMIT
        return
    if session.info.pop(CHANGED, False):
        session.execute(_STAMP)
