"""Bring an entity's real table in line with its published definition (Alembic operations API).

Only additive, data-preserving changes are made: new tables, new columns, new indexes, wider text.
Columns of removed fields are kept (their data stays). A type change that would need a conversion is
refused with the reason; nothing is dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from lowcode.core.types import ExactDecimal
from lowcode.errors import SchemaChangeRefused
from lowcode.runtime.compiler import CompiledEntity


def sync_table(connection: sa.Connection, entity: CompiledEntity) -> list[str]:
    """Create or alter the entity's table; returns a description of each change made.

    :raises SchemaChangeRefused: when a column's type would change incompatibly, or a unique index
        cannot be created because existing rows hold duplicates.
    """
    inspector = sa.inspect(connection)
    table = entity.table
    if not inspector.has_table(table.name):
        table.create(connection)
        return [f"created table {table.name}"]
    ops = Operations(MigrationContext.configure(connection))
    existing = {c["name"]: c for c in inspector.get_columns(table.name)}
    changes: list[str] = []
    for column in table.columns:
        if column.name not in existing:
            ops.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
            changes.append(f"added column {column.name}")
        else:
            changes += _check_type(ops, connection, table.name, column, existing[column.name]["type"])
    index_names = {ix["name"] for ix in inspector.get_indexes(table.name)}
    for index in table.indexes:
        if index.name not in index_names:
            _create_index(connection, index, table.name)
            changes.append(f"created index {index.name}")
    return changes


def _create_index(connection: sa.Connection, index: sa.Index, table_name: str) -> None:
    columns = [c.name for c in index.columns]
    if index.unique:
        cols = [sa.column(c) for c in columns]
        dup = connection.execute(
            sa.select(*cols).select_from(sa.table(table_name, *cols)).where(cols[0].is_not(None))
            .group_by(*cols).having(sa.func.count() > 1).limit(1)
        ).first()  # fmt: skip
        if dup is not None:
            raise SchemaChangeRefused(
                f"Cannot make '{columns[0]}' unique: existing records share the value {dup[0]!r}",
                fields={columns[0]: ["existing records hold duplicate values"]},
            )
    index.create(connection)


def _family(col_type: sa.types.TypeEngine, dialect_name: str) -> str:
    if isinstance(col_type, ExactDecimal):
        return "decimal" if dialect_name == "postgresql" else "integer"
    for family, classes in (
        ("integer", (sa.Integer,)),
        ("decimal", (sa.Numeric,)),
        ("boolean", (sa.Boolean,)),
        ("datetime", (sa.DateTime,)),
        ("date", (sa.Date,)),
        ("json", (sa.JSON,)),
        ("text", (sa.String, sa.Text)),
    ):
        if isinstance(col_type, classes):
            return family
    return type(col_type).__name__


def _check_type(ops, connection, table_name, column, current_type) -> list[str]:
    dialect = connection.dialect.name
    wanted, have = _family(column.type, dialect), _family(current_type, dialect)
    if dialect == "sqlite" and {wanted, have} <= {"boolean", "integer"}:
        return []  # SQLite reflects BOOLEAN columns as INTEGER-compatible; no change needed
    if dialect == "sqlite" and {wanted, have} <= {"json", "text"}:
        return []
    if wanted != have:
        raise SchemaChangeRefused(
            f"Field '{column.name}' cannot change from {have} to {wanted}: existing data would need a "
            "conversion this platform does not do automatically. Add a new field and copy the data instead.",
            fields={column.name: [f"type change {have} -> {wanted} refused"]},
        )
    new_len = getattr(column.type, "length", None)
    old_len = getattr(current_type, "length", None)
    if wanted == "text" and old_len and (new_len is None or new_len > old_len):
        if dialect != "sqlite":  # SQLite does not enforce VARCHAR lengths
            ops.alter_column(table_name, column.name, type_=column.type, existing_type=current_type)
        return [f"widened column {column.name}"]
    if wanted == "text" and new_len and old_len and new_len < old_len:
        raise SchemaChangeRefused(
            f"Field '{column.name}' cannot be shortened from {old_len} to {new_len} characters",
            fields={column.name: ["shortening a text column could truncate data"]},
        )
    decimal_on_pg = isinstance(column.type, ExactDecimal) and dialect == "postgresql"
    if decimal_on_pg and (current_type.precision, current_type.scale) != (
        column.type.precision,
        column.type.scale,
    ):
        raise SchemaChangeRefused(
            f"Field '{column.name}' cannot change its precision/scale once it holds data",
            fields={column.name: ["precision/scale change refused"]},
        )
    return []


def refuse_incompatible_changes(old: CompiledEntity, new: CompiledEntity) -> None:
    """Compare two versions of an entity field by field: a changed column type is refused unless it
    only widens text. This catches what the database cannot show (e.g. a decimal's scale on SQLite).

    :raises SchemaChangeRefused:
    """
    for column in new.table.columns:
        if column.name not in old.table.columns:
            continue
        before, after = old.table.columns[column.name].type, column.type
        if _signature(before) == _signature(after):
            continue
        widening = (
            isinstance(before, sa.String) and isinstance(after, sa.String)
            and not isinstance(before, sa.Text) and (after.length is None or after.length >= (before.length or 0))
        )  # fmt: skip
        if not widening:
            raise SchemaChangeRefused(
                f"Field '{column.name}' cannot change from {before!r} to {after!r} once published: "
                "existing data would need a conversion. Add a new field and copy the data instead.",
                fields={column.name: ["incompatible type change refused"]},
            )


def _signature(col_type: sa.types.TypeEngine) -> str:
    if isinstance(col_type, ExactDecimal):
        return f"ExactDecimal({col_type.precision}, {col_type.scale})"
    return repr(col_type)
