"""The changes feed: every create, update, delete and restore after a cursor, in commit order, as the reader may
see it now.

A position is ``<seq>-<audit id>``: on PostgreSQL ``seq`` is the writing transaction's tick of the commit clock
(:mod:`lowcode.core.commit_clock`) and the audit id orders the rows of one transaction; on SQLite, where the
audit ids follow commit order, ``seq`` is always 0. A reader keeps the ``next`` position of each page and asks
again from it; nothing committed later can sort before it.

What the reader sees is decided when they read, not when the change was made: entities they may read, records
inside their read record rules (the row as it is now, deleted ones included, so a delete of a record they
could read is shown), and each change without the fields hidden from them. Entries they may not see are
skipped, and the position still moves past them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lowcode.auth.permissions import PermissionService
from lowcode.core.jsonutil import to_jsonable
from lowcode.core.models import AuditEntry, CommitStamp
from lowcode.errors import BadRequest, PermissionDenied
from lowcode.runtime.context import WriteContext

MAX_LIMIT = 1000
SCAN_PAGES = 10
"""A page reads at most this many times ``limit`` audit rows, however few of them the reader may see."""
_POSITION = re.compile(r"^(\d{1,19})-(\d{1,19})$")
_A = AuditEntry.__table__
_C = CommitStamp.__table__


@dataclass(frozen=True, order=True)
class Position:
    """Where a reader stands in the feed: after audit row ``id`` of commit ``seq``."""

    seq: int = 0
    id: int = 0

    def __str__(self) -> str:
        return f"{self.seq}-{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> Position:
        """The position of a cursor (``None`` or empty: the start). :raises BadRequest: for anything else."""
        if not text:
            return cls()
        match = _POSITION.match(text)
        if match is None:
            raise BadRequest("'since' is not a position of the changes feed (e.g. '0-0' or a 'next' value)")
        return cls(int(match[1]), int(match[2]))


@dataclass
class ChangesPage:
    """A page of the feed: the entries, the position to ask from next, and whether more rows were waiting."""

    entries: list[dict[str, Any]]
    next: Position
    more: bool


@dataclass(frozen=True)
class FeedScope:
    """Which changes a page may hold: all, or one app, or one entity of an app."""

    app: str | None = None
    entity: str | None = None


def read_changes(
    ctx: WriteContext, permissions: PermissionService, since: Position, limit: int, scope: FeedScope
) -> ChangesPage:
    """Up to ``limit`` changes after ``since`` that the context's actor may see (see the module's docstring)."""
    entries: list[dict[str, Any]] = []
    position, more = since, False
    for _ in range(SCAN_PAGES):
        rows = _rows_after(ctx.session, position, limit, scope)
        more = len(rows) == limit
        if rows:
            position = Position(rows[-1].seq, rows[-1].id)
        entries.extend(_visible(ctx, permissions, rows))
        if len(entries) >= limit or not more:
            break
    return ChangesPage(entries[:limit], _resume_at(entries, limit, position), more or len(entries) > limit)


def _resume_at(entries: list[dict[str, Any]], limit: int, scanned_to: Position) -> Position:
    """Where the next page starts: after the last entry returned when the page had to cut visible entries."""
    if len(entries) > limit:
        return Position.parse(entries[limit - 1]["position"])
    return scanned_to


def _rows_after(session, since: Position, limit: int, scope: FeedScope) -> list[Any]:
    if session.get_bind().dialect.name == "postgresql":
        query = sa.select(_C.c.seq, *_A.c).join(_C, _C.c.tx == _A.c.tx)
        after = sa.or_(_C.c.seq > since.seq, sa.and_(_C.c.seq == since.seq, _A.c.id > since.id))
        order = (_C.c.seq, _A.c.id)
    else:
        query = sa.select(sa.literal(0).label("seq"), *_A.c)
        after, order = _A.c.id > since.id, (_A.c.id,)
    if scope.app:
        query = query.where(_A.c.app == scope.app)
    if scope.entity:
        query = query.where(_A.c.entity == scope.entity)
    return list(session.execute(query.where(after).order_by(*order).limit(limit)))


def _visible(ctx: WriteContext, permissions: PermissionService, rows: list[Any]) -> Iterable[dict[str, Any]]:
    by_entity: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        by_entity[(row.app, row.entity)].append(row)
    allowed: dict[tuple[str, str], tuple[set[int] | None, frozenset[str]]] = {}
    for key, group in by_entity.items():
        seen = _readable(ctx, permissions, key, group)
        if seen is not None:
            allowed[key] = seen
    for row in rows:
        seen = allowed.get((row.app, row.entity))
        if seen is None:
            continue
        ids, hidden = seen
        if ids is not None and row.record_id not in ids:
            continue
        yield _entry(row, hidden)


def _readable(
    ctx: WriteContext, permissions: PermissionService, key: tuple[str, str], rows: list[Any]
) -> tuple[set[int] | None, frozenset[str]] | None:
    """``(ids the actor may read or None for all, hidden fields)``, or None when they may not read the entity."""
    entity = ctx.snapshot.entities.get(key)
    if entity is None:
        return None
    try:
        permissions.grants(ctx.actor, entity, "read")
    except PermissionDenied:
        return None
    hidden = permissions.hidden_fields(ctx.actor, entity)
    where = permissions.read_filter(ctx.actor, entity, ctx.variables)
    if where is None:
        return None, hidden
    ids = {r.record_id for r in rows if r.record_id is not None}
    table = entity.table
    found = ctx.session.scalars(sa.select(table.c.id).where(table.c.id.in_(ids), where)) if ids else []
    return set(found), hidden


def _entry(row: Any, hidden: frozenset[str]) -> dict[str, Any]:
    return to_jsonable(
        {
            "position": str(Position(row.seq, row.id)),
            "app": row.app,
            "entity": row.entity,
            "id": row.record_id,
            "version": row.version,
            "action": row.action,
            "at": row.at,
            "actor": row.actor_name,
            "changes": {k: v for k, v in (row.diff or {}).items() if k not in hidden},
        }
    )
