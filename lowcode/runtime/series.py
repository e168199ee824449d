"""Gap-free naming-series counters: incremented inside the writing transaction, so a rollback
returns the number and concurrent writers queue on the counter row."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lowcode.core.models import Counter


def next_in_series(session: Session, key: str) -> int:
    """The next number of series ``key`` (1 for a new series)."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Counter)
    session.execute(insert.values(key=key, value=0).on_conflict_do_nothing(index_elements=["key"]))
    return session.execute(
        sa.update(Counter).where(Counter.key == key).values(value=Counter.value + 1).returning(Counter.value)
    ).scalar_one()
