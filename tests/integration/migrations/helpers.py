"""Comparing a database's system tables with ``lowcode/core/models.py`` (Alembic autogenerate)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.pool import NullPool

from lowcode.core.models import Base
from lowcode.migrations import VERSION_TABLE


def _system_tables_only(name, type_, _parent) -> bool:
    return type_ != "table" or name.startswith("lc_")  # entity tables (e_*) are the definitions' business


def schema_differences(url: str) -> list:
    """What autogenerate would write to make the database's system tables match the models ([] if none)."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            opts = {"version_table": VERSION_TABLE, "include_name": _system_tables_only}
            return compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    finally:
        engine.dispose()


def row_counts(url: str, tables) -> dict[str, int]:
    """``{table: number of rows}``."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {t: conn.scalar(sa.text(f'SELECT count(*) FROM "{t}"')) for t in tables}
    finally:
        engine.dispose()
