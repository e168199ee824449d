"""Apply a schema plan (:mod:`lowcode.runtime.schema_plan`) to an entity's real table.

Every step runs on the publishing transaction's connection; SQLite and PostgreSQL both make DDL part of the
transaction, so a publish that fails half-way (a unique index over duplicates, a conversion refused) leaves
the table as it was. Columns are moved, never dropped: dropping happens only when a trash entry is purged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.orm import Session

from lowcode.core.definition_models import TrashedColumn
from lowcode.core.models import utcnow
from lowcode.errors import SchemaChangeRefused
from lowcode.fields.conversion import FAILED
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.schema_plan import TRASH_PREFIX, SchemaPlan, Step, iter_conversions

BATCH = 1000


@dataclass
class ApplyContext:
    """What the step appliers share: the transaction, the two versions of the entity and who publishes."""

    session: Session
    ops: Operations
    old: CompiledEntity | None
    new: CompiledEntity
    actor_name: str
    version: int

    @property
    def connection(self) -> sa.Connection:
        """The publishing transaction's connection."""
        return self.session.connection()

    @property
    def table_name(self) -> str:
        """The entity's table."""
        return self.new.table.name


def apply_plan(
    session: Session,
    plan: SchemaPlan,
    old: CompiledEntity | None,
    new: CompiledEntity,
    actor_name: str,
    version: int,
) -> list[str]:
    """Run every step of the plan in order; returns a sentence per step.

    :raises SchemaChangeRefused: when a step cannot be applied (e.g. unique over duplicate values).
    """
    ops = Operations(MigrationContext.configure(session.connection()))
    ctx = ApplyContext(session, ops, old, new, actor_name, version)
    done = []
    for step in plan.steps:
        APPLIERS[step.op](ctx, step)
        done.append(f"{step.op} {step.field or step.detail.get('index', '')}".strip())
    return done


def _quote(ctx: ApplyContext, name: str) -> str:
    return ctx.connection.dialect.identifier_preparer.quote(name)


def rename_column(ctx: ApplyContext, old_name: str, new_name: str) -> None:
    """``ALTER TABLE ... RENAME COLUMN`` (native on PostgreSQL and SQLite >= 3.25: no table copy)."""
    table = _quote(ctx, ctx.table_name)
    ctx.connection.exec_driver_sql(
        f"ALTER TABLE {table} RENAME COLUMN {_quote(ctx, old_name)} TO {_quote(ctx, new_name)}"
    )


def _old_field_doc(ctx: ApplyContext, key: str) -> dict | None:
    if ctx.old is None or key not in ctx.old.fields:
        return None
    return next((dict(f) for f in ctx.old.definition["fields"] if f["name"] == key), None)


def trash(ctx: ApplyContext, column: str, key: str, reason: str) -> TrashedColumn:
    """Move a column into the trash: record it, then rename it out of the way of field keys."""
    t = sa.table(ctx.table_name, sa.column(column))
    count = ctx.connection.execute(sa.select(sa.func.count(t.c[column]))).scalar() or 0
    entry = TrashedColumn(
        app=ctx.new.app,
        entity=ctx.new.name,
        table_name=ctx.table_name,
        field_key=key,
        field=_old_field_doc(ctx, key),
        reason=reason,
        values_count=count,
        definition_version=ctx.version,
        trashed_by=ctx.actor_name,
    )
    ctx.session.add(entry)
    ctx.session.flush()
    entry.column_name = f"{TRASH_PREFIX}{entry.id}_{key}"[:63]
    rename_column(ctx, column, entry.column_name)
    ctx.session.flush()
    return entry


def _create_table(ctx: ApplyContext, step: Step) -> None:
    ctx.new.table.create(ctx.connection)


def _add_column(ctx: ApplyContext, step: Step) -> None:
    column = ctx.new.table.c[step.field]
    ctx.ops.add_column(ctx.table_name, sa.Column(column.name, column.type, nullable=True))


def _trash_column(ctx: ApplyContext, step: Step) -> None:
    trash(ctx, step.detail["column"], step.detail["column"], step.detail["reason"])


def _rename_column(ctx: ApplyContext, step: Step) -> None:
    rename_column(ctx, step.detail["from"], step.detail["to"])


def _widen_column(ctx: ApplyContext, step: Step) -> None:
    if ctx.connection.dialect.name == "sqlite":
        return  # SQLite does not enforce VARCHAR lengths
    source = step.detail.get("column", step.field)
    before = ctx.old.fields[source] if ctx.old and source in ctx.old.fields else None
    existing = before.ftype.column_type(before.fdef) if before else None
    ctx.ops.alter_column(
        ctx.table_name, step.field, type_=ctx.new.table.c[step.field].type, existing_type=existing
    )


def _convert_column(ctx: ApplyContext, step: Step) -> None:
    """The original column goes to the trash; converted values fill a fresh column under the key."""
    source_key = step.detail["column"]
    before = ctx.old.fields[source_key]
    after = ctx.new.fields[step.field]
    entry = trash(ctx, step.field, source_key, f"converted from {step.detail['from']} to {step.detail['to']}")
    _add_column(ctx, step)
    target = sa.table(
        ctx.table_name, sa.column("id"), sa.column(step.field, ctx.new.table.c[step.field].type)
    )
    update = (
        target.update().where(target.c.id == sa.bindparam("b_id")).values({step.field: sa.bindparam("b_v")})
    )
    batch: list[dict] = []
    for row_id, converted in iter_conversions(
        ctx.connection, ctx.table_name, entry.column_name, before, after
    ):
        if converted.outcome != FAILED:
            batch.append({"b_id": row_id, "b_v": converted.value})
        if len(batch) >= BATCH:
            ctx.connection.execute(update, batch)
            batch = []
    if batch:
        ctx.connection.execute(update, batch)


def _restore_column(ctx: ApplyContext, step: Step) -> None:
    entry = ctx.session.get(TrashedColumn, step.detail["trash_id"])
    rename_column(ctx, entry.column_name, step.field)
    entry.restored_at = utcnow()
    ctx.session.flush()


def _drop_index(ctx: ApplyContext, step: Step) -> None:
    ctx.ops.drop_index(step.detail["index"], table_name=ctx.table_name)


def _add_index(ctx: ApplyContext, step: Step) -> None:
    index = next(ix for ix in ctx.new.table.indexes if ix.name == step.detail["index"])
    columns = [c.name for c in index.columns]
    if index.unique:
        cols = [sa.column(c) for c in columns]
        dup = ctx.connection.execute(
            sa.select(*cols)
            .select_from(sa.table(ctx.table_name, *cols))
            .where(*(c.is_not(None) for c in cols))
            .group_by(*cols)
            .having(sa.func.count() > 1)
            .limit(1)
        ).first()
        if dup is not None:
            raise SchemaChangeRefused(
                f"Cannot make {', '.join(columns)} unique: existing records share the value {tuple(dup)!r}",
                fields={c: ["existing records hold duplicate values"] for c in columns},
            )
    index.create(ctx.connection)


APPLIERS: dict[str, Callable[[ApplyContext, Step], None]] = {
    "create_table": _create_table,
    "trash_column": _trash_column,
    "rename_column": _rename_column,
    "restore_column": _restore_column,
    "convert_column": _convert_column,
    "widen_column": _widen_column,
    "add_column": _add_column,
    "drop_index": _drop_index,
    "add_index": _add_index,
}
"""One applier per step kind of :class:`~lowcode.runtime.schema_plan.Step`."""
