"""Lookups by a unique key, resolved for a whole batch: one query per lookup (entity, key field) per batch
of up to :data:`CHUNK` keys, never one per row; and the reverse (ids -> keys) for outbound payloads.

The engine asks a :class:`Lookups` (a protocol); :class:`SqlLookups` reads live records of the entity's table,
optionally only those a reader may read (``scope``: the record service's visible-ids subquery)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.mappings.compiled import LookupSpec
from lowcode.runtime.compiler import CompiledEntity

CHUNK = 900
"""Keys per query (below every dialect's bound-parameter limit)."""


class Lookups(Protocol):
    """Resolves the keys of one lookup to record ids, and ids back to keys."""

    def ids(self, spec: LookupSpec, keys: Iterable[Any]) -> dict[Any, int]:
        """Key -> id of the live records found (unknown keys absent)."""
        ...  # pragma: no cover

    def keys(self, spec: LookupSpec, ids: Iterable[int]) -> dict[int, Any]:
        """Id -> key of the live records found."""
        ...  # pragma: no cover


Scope = Callable[[CompiledEntity], sa.Select | None]
"""The ids a reader may read of an entity (None: every record)."""


class SqlLookups:
    """Lookups in the database of one unit of work; ``queries`` counts the statements run (tests, bench)."""

    def __init__(self, session: Session, scope: Scope | None = None):
        self.session = session
        self.scope = scope
        self.queries = 0

    def _select(self, spec: LookupSpec, column: str, values: list[Any]) -> list[tuple[Any, Any]]:
        table = spec.entity.table
        found: list[tuple[Any, Any]] = []
        visible = self.scope(spec.entity) if self.scope is not None else None
        for start in range(0, len(values), CHUNK):
            query = sa.select(table.c[spec.by.name], table.c.id).where(
                table.c[column].in_(values[start : start + CHUNK]), table.c.deleted_at.is_(None)
            )
            if visible is not None:
                query = query.where(table.c.id.in_(visible))
            self.queries += 1
            found.extend(tuple(row) for row in self.session.execute(query))
        return found

    def ids(self, spec: LookupSpec, keys: Iterable[Any]) -> dict[Any, int]:
        """Key -> id, one query per CHUNK keys."""
        wanted = sorted(set(keys), key=str)
        return (
            {key: record_id for key, record_id in self._select(spec, spec.by.name, wanted)} if wanted else {}
        )

    def keys(self, spec: LookupSpec, ids: Iterable[int]) -> dict[int, Any]:
        """Id -> key, one query per CHUNK ids."""
        wanted = sorted(set(ids))
        return {record_id: key for key, record_id in self._select(spec, "id", wanted)} if wanted else {}


class DictLookups:
    """Lookups from fixed tables ``{(entity, field): {key: id}}`` (previews of drafts, tests)."""

    def __init__(self, tables: dict[tuple[str, str], dict[Any, int]]):
        self.tables = tables
        self.queries = 0

    def ids(self, spec: LookupSpec, keys: Iterable[Any]) -> dict[Any, int]:
        """Key -> id from the table."""
        self.queries += 1
        table = self.tables.get(spec.key, {})
        return {k: table[k] for k in set(keys) if k in table}

    def keys(self, spec: LookupSpec, ids: Iterable[int]) -> dict[int, Any]:
        """Id -> key from the table."""
        self.queries += 1
        inverse = {v: k for k, v in self.tables.get(spec.key, {}).items()}
        return {i: inverse[i] for i in set(ids) if i in inverse}
