"""Bulk writes of the record service: many creates, updates or soft deletes of one entity in one request.

Every item is written by the record service's own steps (validation, permissions with record rules, workflow,
form, rules, audit, outbox), chunk by chunk (``CHUNK`` items), each chunk in a savepoint:

- creates of an entity without create rules or child tables take the batched path: each item is prepared by
  :meth:`RecordService.prepare_create` (everything before the INSERT), the chunk's link values are checked in
  one query per target entity, then one ``executemany`` INSERT ... RETURNING id, one for the audit rows and
  one for the outbox events. Unique values are left to the database's unique indexes here;
- anything else - an entity with rules (run per record, correctness first), updates, deletes, and a chunk the
  batched path could not write (an item failed, or the database refused the INSERT) - goes item by item
  through the plain record service calls, each item in its own savepoint, so each item's error is its own
  (the unique check's message included).

All or nothing (the default): every item is tried so the answer names each failing one, then
:class:`~lowcode.errors.BulkFailed` undoes the lot (the caller's transaction rolls back). ``each``: a failing
item is left out and the others are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from lowcode.core.jsonutil import dumps
from lowcode.core.texts import Text
from lowcode.errors import (
    BadRequest,
    BulkFailed,
    LowcodeError,
    NotFound,
    PermissionDenied,
    PreconditionRequired,
    RuleRefused,
    ValidationFailed,
    VersionConflict,
    WorkflowRefused,
)
from lowcode.rules.hooks import WriteEvent
from lowcode.runtime import audit, outbox
from lowcode.runtime.bulk_changes import delete_chunk, update_chunk
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.links import LinkCheck
from lowcode.runtime.record_reads import note_written

if TYPE_CHECKING:
    from lowcode.runtime.children import ChildRows
    from lowcode.runtime.records import RecordService

CHUNK = 500
"""Items per chunk (one savepoint, one INSERT per chunk on the batched path)."""

ITEM_ERRORS = (
    BadRequest,
    NotFound,
    PermissionDenied,
    PreconditionRequired,
    RuleRefused,
    ValidationFailed,
    VersionConflict,
    WorkflowRefused,
)
"""What one item's write may raise and the others survive; anything else (a busy server, a query over its
budget) ends the whole request."""


@dataclass
class NewRecord:
    """A create prepared up to its INSERT: the rules' event (``after``: the values), the child rows, the row
    to insert (values and system columns) and the field names the client sent."""

    event: WriteEvent
    children: ChildRows
    row: dict[str, Any]
    sent: frozenset[str]


@dataclass
class ChangedRecord:
    """An update prepared up to its UPDATE: the rules' event, the child rows, the stored values before,
    the changed fields' new values, the system columns (version, updated_at/by) and the fields sent."""

    event: WriteEvent
    children: ChildRows
    before: dict[str, Any]
    changed: dict[str, Any]
    system: dict[str, Any]
    sent: frozenset[str]


@dataclass
class BulkOutcome:
    """What a bulk write did: per item (by index) the stored record (None for deletes) or its error."""

    records: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    failures: list[tuple[int, LowcodeError]] = field(default_factory=list)


class BulkWrites:
    """Many writes of one entity through one :class:`RecordService` (see the module's docstring)."""

    def __init__(self, records: RecordService, chunk: int | None = None):
        self.records = records
        self.chunk = chunk or CHUNK

    def create(self, ctx: WriteContext, app: str, name: str, items: list[Any], each: bool) -> BulkOutcome:
        """Create every item (JSON objects of field values)."""
        entity = self.records._entity(ctx, app, name)
        self.records.permissions.authorize(ctx.actor, entity, "create")
        batched = self._batched_kind(ctx, entity, "create")
        hidden = self.records.permissions.hidden_fields(ctx.actor, entity)

        def one(item: Any) -> dict[str, Any]:
            return self.records.create(ctx, app, name, item)

        def chunk(part: list[tuple[int, Any]]) -> dict[int, dict[str, Any]] | None:
            return self._insert_chunk(ctx, entity, part, hidden)

        return self._run(ctx, items, one, chunk if batched else None, each)

    def update(self, ctx: WriteContext, app: str, name: str, items: list[Any], each: bool) -> BulkOutcome:
        """Update every item ``{"id", "version", ...changes}`` (the version is required)."""
        entity = self.records._entity(ctx, app, name)
        self.records.permissions.authorize(ctx.actor, entity, "update")

        def one(item: Any) -> dict[str, Any]:
            record_id, version = _id_and_version(item)
            changes = {k: v for k, v in item.items() if k not in ("id", "version")}
            return self.records.update(ctx, app, name, record_id, changes, version)

        def chunk(part: list[tuple[int, Any]]) -> dict[int, dict[str, Any]] | None:
            return update_chunk(self.records, ctx, entity, part, _id_and_version)

        return self._run(ctx, items, one, chunk if self._batched_kind(ctx, entity, "update") else None, each)

    def delete(self, ctx: WriteContext, app: str, name: str, items: list[Any], each: bool) -> BulkOutcome:
        """Soft-delete every item ``{"id", "version"}`` (the version is required)."""
        entity = self.records._entity(ctx, app, name)
        self.records.permissions.authorize(ctx.actor, entity, "delete")

        def one(item: Any) -> dict[str, Any]:
            record_id, version = _id_and_version(item)
            return self.records.delete(ctx, app, name, record_id, version)

        def chunk(part: list[tuple[int, Any]]) -> dict[int, dict[str, Any]] | None:
            return delete_chunk(self.records, ctx, entity, part, _id_and_version)

        return self._run(ctx, items, one, chunk if self._batched_kind(ctx, entity, "delete") else None, each)

    def _batched_kind(self, ctx: WriteContext, entity: CompiledEntity, kind: str) -> bool:
        """Whether ``kind`` writes of ``entity`` take the batched path: no child tables, no rule on them."""
        return not entity.child_fields and not self.records.rules.has_rules(ctx, entity, kind)

    # -- the chunks ------------------------------------------------------------------------------------
    def _run(
        self,
        ctx: WriteContext,
        items: list[Any],
        one: Callable[[Any], dict[str, Any] | None],
        chunk: Callable[[list[tuple[int, Any]]], dict[int, dict[str, Any]] | None] | None,
        each: bool,
    ) -> BulkOutcome:
        outcome = BulkOutcome()
        for start in range(0, len(items), self.chunk):
            part = list(enumerate(items[start : start + self.chunk], start))
            if chunk is not None and self._batched(ctx, part, chunk, outcome):
                continue
            for index, item in part:
                savepoint = ctx.session.begin_nested()
                try:
                    outcome.records[index] = one(item)
                except ITEM_ERRORS as exc:
                    savepoint.rollback()
                    outcome.failures.append((index, exc))
                else:
                    savepoint.commit()
        if outcome.failures and not each:
            message = Text(
                "{count} of the items could not be written; nothing was written.", count=len(outcome.failures)
            )
            raise BulkFailed(message, outcome.failures)
        return outcome

    @staticmethod
    def _batched(ctx: WriteContext, part, chunk, outcome: BulkOutcome) -> bool:
        """Write ``part`` on the batched path in a savepoint; False (nothing kept) when it could not."""
        savepoint = ctx.session.begin_nested()
        try:
            written = chunk(part)
        except IntegrityError:
            written = None
        if written is None:
            savepoint.rollback()
            return False
        savepoint.commit()
        outcome.records.update(written)
        return True

    def _insert_chunk(
        self, ctx: WriteContext, entity: CompiledEntity, part: list[tuple[int, Any]], hidden: frozenset[str]
    ) -> dict[int, dict[str, Any]] | None:
        """Prepare every item, check the links of all at once, then one INSERT, audit and outbox statement
        each. None when an item failed (the item-by-item path then finds each item's own error)."""
        prepared: list[tuple[int, NewRecord]] = []
        links = LinkCheck(ctx, self.records.permissions)
        for index, item in part:
            try:
                new = self.records.prepare_create(ctx, entity, item, hidden)
            except ITEM_ERRORS:
                return None
            links.add(entity, new.event.after, prefix=f"{index}.", sent=new.sent)
            prepared.append((index, new))
        if links.errors():
            return None
        ids = _insert_rows(ctx, entity, [new.row for _, new in prepared])
        entries, events, out = [], [], {}
        for (index, new), record_id in zip(prepared, ids, strict=True):
            changes = dumps(audit.created(new.event.after))  # encoded once: audit row and event
            entries.append((record_id, 1, "create", changes))
            events.append(
                (record_id, "created", f'{{"id": {record_id}, "version": 1, "changes": {changes}}}')
            )
            out[index] = {"id": record_id, **new.row, "deleted_at": None}
        audit.record_changes_encoded(ctx, entity.app, entity.name, entries)
        outbox.enqueue_many_encoded(ctx, entity.app, entity.name, events)
        return out


def _insert_rows(ctx: WriteContext, entity: CompiledEntity, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in one statement; their ids in order. On SQLite the ids are the table's highest id
    plus 1, 2, ... - what SQLite gives rows inserted without one (a table without ``AUTOINCREMENT``), read
    inside the write transaction, which holds the database's only write lock - so the rows go in one plain
    ``executemany`` (SQLAlchemy sends ``INSERT ... RETURNING`` in parameter order there one row at a
    time); elsewhere ``INSERT ... RETURNING id`` in parameter order (the sequence gives the ids)."""
    statements = entity.statements
    note_written(ctx.session, entity.table.name)
    if ctx.session.get_bind().dialect.name != "sqlite":
        return list(ctx.session.execute(statements.insert_many, rows).scalars().all())
    top = ctx.session.execute(statements.top_id).scalar() or 0
    ids = list(range(top + 1, top + 1 + len(rows)))
    ctx.session.execute(statements.insert_rows, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


def _id_and_version(item: Any) -> tuple[int, int]:
    """The ``id`` and ``version`` an update or delete item names (whole numbers from 1)."""
    if not isinstance(item, dict):
        raise BadRequest("Each item must be a JSON object")
    record_id, version = item.get("id"), item.get("version")
    if isinstance(record_id, bool) or not isinstance(record_id, int) or not 1 <= record_id < 2**63:
        raise BadRequest("Each item needs its record's id (a positive integer)")
    if version is None:
        raise PreconditionRequired("Each item needs the version it was edited from")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 2**63:
        raise BadRequest("version must be a positive integer (at most 64 bits)")
    return record_id, version
