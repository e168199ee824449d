"""Records as Python dicts (typed values) and as JSON (what the API returns)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from lowcode.fields.base import CHILD_SYSTEM_FIELDS, SYSTEM_FIELDS
from lowcode.runtime.compiler import CompiledEntity


def row_to_record(entity: CompiledEntity, row: Mapping[str, Any]) -> dict[str, Any]:
    """A table row as a dict of system and field values (typed Python values)."""
    return dict(row)  # rows are always selected from the entity's own table


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=None).isoformat() + "Z"


def record_to_json(
    entity: CompiledEntity,
    record: Mapping[str, Any],
    hidden: frozenset[str] = frozenset(),
    children: Mapping[str, list[Mapping[str, Any]]] | None = None,
    child_entities: Mapping[str, CompiledEntity] | None = None,
    child_hidden: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, Any]:
    """JSON form of a record: system fields, each visible field dumped by its type, and child rows
    (without the columns ``child_hidden`` names per child-table field)."""
    out: dict[str, Any] = {}
    for name in SYSTEM_FIELDS + CHILD_SYSTEM_FIELDS:
        if name in record:
            value = record[name]
            out[name] = _iso(value) if isinstance(value, dt.datetime) else value
    for cf in entity.fields.values():
        if cf.name in hidden:
            continue
        if cf.has_column:
            out[cf.name] = cf.ftype.dump(cf.fdef, record.get(cf.name))
        elif children is not None and child_entities and cf.name in children:
            child = child_entities[cf.name]
            out[cf.name] = [
                record_to_json(child, r, (child_hidden or {}).get(cf.name, frozenset()))
                for r in children[cf.name]
            ]
    return out
