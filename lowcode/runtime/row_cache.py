"""Rows a loop's guarded updates will match, read in one statement before the loop (``for_each_child`` of a
rule updating a stock balance per order line) instead of one SELECT per line.

Only for match conditions that are a conjunction of ``=`` leaves on integer columns (links, integers) with
integer values: then whether a row matches is decided exactly in Python (integer equality, no collation,
scale or NULL question; a null value is not cached). The rows are read (locked on PostgreSQL, in id order)
while the loop runs and are valid only while no UPDATE or INSERT of their table was sent since, except the
guarded updates that used them, which put their stored rows back (:func:`updated`); any other write of the
table (:func:`lowcode.runtime.record_reads.note_written`) makes a lookup miss, and the caller reads as before.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lowcode.conditions.model import Group, Leaf, resolve
from lowcode.errors import LowcodeError
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.record_reads import written_count
from lowcode.runtime.serialize import row_to_record

KEY = "lowcode_loop_rows"
"""``session.info`` key: table name -> :class:`_Rows` of the loop running now."""
MAX_ROWS = 500
"""More rows than this matching the loop's conditions: nothing is cached (each line reads its own)."""


@dataclass
class _Rows:
    columns: tuple[str, ...]
    locked: bool
    """Read ``FOR UPDATE`` (PostgreSQL): only such rows serve a lookup that must lock them."""
    mark: int
    """``written_count`` of the table when the rows were last known to be current."""
    keys: set[tuple] = field(default_factory=set)
    """The value tuples that were read: a key here with no rows matches none."""
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)


def equalities(condition: Any, variables: Mapping[str, Any]) -> tuple | None:
    """``(columns, values)`` when the parsed ``condition`` is ``=`` leaves on integer fields, all true together,
    whose values resolve to integers; None otherwise (the caller reads with SQL)."""
    root = condition.root
    items = [root] if isinstance(root, Leaf) else root.items if isinstance(root, Group) else None
    if not items or (isinstance(root, Group) and root.mode != "all"):
        return None
    pairs: dict[str, int] = {}
    for leaf in items:
        if not isinstance(leaf, Leaf) or leaf.op != "=" or leaf.kind != "integer":
            return None
        try:
            value = resolve(leaf, "one", variables)
        except LowcodeError:  # an unknown variable or a bad value: the SQL path reports it as before
            return None
        if type(value) is not int or pairs.get(leaf.field, value) != value:
            return None
        pairs[leaf.field] = value
    columns = tuple(sorted(pairs))
    return columns, tuple(pairs[c] for c in columns)


@contextmanager
def prefetched(
    ctx: WriteContext, entity: CompiledEntity, columns: tuple[str, ...], keys: set[tuple], lock: bool = True
) -> Iterator[None]:
    """Read the live rows of ``entity`` whose ``columns`` hold one of ``keys`` (locked on PostgreSQL unless
    ``lock`` is false: rows the block only reads) for the block's guarded updates and lookups; forgotten
    when the block ends."""
    info = ctx.session.info.setdefault(KEY, {})
    t = entity.table
    if t.name in info or len(keys) < 2:  # an outer loop's rows, or one line: its own SELECT costs the same
        yield
        return
    locked = lock and ctx.session.get_bind().dialect.name == "postgresql"
    query = _select(t, columns, locked)
    rows = [
        row_to_record(entity, r) for r in ctx.session.execute(query, {"_lc_keys": sorted(keys)}).mappings()
    ]
    entry = None
    if len(rows) <= MAX_ROWS:
        entry = _Rows(
            columns, locked, written_count(ctx.session, t.name), set(keys), {r["id"]: r for r in rows}
        )
        info[t.name] = entry
    try:
        yield
    finally:
        if entry is not None and info.get(t.name) is entry:
            del info[t.name]


@contextmanager
def known_rows(
    ctx: WriteContext, entity: CompiledEntity, rows: list[dict[str, Any]], locked: bool
) -> Iterator[None]:
    """Rows just read by id order (a ``for_each_record`` loop's records, ``locked`` if read ``FOR UPDATE``)
    serve the block's lookups by ``id`` while their table is not written; forgotten when the block ends."""
    info = ctx.session.info.setdefault(KEY, {})
    t = entity.table
    if t.name in info or not rows or len(rows) > MAX_ROWS:
        yield
        return
    keys = {(r["id"],) for r in rows}
    entry = _Rows(("id",), locked, written_count(ctx.session, t.name), keys, {r["id"]: dict(r) for r in rows})
    info[t.name] = entry
    try:
        yield
    finally:
        if info.get(t.name) is entry:
            del info[t.name]


_SELECTS: weakref.WeakKeyDictionary[sa.Table, dict[tuple, sa.Select]] = weakref.WeakKeyDictionary()


def _select(t: sa.Table, columns: tuple[str, ...], lock: bool) -> sa.Select:
    """``SELECT * ... WHERE deleted_at IS NULL AND (columns) IN :_lc_keys ORDER BY id LIMIT n [FOR UPDATE]``,
    built once per table, columns and locking (SQLAlchemy then reuses its compiled form)."""
    built = _SELECTS.get(t)
    if built is None:
        built = _SELECTS[t] = {}
    query = built.get((columns, lock))
    if query is None:
        keys = sa.tuple_(*(t.c[c] for c in columns)).in_(sa.bindparam("_lc_keys", expanding=True))
        query = sa.select(t).where(t.c.deleted_at.is_(None), keys).order_by(t.c.id).limit(MAX_ROWS + 1)
        built[(columns, lock)] = query = query.with_for_update() if lock else query
    return query


def matching(
    ctx: WriteContext,
    entity: CompiledEntity,
    condition: Any,
    variables: Mapping[str, Any],
    limit: int | None,
    lock: bool,
) -> list[dict[str, Any]] | None:
    """The live rows matching the parsed ``condition`` with ``variables`` in id order, at most ``limit``,
    from the loop's rows; None when they are not known (not read, not an equality the loop read, the
    table was written since, or ``lock`` asks for locked rows and they were read without a lock)."""
    info = ctx.session.info.get(KEY)
    entry = info.get(entity.table.name) if info else None
    if entry is None or written_count(ctx.session, entity.table.name) != entry.mark:
        return None
    if lock and not entry.locked:
        return None
    found = equalities(condition, variables)
    if found is None or found[0] != entry.columns or found[1] not in entry.keys:
        return None
    names, values = found
    rows = [dict(r) for r in entry.rows.values() if tuple(r[n] for n in names) == values]
    rows.sort(key=lambda r: r["id"])
    return rows if limit is None else rows[:limit]


def updated(ctx: WriteContext, entity: CompiledEntity, used: bool, rows: list[dict[str, Any]]) -> None:
    """A guarded update wrote ``rows`` (as stored). When it took its rows from the loop's (``used``), they
    stay current with these; a row whose key columns changed drops them all."""
    info = ctx.session.info.get(KEY)
    entry = info.get(entity.table.name) if info else None
    if entry is None:
        return
    if not used:
        return  # the table was written by another path: lookups miss from now on
    for row in rows:
        old = entry.rows.get(row["id"])
        if old is None or any(old[c] != row[c] for c in entry.columns):
            del info[entity.table.name]
            return
        entry.rows[row["id"]] = dict(row)
    entry.mark = written_count(ctx.session, entity.table.name)


def inserted(ctx: WriteContext, entity: CompiledEntity, row: Mapping[str, Any]) -> None:
    """A record was just inserted (its INSERT noted as the table's only write since the loop's rows were
    current): the rows stay current for every other key; the new row's key is read again when asked for."""
    entry = _entry(ctx, entity)
    if entry is None or written_count(ctx.session, entity.table.name) != entry.mark + 1:
        return
    entry.keys.discard(tuple(row.get(c) for c in entry.columns))
    entry.mark += 1


def learned(
    ctx: WriteContext,
    entity: CompiledEntity,
    condition: Any,
    variables: Mapping[str, Any],
    rows: list[dict[str, Any]],
    complete: bool,
    lock: bool,
) -> bool:
    """The caller read ``rows`` (all of them: ``complete``) matching ``condition`` with SQL, the loop's rows
    being current: when the condition is an equality on the loop's columns, keep them for the next lookups;
    True when kept (the guarded update then puts its stored rows back, see :func:`updated`)."""
    entry = _entry(ctx, entity)
    if entry is None or not complete or (lock and not entry.locked):
        return False
    if written_count(ctx.session, entity.table.name) != entry.mark:
        return False
    found = equalities(condition, variables)
    if found is None or found[0] != entry.columns or found[1] in entry.keys:
        return False
    if any(r["id"] in entry.rows for r in rows) or len(entry.rows) + len(rows) > MAX_ROWS:
        return False
    entry.keys.add(found[1])
    entry.rows.update((r["id"], dict(r)) for r in rows)
    return True


def _entry(ctx: WriteContext, entity: CompiledEntity) -> _Rows | None:
    info = ctx.session.info.get(KEY)
    return info.get(entity.table.name) if info else None
