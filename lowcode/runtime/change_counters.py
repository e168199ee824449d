"""Per-entity change counters: ``lc_counter`` key ``changes:<app>.<entity>`` moves in every transaction that
writes records of the entity, inside that transaction, so a reader that compares the counters it sees with
the ones it saw before knows whether committed data changed (the report result cache, :mod:`lowcode.reports.
cache`).

Every record write appends its outbox event (:mod:`lowcode.runtime.outbox`), which calls :func:`touch`; the
entity is noted in the session and its counter bumped once, just before COMMIT (``before_commit``), so the
counter row is locked only for the commit itself and concurrent writers of one entity queue for that short
moment only. A rolled-back transaction bumps nothing. Keys are bumped in sorted order (no deadlock between
two transactions bumping the same pair). Counters only grow; a bump that was not needed (a savepoint rolled
back after the write) only costs a cache miss.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from lowcode.core.models import Counter

PREFIX = "changes:"
_TOUCHED = "lc_changed_entities"
_HOOKED = "lc_change_counters_hooked"
_BUMP = sa.text(
    "INSERT INTO lc_counter (key, value) VALUES (:key, 1) "
    "ON CONFLICT (key) DO UPDATE SET value = lc_counter.value + 1"
)


def counter_key(app: str, entity: str) -> str:
    """The ``lc_counter`` key of an entity's change counter."""
    return f"{PREFIX}{app}.{entity}"


def touch(session: Session, app: str, entity: str) -> None:
    """Note that this transaction writes records of ``app.entity``: its counter moves at COMMIT."""
    session.info.setdefault(_TOUCHED, set()).add(counter_key(app, entity))
    if not session.info.get(_HOOKED):
        session.info[_HOOKED] = True
        event.listen(session, "before_commit", _bump)
        event.listen(session, "after_rollback", _forget)


def _bump(session: Session) -> None:
    keys = sorted(session.info.pop(_TOUCHED, ()))
    for key in keys:
        session.execute(_BUMP, {"key": key})


def _forget(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


def read_counters(session: Session, keys: Iterable[str]) -> tuple[int, ...]:
    """The values of ``keys`` (0 for a key never bumped), in the given order, in one SELECT."""
    keys = list(keys)
    found = dict(session.execute(sa.select(Counter.key, Counter.value).where(Counter.key.in_(keys))).all())
    return tuple(int(found.get(k, 0)) for k in keys)
