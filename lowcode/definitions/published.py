"""Reading published definitions and the named counters (the ``definitions`` counter tells every process
that its snapshot is out of date)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.definition_models import Definition, DefinitionVersion
from lowcode.core.models import Counter

DEFINITIONS_COUNTER = "definitions"


def published_app_documents(session: Session, app: str | None = None) -> dict[str, dict[str, dict]]:
    """Published bodies by kind and name: ``{"entity": {"order": {...}}, ...}`` (one app, or all apps merged)."""
    docs: dict[str, dict[str, dict]] = {}
    for (_d_app, kind, name), body in all_published(session, app).items():
        docs.setdefault(kind, {})[name] = body
    return docs


def all_published(session: Session, app: str | None = None) -> dict[tuple[str, str, str], dict]:
    """Every published body keyed by (app, kind, name), with one query."""
    query = sa.select(Definition.app, Definition.kind, Definition.name, DefinitionVersion.body).join(
        DefinitionVersion,
        sa.and_(
            DefinitionVersion.definition_id == Definition.id,
            DefinitionVersion.version == Definition.published_version,
        ),
    )
    if app is not None:
        query = query.where(Definition.app == app)
    return {(a, k, n): body for a, k, n, body in session.execute(query)}


def bump_counter(session: Session, key: str) -> None:
    """Increment a named counter inside the current transaction, creating it at 1."""
    updated = session.execute(sa.update(Counter).where(Counter.key == key).values(value=Counter.value + 1))
    if updated.rowcount == 0:
        session.add(Counter(key=key, value=1))
        session.flush()


_READ_COUNTER = sa.select(Counter.__table__.c.value).where(Counter.__table__.c.key == sa.bindparam("key"))


_READ_COUNTERS = sa.select(Counter.__table__.c.key, Counter.__table__.c.value).where(
    Counter.__table__.c.key.in_(sa.bindparam("keys", expanding=True))
)
_READ_ONCE = "lowcode.counters_read_once"
"""``Session.info`` key: counters read together, each answering the next :func:`read_counter` of it once."""


def read_counter(session: Session, key: str) -> int:
    """Current value of a named counter (0 if never bumped); a prebuilt Core statement (hot path)."""
    ahead = session.info.get(_READ_ONCE)
    if ahead and key in ahead:
        return ahead.pop(key)
    return session.execute(_READ_COUNTER, {"key": key}).scalar() or 0


@contextmanager
def counters_read_together(session: Session, keys: tuple[str, ...]) -> Iterator[None]:
    """Read the counters ``keys`` in one statement; inside the block the first :func:`read_counter` of each
    is answered from it (a write transaction's access and definitions versions, read one after the other
    with nothing in between that can move them). What is left unread is forgotten when the block ends."""
    if not keys:
        yield
        return
    found = dict(session.execute(_READ_COUNTERS, {"keys": list(keys)}).all())
    session.info[_READ_ONCE] = {key: found.get(key) or 0 for key in keys}
    try:
        yield
    finally:
        session.info.pop(_READ_ONCE, None)
