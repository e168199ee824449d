"""Integrity errors of business-data writes as per-field messages, never a 500.

The record service checks unique values and links before it writes, but the database has the last word:
two writers can pass the unique check at once (PostgreSQL runs them side by side), and a table can hold a
constraint its definition does not declare (a unique index an older definition left, a CHECK an operator
added). :func:`guard_constraints` wraps each INSERT/UPDATE of the write path and turns what the database
refused into :class:`~lowcode.errors.ConstraintViolated` naming the field, like any validation message.

It re-raises at once: on PostgreSQL the failed statement aborted the transaction, so nothing may use it
again; a caller that must carry on (the upsert rule action, dry runs) wraps its write in a savepoint.
Messages name the field, never the other record or its values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lowcode.core.integrity import (
    CHECK,
    FOREIGN_KEY,
    NOT_NULL,
    UNIQUE,
    Violation,
    parse_violation,
    sqlite_missing_references,
)
from lowcode.core.texts import Text
from lowcode.errors import ConstraintViolated
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.snapshot import Snapshot

FIELD_MESSAGES = {
    UNIQUE: "Must be unique: another record already has this value.",
    NOT_NULL: "A value is required.",
    FOREIGN_KEY: "Refers to a record that does not exist.",
    CHECK: "Not allowed by the database check {constraint}.",
}
RECORD_MESSAGES = {
    UNIQUE: "Another record already has these values; nothing was written.",
    NOT_NULL: "A value the database requires is missing; nothing was written.",
    FOREIGN_KEY: "The record refers to a record that does not exist; nothing was written.",
    CHECK: "The database check {constraint} does not allow these values; nothing was written.",
}
FALLBACK_MESSAGE = "A database constraint refused the change; nothing was written."
NAME_PREFIXES = ("ux_", "uq_", "ix_", "ck_", "fk_", "")
"""Constraint names are ``<prefix><table>_<columns>``: ours (``ux_``, see the compiler) or PostgreSQL's own."""
NAME_SUFFIXES = ("_key", "_check", "_fkey", "_not_null", "_excl")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@contextmanager
def guard_constraints(
    ctx: WriteContext, entity: CompiledEntity, values: dict[str, Any], prefix: str = ""
) -> Iterator[None]:
    """Run one write statement of ``entity`` with ``values``; an integrity error becomes
    :class:`ConstraintViolated` with the field path ``prefix + field`` (``lines.2.`` for a child row)."""
    try:
        yield
    except IntegrityError as exc:
        violation = parse_violation(exc)
        if violation.kind == FOREIGN_KEY and not violation.columns and _is_sqlite(ctx):
            columns = sqlite_missing_references(ctx.session.connection(), entity.table.name, values)
            violation = replace(violation, table=entity.table.name, columns=columns)
        raise violation_error(violation, entity, prefix) from exc


def constraint_error(error: IntegrityError, snapshot: Snapshot | None) -> ConstraintViolated | None:
    """The domain error of an integrity error raised outside :func:`guard_constraints` (at commit, by a
    deferred constraint), when it belongs to an entity's table; None when it cannot be placed."""
    violation = parse_violation(error)
    entity = _entity_of(violation, snapshot) if snapshot is not None else None
    return violation_error(violation, entity) if entity is not None else None


def violation_error(violation: Violation, entity: CompiledEntity, prefix: str = "") -> ConstraintViolated:
    """The message for a violation on ``entity``: per field where the field is known."""
    names = violated_fields(violation, entity)
    constraint = violation.constraint or ""
    if names:
        if violation.kind == UNIQUE and len(names) > 1:
            text = f"Must be unique together with {', '.join(names[1:])}: another record has these values."
            fields = {prefix + names[0]: [text]}
        else:
            text = FIELD_MESSAGES.get(violation.kind, FALLBACK_MESSAGE).format(constraint=constraint)
            fields = {prefix + name: [text] for name in names}
        return ConstraintViolated(Text("Some fields are not valid"), fields=fields, constraint=violation.kind)
    message = RECORD_MESSAGES.get(violation.kind, FALLBACK_MESSAGE).format(constraint=constraint)
    return ConstraintViolated(message, constraint=violation.kind)


def violated_fields(violation: Violation, entity: CompiledEntity) -> list[str]:
    """Field keys of ``entity`` the violation is about: the columns the database named, else the ones
    its constraint name spells (``ux_<table>_<f1>_<f2>``, ``<table>_<field>_check``), else field keys in
    a CHECK expression. Empty when the violation belongs to another table or names no field."""
    if violation.table is not None and violation.table != entity.table.name:
        return []
    keys = {name for name, cf in entity.fields.items() if cf.has_column}
    named = [column for column in violation.columns if column in keys]
    if named or violation.constraint is None:
        return named
    return _fields_of_name(violation.constraint, entity.table, keys)


def _fields_of_name(name: str, table: sa.Table, keys: set[str]) -> list[str]:
    for index in [*table.indexes, *table.constraints]:
        if index.name == name:
            return [c.name for c in index.columns if c.name in keys]
    for start in NAME_PREFIXES:
        if name.startswith(f"{start}{table.name}_"):
            stem = name[len(start) + len(table.name) + 1 :]
            stems = [stem, *(stem.removesuffix(end) for end in NAME_SUFFIXES if stem.endswith(end))]
            for candidate in stems:
                if found := _split(candidate, keys):
                    return found
    return [word for word in dict.fromkeys(IDENTIFIER.findall(name)) if word in keys]


def _split(text: str, keys: set[str]) -> list[str]:
    """``text`` as field keys joined by ``_`` (keys may hold ``_`` themselves), or []."""
    if text in keys:
        return [text]
    for key in sorted(keys, key=len, reverse=True):
        if text.startswith(f"{key}_") and (rest := _split(text[len(key) + 1 :], keys)):
            return [key, *rest]
    return []


def _entity_of(violation: Violation, snapshot: Snapshot) -> CompiledEntity | None:
    """The entity whose table the database named; for a SQLite CHECK (no table named), the one whose
    table its name starts with (the longest: ``e_a_item_line`` before ``e_a_item``)."""
    by_table = {entity.table.name: entity for entity in snapshot.entities.values()}
    if violation.table is not None or violation.constraint is None:
        return by_table.get(violation.table or "")
    starts = [t for t in by_table for s in NAME_PREFIXES if s and violation.constraint.startswith(f"{s}{t}_")]
    return by_table[max(starts, key=len)] if starts else None


def _is_sqlite(ctx: WriteContext) -> bool:
    return ctx.session.get_bind().dialect.name == "sqlite"
