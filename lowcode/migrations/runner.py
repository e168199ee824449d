"""Run the system-table migrations with Alembic's ``MigrationContext`` and ``ScriptDirectory`` (no ``env.py``).

An upgrade holds an exclusive lock for its whole run - a transaction-level advisory lock on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite - reads the revision under that lock and applies the missing revisions in the
same transaction. Concurrent first starts therefore queue, and the later ones find nothing left to do.
A database made by ``create_all`` before migrations existed (``lc_*`` tables, no version table) is checked
against the baseline revision, recorded as the baseline (see ``PRE_MIGRATION_REVISIONS``), then upgraded.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import ScriptDirectory

from lowcode.core.db import WRITE_OPTION, Database
from lowcode.errors import LowcodeError
from lowcode.migrations.access_triggers import install as install_access_triggers

FOLDER = Path(__file__).resolve().parent
VERSION_TABLE = "lc_alembic_version"
BASELINE = "0001"
"""The revision that creates the system tables exactly as ``create_all`` did before migrations existed."""
PRE_MIGRATION_REVISIONS = (BASELINE,)
"""Revisions whose tables a version before migrations made with ``create_all``, oldest first. A database from
then is recorded as the newest of these whose tables and columns it has, then upgraded. Add a revision here
only if ``create_all`` of some released or deployed version already made what it creates."""
ADVISORY_LOCK_KEY = 7_310_012_231_947_813_476
"""Any fixed bigint: every process of every version must take the same PostgreSQL advisory lock."""
COMMAND = "lowcode migrate"


class SchemaOutOfDate(LowcodeError):
    """The system tables are not at the revision this code needs; the message says what to do."""

    code = "schema_out_of_date"


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands against the revision scripts."""

    current: str | None
    """The recorded revision; None when the database has no version table (or an empty one)."""
    head: str
    """The newest revision of the scripts: what this code needs."""
    known: bool
    """False when ``current`` is not one of the scripts' revisions (a newer version migrated it)."""
    unversioned_tables: bool
    """``lc_*`` tables without a recorded revision: made by ``create_all`` before migrations existed."""

    def problem(self) -> str | None:
        """One line saying why this code cannot run on the database, or None when it is up to date."""
        if not self.known:
            return (
                f"the database schema is at revision {self.current}, which this version of lowcode does not "
                "know (was it migrated by a newer version?)"
            )
        if self.current == self.head:
            return None
        if self.unversioned_tables:
            where = "was created before migrations existed"
        elif self.current is None:
            where = "has no system tables yet"
        else:
            where = f"is at revision {self.current}, this version of lowcode needs {self.head}"
        return f"the database schema {where}: run `{COMMAND}`"


class Migrations:
    """The revision scripts of one folder (by default the package's own ``versions/``)."""

    def __init__(self, folder: Path = FOLDER, pre_migration: tuple[str, ...] = PRE_MIGRATION_REVISIONS):
        self.scripts = ScriptDirectory(str(folder))
        self.pre_migration = pre_migration

    def head(self) -> str:
        """The newest revision (the history is linear: several heads are an error)."""
        return self.scripts.get_current_head()

    def state(self, db: Database) -> SchemaState:
        """Read the database's revision (a read, no lock)."""
        with db.engine.connect() as conn:
            return self._state(conn)

    def require_current(self, db: Database) -> None:
        """Raise :class:`SchemaOutOfDate` with a one-line reason unless the database is at the head."""
        problem = self.state(db).problem()
        if problem:
            raise SchemaOutOfDate(problem)

    def upgrade(self, db: Database) -> str:
        """Bring the database to the head revision under an exclusive lock; idempotent. Returns one line."""
        head = self.head()
        with _exclusive(db) as conn:
            state = self._state(conn)
            if not state.known:
                raise SchemaOutOfDate(state.problem())
            if state.current == head:
                repaired = install_access_triggers(conn)  # a table rebuild drops SQLite's triggers
                note = f"; put back {repaired} access triggers" if repaired else ""
                return f"the database is up to date (revision {head}){note}"
            context = self._context(conn, self._steps_to(head))
            lines = []
            start = state.current
            if state.unversioned_tables:
                start = self._pre_migration_revision(conn)
                context.stamp(self.scripts, start)
                lines.append(f"recorded the system tables made before migrations as revision {start}")
            with Operations.context(context):
                context.run_migrations()
            install_access_triggers(conn)  # those a later revision's table rebuild dropped
            if start != head:
                lines.append(f"migrated the database from {start or 'empty'} to revision {head}")
        return "; ".join(lines)

    def apply(self, conn: sa.Connection, target: str) -> None:
        """Run the revisions from the connection's recorded one up to ``target``, in the caller's transaction
        and without a lock (scratch databases; ``upgrade`` is the locked way)."""
        context = self._context(conn, self._steps_to(target))
        with Operations.context(context):
            context.run_migrations()

    def _state(self, conn: sa.Connection) -> SchemaState:
        heads = self._context(conn).get_current_heads()
        current = heads[0] if heads else None
        known = current is None or current in {script.revision for script in self.scripts.walk_revisions()}
        system_tables = _system_tables(conn)
        unversioned = current is None and any(t != VERSION_TABLE for t in system_tables)
        return SchemaState(current, self.head(), known, unversioned)

    def _context(self, conn: sa.Connection, steps: Callable | None = None) -> MigrationContext:
        opts = {"version_table": VERSION_TABLE, "script": self.scripts, "fn": steps}
        return MigrationContext.configure(conn, opts=opts)

    def _steps_to(self, target: str) -> Callable:
        def steps(heads: tuple[str, ...], _context: MigrationContext) -> list[MigrationStep]:
            scripts = reversed(list(self.scripts.iterate_revisions(target, heads, implicit_base=True)))
            return [MigrationStep.upgrade_from_script(self.scripts.revision_map, s) for s in scripts]

        return steps

    def _pre_migration_revision(self, conn: sa.Connection) -> str:
        """The revision to record for tables made by ``create_all``: the newest of ``pre_migration`` whose
        tables and columns they all have. Refuses tables that lack some of the baseline's."""
        inspector = sa.inspect(conn)
        present = {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}
        chosen, missing = None, []
        for revision in self.pre_migration:
            lacking = _lacking(self._columns_at(revision), present)
            if lacking:
                missing = lacking
                break
            chosen = revision
        if chosen is None:
            raise SchemaOutOfDate(
                "the database was created before migrations by an older version and lacks "
                f"{', '.join(missing)}: recreate it, or add these by hand and run `{COMMAND}` again"
            )
        return chosen

    def _columns_at(self, revision: str) -> dict[str, set[str]]:
        """The tables and columns at ``revision``, from running the scripts on a scratch in-memory database."""
        engine = sa.create_engine("sqlite://")
        try:
            with engine.begin() as conn:
                self.apply(conn, revision)
                inspector = sa.inspect(conn)
                tables = [t for t in inspector.get_table_names() if t != VERSION_TABLE]
                return {t: {c["name"] for c in inspector.get_columns(t)} for t in tables}
        finally:
            engine.dispose()


def _lacking(expected: dict[str, set[str]], present: dict[str, set[str]]) -> list[str]:
    """``table`` or ``table.column`` for each of ``expected`` that ``present`` lacks."""
    missing = []
    for table, columns in sorted(expected.items()):
        missing += (
            [table] if table not in present else [f"{table}.{c}" for c in sorted(columns - present[table])]
        )
    return missing


def migrate(db: Database) -> str:
    """``lowcode migrate``: bring the system tables to the package's head revision; returns one line."""
    return Migrations().upgrade(db)


def require_current_schema(db: Database) -> None:
    """Refuse (:class:`SchemaOutOfDate`, one line naming ``lowcode migrate``) unless migrated to the head."""
    Migrations().require_current(db)


@contextmanager
def _postgresql_lock(conn: sa.Connection) -> Iterator[None]:
    with conn.begin():
        # Released by the commit or rollback; PostgreSQL's DDL is transactional, so a failed run leaves nothing.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        yield


@contextmanager
def _sqlite_lock(conn: sa.Connection) -> Iterator[None]:
    # Rebuilding a table (Alembic's batch mode) drops it; with foreign keys on, that would cascade-delete the
    # rows that reference it. The pragma is a no-op inside a transaction, so it goes before BEGIN.
    raw = conn.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():  # BEGIN IMMEDIATE: a second migrate waits (busy timeout), then finds nothing to do
            yield
            broken = [row for table in _system_tables(conn) for row in _foreign_key_check(conn, table)]
            if broken:
                raise SchemaOutOfDate(
                    f"the migration would break foreign keys (table, rowid, parent): {broken[:5]}"
                )
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _system_tables(conn: sa.Connection) -> list[str]:
    return [t for t in sa.inspect(conn).get_table_names() if t.startswith("lc_")]


def _foreign_key_check(conn: sa.Connection, table: str) -> list[tuple]:
    return [tuple(row[:3]) for row in conn.exec_driver_sql(f'PRAGMA foreign_key_check("{table}")')]


_LOCKS: dict[str, Callable[[sa.Connection], AbstractContextManager[None]]] = {
    "postgresql": _postgresql_lock,
    "sqlite": _sqlite_lock,
}


@contextmanager
def _file_lock(db: Database) -> Iterator[None]:
    """On a SQLite file, migrations of several processes queue on a lock file before they even connect:
    a first connection switches a new file to WAL, which another connection can see as "database is locked"
    without waiting for the busy timeout."""
    path = db.engine.url.database if db.dialect == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _exclusive(db: Database) -> Iterator[sa.Connection]:
    """A connection in a transaction that no other migration runs beside."""
    with _file_lock(db), db.engine.connect() as conn, _LOCKS[db.dialect](conn):
        yield conn
