"""The access version: one counter that moves whenever something a request's actor is built from changes.

Write requests resolve their actor (token, user, roles in force, ``$user`` facts) in a read transaction
before the write transaction opens, so SQLite's write lock is not held for that work. Inside the write
transaction they read this counter again: if it moved, the actor is resolved once more on the write's own
state, so a permission change that commits between the two steps is never overtaken by a write that was
authorized on the old state. Database triggers (migration 0010) bump it on every insert/delete and every
update of an access column of users, role assignments, tokens and departments, whoever makes the change.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lowcode.definitions.published import read_counter

ACCESS_COUNTER = "access"


def access_version(session: Session) -> int:
    """The access version this transaction sees (one primary-key read)."""
    return read_counter(session, ACCESS_COUNTER)
