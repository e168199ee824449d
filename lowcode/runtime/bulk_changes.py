"""The batched chunks of bulk updates and soft deletes (:mod:`lowcode.runtime.bulk`), for an entity without
rules on that kind of write and without child tables.

Per chunk: the items' ids and versions, one SELECT of the current rows (``FOR UPDATE`` on PostgreSQL; on
SQLite the write transaction already holds the only write lock), then per item the record service's own
steps before the write (:meth:`RecordService.prepare_update`: record rules, version, validation, form,
workflow, permissions; for deletes its checks), the chunk's links in one query per target entity, one
``executemany`` of the guarded UPDATE (``WHERE id = :b_id AND version = :b_version``) per set of changed
columns, one audit and one outbox statement. Unique values are left to the database's unique indexes.

Any doubt returns None and nothing of the chunk is kept: an item that fails, a record named twice, an
UPDATE that did not find a row at its version. The item-by-item path then finds each item's own error
(its 404, 409 with the fields changed since, or the unique check's message).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lowcode.core.jsonutil import dumps
from lowcode.runtime import audit, outbox
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.links import LinkCheck, forget_link_target
from lowcode.runtime.record_reads import note_written
from lowcode.runtime.serialize import row_to_record

if TYPE_CHECKING:
    from lowcode.runtime.records import RecordService

Written = dict[int, dict[str, Any]]


def current_rows(ctx: WriteContext, entity: CompiledEntity, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The live (not deleted) records of ``ids`` by id, in one query."""
    table = entity.table
    query = sa.select(table).where(table.c.id.in_(ids), table.c.deleted_at.is_(None))
    if ctx.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {row["id"]: row_to_record(entity, row) for row in ctx.session.execute(query).mappings()}


def _items(part: list[tuple[int, Any]], parse) -> list[tuple[int, int, int, Any]] | None:
    """``(index, id, version, item)`` of each item; None when one is malformed or a record comes twice."""
    from lowcode.runtime.bulk import ITEM_ERRORS

    out = []
    for index, item in part:
        try:
            record_id, version = parse(item)
        except ITEM_ERRORS:
            return None
        out.append((index, record_id, version, item))
    if len({record_id for _, record_id, _, _ in out}) != len(out):
        return None
    return out


def _with_currents(
    ctx: WriteContext, entity: CompiledEntity, part: list[tuple[int, Any]], parse
) -> list[tuple[int, int, int, Any, dict[str, Any]]] | None:
    """``(index, id, version, item, current row)`` of each item (:func:`_items`, then one SELECT); None when
    an item is malformed, a record comes twice, or one is not there (deleted or never was)."""
    items = _items(part, parse)
    if items is None:
        return None
    currents = current_rows(ctx, entity, [record_id for _, record_id, _, _ in items])
    if any(record_id not in currents for _, record_id, _, _ in items):
        return None
    return [
        (index, record_id, version, item, currents[record_id]) for index, record_id, version, item in items
    ]


def _write_trail(ctx: WriteContext, entity: CompiledEntity, entries: list, events: list) -> None:
    """The chunk's audit rows and outbox events (diffs and payloads as JSON text), one statement each."""
    audit.record_changes_encoded(ctx, entity.app, entity.name, entries)
    outbox.enqueue_many_encoded(ctx, entity.app, entity.name, events)


def _guarded_updates(ctx: WriteContext, entity: CompiledEntity, params: list[dict[str, Any]]) -> bool:
    """One ``executemany`` of the guarded UPDATE per set of columns; False when a row was not at its
    version (someone wrote in between)."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
    for values in params:
        groups[frozenset(values)].append(values)
    sane = ctx.session.get_bind().dialect.supports_sane_multi_rowcount
    for group in groups.values():
        result = ctx.session.execute(entity.statements.guarded_update, group)
        note_written(ctx.session, entity.table.name)
        if sane and result.rowcount != len(group):
            return False
    return True


def update_chunk(
    records: RecordService, ctx: WriteContext, entity: CompiledEntity, part: list[tuple[int, Any]], parse
) -> Written | None:
    """Update the chunk's items ``{id, version, ...changes}`` in batches (see the module's docstring)."""
    from lowcode.runtime.bulk import ITEM_ERRORS

    items = _with_currents(ctx, entity, part, parse)
    if items is None:
        return None
    links = LinkCheck(ctx, records.permissions)
    prepared = []
    for index, _record_id, version, item, current in items:
        changes = {k: v for k, v in item.items() if k not in ("id", "version")}
        try:
            records.permissions.authorize(ctx.actor, entity, "update", current)
            change = records.prepare_update(ctx, entity, current, changes, version, None)
        except ITEM_ERRORS:
            return None
        links.add(entity, change.changed, prefix=f"{index}.", sent=change.sent)
        prepared.append((index, current, change))
    if links.errors():
        return None
    params = [
        {**change.changed, **change.system, "b_id": current["id"], "b_version": current["version"]}
        for _, current, change in prepared
    ]
    if not _guarded_updates(ctx, entity, params):
        return None
    entries, events, out = [], [], {}
    for index, current, change in prepared:
        record_id, version, event = current["id"], change.system["version"], change.event
        diff = audit.diff(change.before, event.after, list(change.changed))
        text = dumps(diff)
        entries.append((record_id, version, "update", text))
        if event.transition:
            payload = {"id": record_id, "version": version, "changes": diff, "transition": event.transition}
            events.append((record_id, "updated", dumps(payload)))
        else:
            events.append(
                (record_id, "updated", f'{{"id": {record_id}, "version": {version}, "changes": {text}}}')
            )
        out[index] = {**current, **event.after, **change.system}
    _write_trail(ctx, entity, entries, events)
    return out


def delete_chunk(
    records: RecordService, ctx: WriteContext, entity: CompiledEntity, part: list[tuple[int, Any]], parse
) -> Written | None:
    """Soft-delete the chunk's items ``{id, version}`` in one UPDATE (see the module's docstring)."""
    from lowcode.runtime.bulk import ITEM_ERRORS

    items = _with_currents(ctx, entity, part, parse)
    if items is None:
        return None
    permissions, actor = records.permissions, ctx.actor
    deleted = {"deleted_at": ctx.now, "updated_at": ctx.now, "updated_by": actor.user_id}
    params, out = [], {}
    for index, record_id, version, _item, current in items:
        try:
            permissions.authorize(actor, entity, "delete", current)
            permissions.check_write(actor, entity, "delete", current, current)
            records.workflow.check_delete(ctx, entity, current)
            records._conflict(ctx, entity, current, version)
        except ITEM_ERRORS:
            return None
        values = {**deleted, "version": current["version"] + 1}
        params.append({**values, "b_id": record_id, "b_version": current["version"]})
        out[index] = {**current, **values}
    if not _guarded_updates(ctx, entity, params):
        return None
    text = dumps({"deleted_at": [None, ctx.now.isoformat()]})  # the same change for every record
    entries, events = [], []
    for values in params:
        record_id, version = values["b_id"], values["version"]
        forget_link_target(ctx.session, entity.table.name, record_id)
        entries.append((record_id, version, "delete", text))
        events.append((record_id, "deleted", f'{{"id": {record_id}, "version": {version}}}'))
    _write_trail(ctx, entity, entries, events)
    return out
