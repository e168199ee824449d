"""Throwing a sandbox away: its tables dropped (trashed columns are in them) and every row the platform keeps
about the app deleted - definitions with their versions and draft steps, trash entries, serial-number
counters, saved views, role assignments and tokens, notifications, rule runs, audit entries, undelivered
events, the sandbox record. The definitions counter moves, so every process forgets the app. The security
event of the throw-away (written by the caller) is all that remains."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.definition_models import (
    AppInstall,
    Definition,
    DefinitionVersion,
    DraftStep,
    Sandbox,
    TrashedColumn,
)
from lowcode.core.models import (
    ApiToken,
    AuditEntry,
    Counter,
    Notification,
    OutboxEvent,
    RoleAssignment,
    RuleRunEntry,
    SavedView,
)
from lowcode.definitions.published import DEFINITIONS_COUNTER, bump_counter
from lowcode.runtime.compiler import table_name
from lowcode.sandbox.changes import require_sandbox

APP_ROWS = (
    DraftStep,
    TrashedColumn,
    SavedView,
    RoleAssignment,
    ApiToken,
    Notification,
    RuleRunEntry,
    AuditEntry,
    OutboxEvent,
    AppInstall,
    Sandbox,
)
"""System tables whose rows name the app in their ``app`` column."""


def _entity_tables(session: Session, app: str) -> set[str]:
    """The table of every entity the app ever published (a name kept by any version)."""
    names = session.scalars(
        sa.select(Definition.name).where(
            Definition.app == app, Definition.kind == "entity", Definition.published_version.is_not(None)
        )
    )
    return {table_name(app, name) for name in names}


def throw_away(session: Session, sandbox_app: str) -> dict[str, Any]:
    """Delete the sandbox ``sandbox_app`` and everything of it. :raises NotFound: when it is not a sandbox."""
    require_sandbox(session, sandbox_app)
    connection = session.connection()
    existing = set(sa.inspect(connection).get_table_names())
    tables = sorted(_entity_tables(session, sandbox_app) & existing)
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        connection.exec_driver_sql(f"DROP TABLE {quote(table)}")
    definitions = sa.select(Definition.id).where(Definition.app == sandbox_app)
    session.execute(sa.delete(DefinitionVersion).where(DefinitionVersion.definition_id.in_(definitions)))
    removed = session.execute(sa.delete(Definition).where(Definition.app == sandbox_app)).rowcount
    for model in APP_ROWS:
        session.execute(sa.delete(model).where(model.app == sandbox_app))
    session.execute(sa.delete(Counter).where(Counter.key.startswith(f"{sandbox_app}.", autoescape=True)))
    bump_counter(session, DEFINITIONS_COUNTER)
    session.flush()
    return {"app": sandbox_app, "tables": tables, "definitions": removed}
