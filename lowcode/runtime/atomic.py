"""Guarded atomic updates of many records - the write path for counters that many users change at once.

``UPDATE stock_balance SET reserved = reserved + :q, version = version + 1 WHERE <match> AND
on_hand - reserved >= :q RETURNING ...``: the database does the arithmetic on the current row, so no update
is lost and the guard holds under concurrency. Rows the guard rejects are reported, not changed. Each
changed row gets its audit entry and outbox event like any other write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lowcode.runtime import audit, outbox
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.serialize import row_to_record


@dataclass
class AtomicResult:
    """What a guarded update did: the rows it changed (after) and the rows the guard refused (as they are)."""

    updated: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    before: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The updated rows as they were, by id."""

    @property
    def matched(self) -> int:
        """How many rows the match condition selected."""
        return len(self.updated) + len(self.refused)


def apply_atomic(
    ctx: WriteContext, entity: CompiledEntity, match: dict[str, Any], variables: dict[str, Any],
    set_exprs: dict[str, str], context: dict[str, Any], guard: str | None,
) -> AtomicResult:  # fmt: skip
    """Run the guarded update (caller has authorized it). ``set_exprs`` and ``guard`` are expressions where
    bare names are the target's columns and other names come from ``context``."""
    from lowcode.rules.sqlexpr import update_plan

    t = entity.table
    dialect = ctx.session.get_bind().dialect.name
    plan = update_plan(dialect, {c.name: c for c in t.columns}, set_exprs, guard, context)
    where = [t.c.deleted_at.is_(None), entity.condition(match, "where").to_sql(
        {n: t.c[n] for n in entity.kinds}, variables)]  # fmt: skip
    select = sa.select(t).where(*where).order_by(t.c.id)
    if dialect == "postgresql":
        select = select.with_for_update()
    before = {r["id"]: row_to_record(entity, r) for r in ctx.session.execute(select).mappings()}
    if not before:
        return AtomicResult()
    values = dict(plan.values)
    values |= {"version": t.c.version + 1, "updated_at": ctx.now, "updated_by": ctx.actor.user_id}
    update = sa.update(t).where(t.c.id.in_(list(before))).values(values)
    if plan.where is not None:
        update = update.where(plan.where)
    returned = ctx.session.execute(update.returning(*t.columns)).mappings().all()
    result = AtomicResult(updated=[row_to_record(entity, r) for r in returned])
    changed_ids = {r["id"] for r in result.updated}
    # a row left alone for a division by zero or an overflow is an error, not a refusal by the guard
    plan.verify(ctx.session, t.c.id, [rid for rid in before if rid not in changed_ids], entity.name)
    result.refused = [row for rid, row in before.items() if rid not in changed_ids]
    result.before = {rid: row for rid, row in before.items() if rid in changed_ids}
    for after in result.updated:
        old = before[after["id"]]
        changes = audit.diff(old, after, list(set_exprs))
        audit.record_change(ctx, entity.app, entity.name, after["id"], after["version"], "update", changes)
        outbox.enqueue(ctx, entity.app, entity.name, after["id"], "updated",
                       {"id": after["id"], "version": after["version"], "changes": changes})  # fmt: skip
    return result
