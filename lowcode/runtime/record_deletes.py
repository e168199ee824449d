"""Soft delete and restore, the record service's third write (:class:`~lowcode.runtime.records.RecordService`
takes them from :class:`DeleteRestore`): authorize, record rules, workflow, version check, before-rules, the
guarded UPDATE of ``deleted_at``, audit, outbox, after-rules - in the caller's transaction. Child rows stay
with their record."""

from __future__ import annotations

from typing import Any

from lowcode.rules.hooks import WriteEvent
from lowcode.runtime import audit, outbox, row_buffer
from lowcode.runtime.context import WriteContext
from lowcode.runtime.links import forget_link_target


class DeleteRestore:
    """The delete and restore operations of the record service (the steps they share - ``_entity``,
    ``_current``, ``_conflict``, ``_guarded_update`` - come from :class:`~lowcode.runtime.record_steps.RecordSteps`;
    ``permissions``, ``workflow``, ``rules`` from the service)."""

    def delete(
        self, ctx: WriteContext, app: str, entity_name: str, record_id: int, expected_version: int | None
    ) -> dict[str, Any]:
        """Soft-delete a record (it can be restored); child rows stay with it. Returns it as deleted."""
        return self._set_deleted(ctx, app, entity_name, record_id, expected_version, deleting=True)

    def restore(self, ctx: WriteContext, app: str, entity_name: str, record_id: int) -> dict[str, Any]:
        """Undo a soft delete; returns the restored record."""
        return self._set_deleted(ctx, app, entity_name, record_id, None, deleting=False)

    def _set_deleted(self, ctx, app, entity_name, record_id, expected_version, deleting: bool):
        with row_buffer.collecting(ctx.session):  # its audit, outbox and rule rows written together
            return self._set_deleted_rows(ctx, app, entity_name, record_id, expected_version, deleting)

    def _set_deleted_rows(self, ctx, app, entity_name, record_id, expected_version, deleting: bool):
        entity = self._entity(ctx, app, entity_name)
        current = self._current(ctx, entity, record_id, deleted=not deleting)
        self.permissions.authorize(ctx.actor, entity, "delete", current)
        self.permissions.check_write(ctx.actor, entity, "delete", current, current)
        if deleting:
            self.workflow.check_delete(ctx, entity, current)
        if expected_version is not None:
            self._conflict(ctx, entity, current, expected_version)
        new_version = current["version"] + 1
        values = {
            "deleted_at": ctx.now if deleting else None,
            "version": new_version,
            "updated_at": ctx.now,
            "updated_by": ctx.actor.user_id,
        }
        event = WriteEvent(
            app, entity.name, "delete" if deleting else "restore", record_id, current, {**current, **values}
        )
        self.rules.before_write(ctx, entity, event)
        self._guarded_update(ctx, entity, record_id, current["version"], values)
        if deleting:
            forget_link_target(ctx.session, entity.table.name, record_id)
        action = "delete" if deleting else "restore"
        audit.record_change(
            ctx,
            app,
            entity.name,
            record_id,
            new_version,
            action,
            {"deleted_at": [None, ctx.now.isoformat()] if deleting else [str(current["deleted_at"]), None]},
        )
        outbox.enqueue(
            ctx, app, entity.name, record_id, f"{action}d", {"id": record_id, "version": new_version}
        )
        self.rules.after_write(ctx, entity, event)
        return {**current, **values}
