"""What a database integrity error says, read the same way on SQLite and PostgreSQL.

:func:`parse_violation` turns the driver's error into a :class:`Violation` - which kind of constraint, on
which table, which columns, under which name - and nothing else: the values in the database's message
(PostgreSQL's ``DETAIL: Key (code)=(A-1)``, ``Failing row contains (...)``) are never kept, so nothing
built from a violation can show another record's data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

UNIQUE, NOT_NULL, FOREIGN_KEY, CHECK, EXCLUSION, OTHER = (
    "unique",
    "not_null",
    "foreign_key",
    "check",
    "exclusion",
    "integrity",
)

PG_SQLSTATES = {"23505": UNIQUE, "23502": NOT_NULL, "23503": FOREIGN_KEY, "23514": CHECK, "23P01": EXCLUSION}
"""PostgreSQL's integrity-constraint SQLSTATEs (class 23)."""

SQLITE_PREFIXES = {
    "UNIQUE constraint failed": UNIQUE,
    "NOT NULL constraint failed": NOT_NULL,
    "FOREIGN KEY constraint failed": FOREIGN_KEY,
    "CHECK constraint failed": CHECK,
}
"""SQLite's messages (not translated, stable since 3.8): ``<prefix>: <table>.<column>, ...`` or ``: <name>``."""

_PG_KEY_COLUMNS = re.compile(r"\((.+?)\)=\(")


@dataclass(frozen=True)
class Violation:
    """One refused write: the constraint kind and where it sits, without any of the values."""

    kind: str
    """One of ``unique``, ``not_null``, ``foreign_key``, ``check``, ``exclusion`` or ``integrity`` (unknown)."""
    table: str | None = None
    columns: tuple[str, ...] = ()
    """Columns the database named (may include expressions such as ``lower(code)``)."""
    constraint: str | None = None
    """The constraint or index name; for an unnamed SQLite CHECK, its expression text."""


def parse_violation(error: BaseException) -> Violation:
    """Read a SQLAlchemy ``IntegrityError`` (or the driver's own exception) into a :class:`Violation`."""
    orig = getattr(error, "orig", None) or error
    diag = getattr(orig, "diag", None)
    if diag is not None:
        return _from_postgresql(orig, diag)
    return _from_sqlite(str(orig))


def _from_postgresql(orig: Any, diag: Any) -> Violation:
    kind = PG_SQLSTATES.get(getattr(orig, "sqlstate", None) or "", OTHER)
    columns: tuple[str, ...] = ()
    if diag.column_name:
        columns = (diag.column_name,)
    elif diag.message_detail and (match := _PG_KEY_COLUMNS.search(diag.message_detail)):
        columns = tuple(_unquote(c) for c in match.group(1).split(", "))
    return Violation(kind, diag.table_name or None, columns, diag.constraint_name or None)


def _from_sqlite(message: str) -> Violation:
    prefix, _, rest = message.partition(": ")
    kind = SQLITE_PREFIXES.get(prefix.strip(), OTHER)
    if kind == CHECK:
        return Violation(kind, constraint=rest.strip() or None)
    if kind not in (UNIQUE, NOT_NULL) or not rest:
        return Violation(kind)
    qualified = [part.strip().rpartition(".") for part in rest.split(",")]
    table = qualified[0][0] or None
    return Violation(kind, table, tuple(column for _, _, column in qualified))


def _unquote(identifier: str) -> str:
    identifier = identifier.strip()
    if len(identifier) > 1 and identifier[0] == identifier[-1] == '"':
        return identifier[1:-1].replace('""', '"')
    return identifier


def sqlite_missing_references(connection: Any, table: str, values: dict[str, Any]) -> tuple[str, ...]:
    """Columns of ``values`` whose foreign key finds no parent row (SQLite's message names none).

    Runs on the failed write's own connection: SQLite undoes the failed statement and keeps the
    transaction usable, so the check sees exactly what the statement saw.
    """
    keys: dict[int, tuple[str, list[tuple[str, str | None]]]] = {}
    for row in connection.exec_driver_sql(f"PRAGMA foreign_key_list({_quote(table)})").mappings():
        keys.setdefault(row["id"], (row["table"], []))[1].append((row["from"], row["to"]))
    missing: list[str] = []
    for parent, pairs in keys.values():
        if any(values.get(column) is None for column, _ in pairs):
            continue  # not written by this statement, or NULL (which a foreign key allows)
        where = " AND ".join(f"{_quote(target) if target else 'rowid'} = ?" for _, target in pairs)
        params = tuple(values[column] for column, _ in pairs)
        found = connection.exec_driver_sql(f"SELECT 1 FROM {_quote(parent)} WHERE {where} LIMIT 1", params)
        if found.first() is None:
            missing.extend(column for column, _ in pairs)
    return tuple(missing)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
