"""Which records of a live app a sandbox gets: the latest ``per_entity`` records of each entity (child rows
come with their parent), and every record they link to, followed transitively - so every link of the sample
names a record of the sample. A link to a record that no longer exists (deleted) is dropped.
Rows are read as stored (typed Python values), deleted records left out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.snapshot import Snapshot

Ref = tuple[str, int]
"""(entity name, record id)."""
MAX_SAMPLE = 1000
"""The largest sample per entity a sandbox may ask for."""


@dataclass
class Sample:
    """The chosen records of each entity by id, and their child rows by child-table field."""

    records: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    children: dict[str, dict[int, dict[str, list[dict[str, Any]]]]] = field(default_factory=dict)
    """entity -> parent id -> child-table field -> rows in order."""

    def has(self, ref: Ref) -> bool:
        """Whether the sample holds the record."""
        return ref[1] in self.records.get(ref[0], {})

    def count(self) -> int:
        """How many records (child rows not counted)."""
        return sum(len(rows) for rows in self.records.values())


def link_targets(entity: CompiledEntity) -> dict[str, str]:
    """The entity's link fields -> the entity each links to."""
    return {
        cf.name: cf.fdef.options["entity"]
        for cf in entity.fields.values()
        if cf.ftype.type == "link" and cf.fdef.options.get("entity")
    }


def links_of(entity: CompiledEntity, row: dict[str, Any]) -> Iterable[Ref]:
    """The records a row links to."""
    for key, target in link_targets(entity).items():
        if row.get(key) is not None:
            yield target, int(row[key])


def choose_sample(session: Session, snapshot: Snapshot, app: str, per_entity: int) -> Sample:
    """The latest ``per_entity`` records of each entity of ``app`` with everything they link to."""
    entities = {name: e for (a, name), e in snapshot.entities.items() if a == app}
    sample = Sample()
    wanted: dict[str, set[int]] = {}
    for name, entity in entities.items():
        if entity.is_child or per_entity <= 0:
            continue
        t = entity.table
        ids = session.scalars(
            sa.select(t.c.id).where(t.c.deleted_at.is_(None)).order_by(t.c.id.desc()).limit(per_entity)
        )
        wanted[name] = set(ids)
    while any(wanted.values()):
        found: dict[str, set[int]] = {}
        for name, ids in wanted.items():
            entity = entities.get(name)
            if entity is None or entity.is_child or not ids:
                continue
            rows = _read(session, entity, ids)
            sample.records.setdefault(name, {}).update(rows)
            children = _children(session, snapshot, entity, list(rows))
            sample.children.setdefault(name, {}).update(children)
            for row in rows.values():
                _add_refs(found, links_of(entity, row))
            for by_field in children.values():
                for key, child_rows in by_field.items():
                    child = snapshot.entity(app, entity.fields[key].fdef.options["entity"])
                    for child_row in child_rows:
                        _add_refs(found, links_of(child, child_row))
        wanted = {name: {i for i in ids if not sample.has((name, i))} for name, ids in found.items()}
    return sample


def _add_refs(found: dict[str, set[int]], refs: Iterable[Ref]) -> None:
    for name, record_id in refs:
        found.setdefault(name, set()).add(record_id)


def _read(session: Session, entity: CompiledEntity, ids: set[int]) -> dict[int, dict[str, Any]]:
    t = entity.table
    rows = session.execute(
        sa.select(t).where(t.c.id.in_(sorted(ids)), t.c.deleted_at.is_(None)).order_by(t.c.id)
    ).mappings()
    return {row["id"]: dict(row) for row in rows}


def _children(
    session: Session, snapshot: Snapshot, entity: CompiledEntity, parent_ids: list[int]
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    found: dict[int, dict[str, list[dict[str, Any]]]] = {i: {} for i in parent_ids}
    if not parent_ids:
        return found
    for cf in entity.child_fields:
        t = snapshot.entity(entity.app, cf.fdef.options["entity"]).table
        rows = session.execute(
            sa.select(t)
            .where(t.c.parent_id.in_(parent_ids), t.c.deleted_at.is_(None))
            .order_by(t.c.parent_id, t.c.idx, t.c.id)
        ).mappings()
        for row in rows:
            found[row["parent_id"]].setdefault(cf.name, []).append(dict(row))
    return found
