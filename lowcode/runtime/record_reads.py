"""The record service's reads of the record it writes: the current row before a change, and the row as the
transaction holds it after the after-rules - read again only when something wrote that table since.

Every UPDATE of an entity's rows (the record service's guarded update, a guarded atomic update, a bulk
change) notes its table in the transaction (:func:`note_written`); a write's answer compares the count
before and after its after-rules (:func:`written_count`), so an after-rule that changed the record again
(a posting rule totalling the document) is seen, and one that wrote only other tables costs no read.
"""

from __future__ import annotations

import weakref
from typing import Any

import sqlalchemy as sa

from lowcode.errors import NotFound
from lowcode.runtime.children import ChildRows
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.serialize import row_to_record

WRITTEN = "lowcode_tables_written"
"""``session.info`` key: table name -> how many UPDATEs of its rows this transaction has sent."""


def note_written(session: Any, table: str) -> None:
    """An UPDATE of rows of ``table`` was sent in ``session``'s transaction."""
    counts = session.info.get(WRITTEN)
    if counts is None:
        counts = session.info[WRITTEN] = {}
    counts[table] = counts.get(table, 0) + 1


def written_count(session: Any, table: str) -> int:
    """How many UPDATEs of rows of ``table`` this transaction has sent so far (see :func:`note_written`)."""
    counts = session.info.get(WRITTEN)
    return 0 if counts is None else counts.get(table, 0)


def current_record(
    ctx: WriteContext, entity: CompiledEntity, record_id: int, deleted: bool = False
) -> dict[str, Any]:
    """The live (``deleted``: the soft-deleted) record ``record_id``, locked on PostgreSQL.

    :raises NotFound: when there is none."""
    query = _current_row(entity.table, deleted, ctx.session.get_bind().dialect.name == "postgresql")
    row = ctx.session.execute(query, {"_lc_id": record_id}).mappings().first()
    if row is None:
        state = "deleted " if deleted else ""
        raise NotFound(f"No {state}{entity.name} record with id {record_id}")
    return row_to_record(entity, row)


_CURRENT: weakref.WeakKeyDictionary[sa.Table, dict[tuple[bool, bool], sa.Select]] = (
    weakref.WeakKeyDictionary()
)


def _current_row(table: sa.Table, deleted: bool, lock: bool) -> sa.Select:
    """``SELECT * WHERE id = :_lc_id AND deleted_at IS [NOT] NULL [FOR UPDATE]``, built once per table and
    kind (SQLAlchemy then reuses its compiled form instead of keying a new statement per write)."""
    built = _CURRENT.get(table)
    if built is None:
        built = _CURRENT[table] = {}
    query = built.get((deleted, lock))
    if query is None:
        alive = table.c.deleted_at.is_not(None) if deleted else table.c.deleted_at.is_(None)
        query = sa.select(table).where(table.c.id == sa.bindparam("_lc_id"), alive)
        built[(deleted, lock)] = query = query.with_for_update() if lock else query
    return query


def stored_after_rules(
    ctx: WriteContext, entity: CompiledEntity, written: dict[str, Any], mark: int
) -> dict[str, Any]:
    """The record as the transaction now holds it: after-rules may have changed it again, and the answer must
    carry that state and version. ``mark``: :func:`written_count` of its table before the after-rules; when
    nothing updated that table since, ``written`` is the stored record."""
    if written_count(ctx.session, entity.table.name) == mark:
        return written
    t = entity.table
    row = ctx.session.execute(sa.select(t).where(t.c.id == written["id"])).mappings().one()
    if row["version"] == written["version"]:
        return written
    return {**row_to_record(entity, row), **ChildRows(ctx, entity).fetch(written["id"])}
