"""The record service: the one write path for business data (create, update, delete, restore).

Every caller - API, pages, rule actions, imports, demo data - writes through here, in the caller's
transaction, in this fixed order (../shared/DESIGN.md): authorize, validate, version check, compute, the
form's conditional fields (``form_guard``), before-rules, write (child rows included), audit, outbox,
after-rules. The caller commits. The audit entry and outbox event come before the after-rules so that what
those rules change again in the same record follows in version order; create and update answer with the
record as stored after the after-rules (read again only when they wrote its table, see
:mod:`lowcode.runtime.record_reads`). A write's platform rows - its before-rules' run log, its audit and
outbox rows, its after-rules' rows - are collected and inserted together when it ends (one ``executemany``
per table, in order: :mod:`lowcode.runtime.row_buffer`).
"""

from __future__ import annotations

from typing import Any

from lowcode.auth.permissions import PermissionService
from lowcode.rules.hooks import NoRules, RuleHooks, WriteEvent
from lowcode.runtime import audit, outbox, row_buffer, row_cache
from lowcode.runtime.bulk import BulkOutcome, BulkWrites, ChangedRecord, NewRecord
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.form_guard import check_form
from lowcode.runtime.integrity import guard_constraints
from lowcode.runtime.record_atomic import AtomicWrites
from lowcode.runtime.record_deletes import DeleteRestore
from lowcode.runtime.record_reads import note_written, stored_after_rules, written_count
from lowcode.runtime.record_steps import RecordSteps
from lowcode.runtime.workflow import WorkflowGuard


class RecordService(DeleteRestore, AtomicWrites, RecordSteps):
    """Creates, updates, soft-deletes and restores records of published entities (delete and restore:
    :mod:`lowcode.runtime.record_deletes`; the guarded atomic update: :mod:`lowcode.runtime.record_atomic`;
    the steps they share: :mod:`lowcode.runtime.record_steps`)."""

    def __init__(self, permissions: PermissionService, rules: RuleHooks | None = None, max_depth: int = 8):
        self.permissions = permissions
        self.rules = rules or NoRules()
        self.max_depth = max_depth
        self.workflow = WorkflowGuard(permissions)

    # -- public operations -------------------------------------------------------------------------
    def create(self, ctx: WriteContext, app: str, entity_name: str, data: Any) -> dict[str, Any]:
        """Insert a record (with its child rows); returns the stored record with id and version 1."""
        with row_buffer.collecting(ctx.session):  # its audit, outbox and rule rows written together
            return self._create(ctx, app, entity_name, data)

    def _create(self, ctx: WriteContext, app: str, entity_name: str, data: Any) -> dict[str, Any]:
        entity = self._entity(ctx, app, entity_name)
        self.permissions.authorize(ctx.actor, entity, "create")
        new = self.prepare_create(ctx, entity, data)
        self._check_integrity(ctx, entity, new.event.after, new.children, None, sent=new.sent)
        with guard_constraints(ctx, entity, new.row):
            record_id = ctx.session.execute(entity.statements.insert, new.row).scalar_one()
        note_written(ctx.session, entity.table.name)
        row_cache.inserted(ctx, entity, new.row)
        new.event.record_id = record_id
        child_diff = new.children.write(record_id)
        changes = {**audit.diff(None, new.event.after, list(new.event.after)), **child_diff}
        audit.record_change(ctx, app, entity.name, record_id, 1, "create", changes)
        outbox.enqueue(
            ctx, app, entity.name, record_id, "created", {"id": record_id, "version": 1, "changes": changes}
        )
        written = {"id": record_id, **new.row, "deleted_at": None, **new.children.current()}
        mark = written_count(ctx.session, entity.table.name)
        if self.rules.after_write(ctx, entity, new.event):
            return stored_after_rules(ctx, entity, written, mark)
        return written

    def prepare_create(
        self, ctx: WriteContext, entity: CompiledEntity, data: Any, hidden: frozenset[str] | None = None
    ) -> NewRecord:
        """The steps of a create before its integrity checks and INSERT: validate, workflow, compute, form,
        before-rules, record rules (``authorize`` of the entity is the caller's). ``hidden``: the actor's
        hidden fields when the caller has them (bulk writes look them up once)."""
        values, children = self._load(ctx, entity, data, None, hidden)
        record = {cf.name: values.get(cf.name) for cf in entity.writable}
        self.workflow.on_create(ctx, entity, record)
        self._compute(ctx, entity, record, children.current(), is_create=True)
        check_form(ctx, entity, None, record, _sent(data), children)
        event = WriteEvent(entity.app, entity.name, "create", None, None, record, children.current())
        self.rules.before_write(ctx, entity, event)
        self._compute(ctx, entity, event.after, children.current(), is_create=True)
        self.workflow.on_create(ctx, entity, event.after)
        owned = {**event.after, "owner": ctx.actor.user_id, "created_by": ctx.actor.user_id}
        self.permissions.check_write(ctx.actor, entity, "create", None, owned, _sent(data))
        system = {
            "version": 1,
            "created_at": ctx.now,
            "updated_at": ctx.now,
            "created_by": ctx.actor.user_id,
            "updated_by": ctx.actor.user_id,
            "owner": ctx.actor.user_id,
        }
        return NewRecord(event, children, {**event.after, **system}, _sent(data))

    def create_many(
        self, ctx: WriteContext, app: str, entity_name: str, items: list[Any], each: bool = False
    ) -> BulkOutcome:
        """Create many records of one entity in chunks (:mod:`lowcode.runtime.bulk`): all or nothing
        (:class:`~lowcode.errors.BulkFailed` naming each failing item), or ``each`` item on its own."""
        return BulkWrites(self).create(ctx, app, entity_name, items, each)

    def update_many(
        self, ctx: WriteContext, app: str, entity_name: str, items: list[Any], each: bool = False
    ) -> BulkOutcome:
        """Update many records (items ``{id, version, ...changes}``), like :meth:`create_many`."""
        return BulkWrites(self).update(ctx, app, entity_name, items, each)

    def delete_many(
        self, ctx: WriteContext, app: str, entity_name: str, items: list[Any], each: bool = False
    ) -> BulkOutcome:
        """Soft-delete many records (items ``{id, version}``), like :meth:`create_many`."""
        return BulkWrites(self).delete(ctx, app, entity_name, items, each)

    def update(
        self,
        ctx: WriteContext,
        app: str,
        entity_name: str,
        record_id: int,
        data: Any,
        expected_version: int | None,
    ) -> dict[str, Any]:
        """Change a record; ``expected_version`` is the version the client edited.

        :raises VersionConflict: if the record changed since (with the fields changed since).
        """
        entity = self._entity(ctx, app, entity_name)
        current = self._current(ctx, entity, record_id)
        self.permissions.authorize(ctx.actor, entity, "update", current)
        return self._change(ctx, entity, current, data, expected_version, None)

    def transition(
        self,
        ctx: WriteContext,
        app: str,
        entity_name: str,
        record_id: int,
        name: str,
        data: Any,
        expected_version: int | None,
    ) -> dict[str, Any]:
        """Take the workflow transition ``name`` (``data``: the fields it requires). A role grant of the
        transition is enough: the caller needs no 'update' grant. Otherwise it is an update of the record."""
        entity = self._entity(ctx, app, entity_name)
        current = self._current(ctx, entity, record_id)
        step = self.workflow.requested(ctx, entity, current, name)
        body = self.workflow.transition_input(entity, step, data)
        return self._change(ctx, entity, current, body, expected_version, name)

    def _change(
        self,
        ctx: WriteContext,
        entity: CompiledEntity,
        current: dict,
        data: Any,
        expected_version: int | None,
        requested: str | None,
    ) -> dict[str, Any]:
        """An update (``requested``: the transition endpoint's transition), authorized by the caller."""
        with row_buffer.collecting(ctx.session):  # its audit, outbox and rule rows written together
            return self._change_rows(ctx, entity, current, data, expected_version, requested)

    def _change_rows(self, ctx, entity, current, data, expected_version, requested) -> dict[str, Any]:
        app, record_id = entity.app, current["id"]
        change = self.prepare_update(ctx, entity, current, data, expected_version, requested)
        event, children, before, changed, system = (
            change.event,
            change.children,
            change.before,
            change.changed,
            change.system,
        )
        self._check_integrity(ctx, entity, event.after, children, record_id, before, change.sent)
        new_version = system["version"]
        self._guarded_update(ctx, entity, record_id, current["version"], {**changed, **system})
        child_diff = children.write(record_id)
        changes = {**audit.diff(before, event.after, list(changed)), **child_diff}
        audit.record_change(ctx, app, entity.name, record_id, new_version, "update", changes)
        outbox.enqueue(
            ctx,
            app,
            entity.name,
            record_id,
            "updated",
            {
                "id": record_id,
                "version": new_version,
                "changes": changes,
                **({"transition": event.transition} if event.transition else {}),
            },
        )
        written = {**current, **event.after, **system, **children.current()}
        mark = written_count(ctx.session, entity.table.name)
        if self.rules.after_write(ctx, entity, event):
            return stored_after_rules(ctx, entity, written, mark)
        return written

    def prepare_update(
        self,
        ctx: WriteContext,
        entity: CompiledEntity,
        current: dict,
        data: Any,
        expected_version: int | None,
        requested: str | None,
    ) -> ChangedRecord:
        """The steps of an update before its integrity checks and UPDATE: version, validate, compute, form,
        workflow, before-rules, record rules (``authorize`` of the entity is the caller's)."""
        app, record_id = entity.app, current["id"]
        self._conflict(ctx, entity, current, expected_version)
        values, children = self._load(ctx, entity, data, record_id)
        before = {cf.name: current.get(cf.name) for cf in entity.fields.values() if cf.has_column}
        record = {**before, **values}
        self._compute(ctx, entity, record, children.current(), is_create=False)
        check_form(ctx, entity, current, {**current, **record}, _sent(data), children)
        taken = self.workflow.resolve(ctx, entity, current, {**current, **record}, requested)
        event = WriteEvent(
            app,
            entity.name,
            "update",
            record_id,
            before,
            record,
            children.current(),
            transition=taken.name if taken else None,
        )
        self.rules.before_write(ctx, entity, event)
        self._compute(ctx, entity, event.after, children.current(), is_create=False)
        taken = self.workflow.settle(
            ctx, entity, current, {**current, **event.after}, taken, children.changed(), requested
        )
        event.transition = taken.name if taken else None
        if requested is None:
            self.permissions.check_write(
                ctx.actor, entity, "update", current, {**current, **event.after}, _sent(data)
            )
        else:
            self.permissions.check_transition_write(
                ctx.actor, entity, requested, current, {**current, **event.after}
            )
        changed = {k: v for k, v in event.after.items() if before.get(k) != v}
        system = {"version": current["version"] + 1, "updated_at": ctx.now, "updated_by": ctx.actor.user_id}
        return ChangedRecord(event, children, before, changed, system, _sent(data))


def _sent(data: Any) -> frozenset[str]:
    """The field names a client sent (the body is a dict by the time this is called)."""
    return frozenset(data) if isinstance(data, dict) else frozenset()
