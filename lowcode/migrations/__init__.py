"""Migrations of the system tables (``lc_*``): Alembic revision scripts in ``versions/``, run without an
``env.py`` by :mod:`lowcode.migrations.runner` (``lowcode migrate``)."""

from lowcode.migrations.runner import (
    BASELINE,
    PRE_MIGRATION_REVISIONS,
    VERSION_TABLE,
    Migrations,
    SchemaOutOfDate,
    SchemaState,
    migrate,
    require_current_schema,
)

__all__ = [
    "BASELINE",
    "PRE_MIGRATION_REVISIONS",
    "VERSION_TABLE",
    "Migrations",
    "SchemaOutOfDate",
    "SchemaState",
    "migrate",
    "require_current_schema",
]
