"""The record service's set-based write: a guarded atomic UPDATE of every record matching a condition, the
database computing the new values (rule actions' update_records and upsert). Taken by
:class:`~lowcode.runtime.records.RecordService` from :class:`AtomicWrites`."""

from __future__ import annotations

from typing import Any

from lowcode.rules.hooks import WriteEvent
from lowcode.runtime.atomic import AtomicResult, AtomicUpdate, apply_atomic
from lowcode.runtime.atomic_checks import AtomicRowChecks
from lowcode.runtime.context import WriteContext


class AtomicWrites:
    """``update_where``: see :mod:`lowcode.runtime.atomic` for the statement and
    :mod:`lowcode.runtime.atomic_checks` for the steps run on each row around it."""

    def update_where(
        self,
        ctx: WriteContext,
        app: str,
        entity_name: str,
        match: dict[str, Any],
        variables: dict[str, Any],
        set_exprs: dict[str, str],
        context: dict[str, Any],
        guard: str | None = None,
        max_rows: int | None = None,
    ) -> AtomicResult:
        """Guarded atomic update of every record matching ``match`` (see :mod:`lowcode.runtime.atomic`):
        the database computes the values; the steps of this path run on each real row around the UPDATE
        (:mod:`lowcode.runtime.atomic_checks`); after-rules see each changed row like any other update.

        :raises TooManyRows: more than ``max_rows`` records match (nothing changed)."""
        entity = self._entity(ctx, app, entity_name)
        self.permissions.authorize(ctx.actor, entity, "update")
        checks = AtomicRowChecks(
            ctx,
            entity,
            self.permissions,
            lambda record, children: self._compute(ctx, entity, record, children, is_create=False),
            frozenset(set_exprs),
            self.workflow,
        )
        result = apply_atomic(
            ctx, entity, AtomicUpdate(match, variables, set_exprs, context, guard, max_rows), checks
        )
        for after in result.updated:
            before = result.before[after["id"]]
            event = WriteEvent(
                app,
                entity.name,
                "update",
                after["id"],
                before,
                after,
                transition=checks.taken.get(after["id"]),
            )
            self.rules.after_write(ctx, entity, event)
        return result
