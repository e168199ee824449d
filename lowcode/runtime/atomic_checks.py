"""The record service's steps for each row a guarded atomic update changes (see :mod:`lowcode.runtime.atomic`).

The database computes the new values, so the steps run around the UPDATE, in its transaction, on the real
rows: before it, record rules on the current row, validation of the values the update produces and the
stored formulas computed from them; after it, link and unique checks and record rules on the stored row.
Any failure raises, and the caller's transaction rolls the whole write back. Before-rules do not run: they
judge and change values before they are written, and here the database produces them in the UPDATE
(conditions on the current row belong in the update's guard).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lowcode.auth.permissions import PermissionService
from lowcode.errors import ValidationFailed
from lowcode.runtime.atomic import refusal
from lowcode.runtime.children import ChildRows
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.links import check_links
from lowcode.runtime.validation import check_unique, check_values
from lowcode.runtime.workflow import WorkflowGuard

Compute = Callable[[dict[str, Any], dict[str, list]], None]
"""Computes the stored formulas (and rollups) of a record in place, given its child rows."""


class AtomicRowChecks:
    """:class:`~lowcode.runtime.atomic.RowChecks` for one guarded update by ``ctx.actor``; ``computed_by_db``
    are the fields the UPDATE sets."""

    def __init__(
        self,
        ctx: WriteContext,
        entity: CompiledEntity,
        permissions: PermissionService,
        compute: Compute,
        computed_by_db: frozenset[str],
        workflow: WorkflowGuard,
    ):
        self.ctx = ctx
        self.entity = entity
        self.permissions = permissions
        self.compute = compute
        self.computed_by_db = computed_by_db
        self.workflow = workflow
        self.taken: dict[int, str] = {}
        """record id -> the workflow transition the update took on it"""
        self.names = [cf.name for cf in entity.fields.values() if cf.has_column]

    def locked(self, row: dict[str, Any]) -> None:
        """The current row must be within the actor's record rules for 'update'."""
        self.permissions.authorize(self.ctx.actor, self.entity, "update", row)

    def planned(self, row: dict[str, Any], produced: dict[str, Any]) -> dict[str, Any]:
        """Validate the values the update produces (type, precision, range, required); return the
        computed fields of the row with them (formulas, rollups)."""
        errors = check_values(self.entity, {n: v for n, v in produced.items() if v != row.get(n)})
        if errors:
            raise ValidationFailed(refusal(self.entity, row["id"], errors), fields=errors)
        record = {n: produced.get(n, row.get(n)) for n in self.names}
        self.compute(record, self._children(row["id"]))
        return {cf.name: record[cf.name] for cf in self.entity.computed if cf.has_column}

    def stored(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """The workflow (the state field moves only along a transition the actor may take, locked fields stay);
        link targets and unique values of the changed fields; record rules on the new state."""
        taken = self.workflow.resolve(self.ctx, self.entity, before, after)
        self.workflow.check_locks(self.ctx, self.entity, before, after, (), taken)
        if taken is not None:
            self.taken[after["id"]] = taken.name
        changed = {n: after.get(n) for n in self.names if after.get(n) != before.get(n)}
        errors = check_links(self.ctx, self.permissions, self.entity, changed)
        errors |= check_unique(self.ctx, self.entity, changed, after["id"], self.permissions)
        if errors:
            raise ValidationFailed(refusal(self.entity, after["id"], errors), fields=errors)
        self.permissions.check_write(
            self.ctx.actor, self.entity, "update", before, after, self.computed_by_db
        )

    def _children(self, record_id: int) -> dict[str, list[dict[str, Any]]]:
        """Stored child rows (rollups are computed from them; a guarded update does not change them)."""
        return ChildRows(self.ctx, self.entity).fetch(record_id) if self.entity.child_fields else {}
