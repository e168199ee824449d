"""Mappings at work: map sources (lookups in the database of the unit of work) and write the results through
the record service - never directly. The seam the ingestion API, spreadsheet import and "create from" build
on: ``map_items`` (no writes), ``create_from_source`` (per-item outcomes, each item in a savepoint), and the
designer's ``preview`` of a draft or published mapping.

Upserts: with an external ``key``, an item whose key names a live record updates it (the record's current
version: the source is the newer truth), else it is created. A new record whose source names a state its
workflow reaches by a transition (a paid shop order: ``confirmed``) is created in the initial state and then
moved there by an update, so the transition's grant, condition and rules apply as for a person's confirm. Lookup records to create (``missing: create``)
are created once per batch through the record service before the items that need them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lowcode.auth.permissions import PermissionService
from lowcode.core.jsonutil import to_jsonable
from lowcode.errors import LowcodeError, PermissionDenied
from lowcode.mappings.compiled import ChildMapping, CompiledMapping
from lowcode.mappings.engine import MAX_CHILD_ROWS, MappedItem, MappingError, NewLookup, map_rows
from lowcode.mappings.lookups import SqlLookups
from lowcode.runtime import row_buffer
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery, QueryService
from lowcode.runtime.records import RecordService

CREATED, UPDATED, REJECTED = "created", "updated", "rejected"


@dataclass
class Outcome:
    """What became of one source item: created / updated (with the record id) or rejected (with errors)."""

    index: int
    status: str
    record_id: int | None = None
    errors: list[MappingError] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The outcome as JSON."""
        return {
            "index": self.index,
            "status": self.status,
            "id": self.record_id,
            "errors": [e.as_json() for e in self.errors],
        }


class MappingService:
    """Maps sources with a compiled mapping and writes the results through the record service."""

    def __init__(self, records: RecordService, queries: QueryService, permissions: PermissionService):
        self.records = records
        self.queries = queries
        self.permissions = permissions

    def writer_lookups(self, ctx: WriteContext) -> SqlLookups:
        """Lookups for writes: every live record (the record service checks the links the writer may set)."""
        return SqlLookups(ctx.session)

    def reader_lookups(self, ctx: WriteContext) -> SqlLookups:
        """Lookups for previews: only the records the actor may read (none of an entity they may not read)."""

        def scope(entity: CompiledEntity) -> sa.Select | None:
            try:
                return self.queries.visible_ids(ctx, entity)
            except PermissionDenied:
                return sa.select(entity.table.c.id).where(sa.false())

        return SqlLookups(ctx.session, scope)

    def related_rows(
        self, ctx: WriteContext, child: ChildMapping, record_id: int, limit: int = MAX_CHILD_ROWS
    ) -> list[dict[str, Any]]:
        """A related child's source rows: the related entity's rows linking to record ``record_id`` and
        meeting ``where``, read with the actor's record rules and without their hidden fields."""
        spec = child.related
        if spec is None:
            return []
        entity = ctx.snapshot.entity(child.entity.app, spec.entity)
        link = {"field": spec.link, "op": "=", "value": record_id}
        condition = {"all": [link, dict(spec.where)]} if spec.where else link
        query = ListQuery(condition=condition, limit=limit, with_total=False)
        page = self.queries.list(ctx, entity.app, entity.name, query)
        hidden = self.permissions.hidden_fields(ctx.actor, entity)
        return [{k: v for k, v in row.items() if k not in hidden} for row in page.records]

    def map_items(
        self,
        ctx: WriteContext,
        mapping: CompiledMapping,
        items: Sequence[Any],
        lookups: SqlLookups,
        related: Sequence[Mapping[str, Sequence[Any]]] | None = None,
    ) -> list[MappedItem]:
        """Map a batch without writing (one query per lookup for the batch); ``related``: per item, the rows
        of the children fed by related rows (:meth:`related_rows`)."""
        return map_rows(mapping, items, lookups, related)

    def create_from_source(
        self, ctx: WriteContext, mapping: CompiledMapping, items: Sequence[Any]
    ) -> list[Outcome]:
        """Map ``items`` and write each through the record service in its own savepoint: one item's refusal
        (mapping errors, validation, permissions, rules) rejects that item only, with its errors."""
        return self._write_each(ctx, mapping, self.map_items(ctx, mapping, items, self.writer_lookups(ctx)))

    def _write_each(
        self, ctx: WriteContext, mapping: CompiledMapping, mapped: Sequence[MappedItem]
    ) -> list[Outcome]:
        created: dict[tuple[str, str, Any], int] = {}
        outcomes = []
        with row_buffer.collecting(ctx.session):  # the items' audit, outbox and rule rows written together
            for item in mapped:
                if not item.ok:
                    outcomes.append(Outcome(item.index, REJECTED, errors=item.errors))
                    continue
                known = set(created)
                try:
                    with row_buffer.savepoint(ctx.session):  # a rejected item's rows go with it
                        outcome = self._write(ctx, mapping, item, created)
                except LowcodeError as exc:
                    for ident in set(created) - known:  # rolled back with the item: made again when needed
                        del created[ident]
                    outcomes.append(Outcome(item.index, REJECTED, errors=_errors_of(exc)))
                else:
                    outcomes.append(outcome)
        return outcomes

    def create_batch_from_source(
        self, ctx: WriteContext, mapping: CompiledMapping, items: Sequence[Any]
    ) -> list[Outcome]:
        """:meth:`create_from_source` for large batches (spreadsheet import): the items that are plain creates
        (no lookup record to make, no live record under their key, no earlier item of the batch with the
        same key) go through the record service's bulk create, each item on its own (``each``: a refused item
        is left out with its error); the others follow one by one, in order, as in :meth:`create_from_source`."""
        mapped = self.map_items(ctx, mapping, items, self.writer_lookups(ctx))
        live = self._live_keys(ctx, mapping, [i.key for i in mapped if i.ok and i.key is not None])
        seen: set[Any] = set()
        plain, rest = [], []
        for item in mapped:
            simple = item.ok and not item.creates and item.key not in live and item.key not in seen
            (plain if simple else rest).append(item)
            if item.key is not None:
                seen.add(item.key)
        outcomes: dict[int, Outcome] = {}
        if plain:
            data = [_with_ids(i.data(), {}) for i in plain]
            bulk = self.records.create_many(ctx, mapping.app, mapping.target.name, data, each=True)
            for position, exc in bulk.failures:
                outcomes[plain[position].index] = Outcome(
                    plain[position].index, REJECTED, errors=_errors_of(exc)
                )
            for position, record in bulk.records.items():
                outcomes[plain[position].index] = Outcome(plain[position].index, CREATED, record["id"])
        for outcome in self._write_each(ctx, mapping, rest):
            outcomes[outcome.index] = outcome
        return [outcomes[i.index] for i in mapped]

    @staticmethod
    def _live_keys(ctx: WriteContext, mapping: CompiledMapping, keys: list[Any]) -> set[Any]:
        if mapping.key is None or not keys:
            return set()
        column = mapping.target.table.c[mapping.key[1].name]
        found: set[Any] = set()
        for start in range(0, len(keys), 900):
            query = sa.select(column).where(
                column.in_(keys[start : start + 900]), mapping.target.table.c.deleted_at.is_(None)
            )
            found.update(ctx.session.scalars(query))
        return found

    def _write(self, ctx: WriteContext, mapping: CompiledMapping, item: MappedItem, created: dict) -> Outcome:
        for new in item.creates:
            ident = (new.entity, new.by, new.key)
            if ident not in created:
                record = self.records.create(ctx, mapping.app, new.entity, {**new.values, new.by: new.key})
                created[ident] = record["id"]
        data = _with_ids(item.data(), created)
        existing = self._existing(ctx, mapping, item)
        if existing is not None:
            record_id, version = existing
            self.records.update(ctx, mapping.app, mapping.target.name, record_id, data, version)
            return Outcome(item.index, UPDATED, record_id)
        state = _state_by_transition(mapping.target, data)
        record = self.records.create(ctx, mapping.app, mapping.target.name, data)
        if state is not None:  # created in the initial state, then moved on as a person would
            changed = {mapping.target.workflow.state_field: state}
            self.records.update(
                ctx, mapping.app, mapping.target.name, record["id"], changed, record["version"]
            )
        return Outcome(item.index, CREATED, record["id"])

    @staticmethod
    def _existing(ctx: WriteContext, mapping: CompiledMapping, item: MappedItem) -> tuple[int, int] | None:
        if mapping.key is None or item.key is None:
            return None
        table = mapping.target.table
        row = ctx.session.execute(
            sa.select(table.c.id, table.c.version).where(
                table.c[mapping.key[1].name] == item.key, table.c.deleted_at.is_(None)
            )
        ).first()
        return (row[0], row[1]) if row is not None else None


def _state_by_transition(entity: CompiledEntity, data: dict[str, Any]) -> Any:
    """The state a new record's source names when it is not an initial state of the target's workflow: taken
    out of ``data`` (the record is created in its initial state) and returned, to be reached by an update
    (the workflow's transition, with its grants, conditions and rules). ``None`` when there is nothing to do."""
    workflow = entity.workflow
    if workflow is None or data.get(workflow.state_field) in (None, *workflow.initial):
        return None
    return data.pop(workflow.state_field)


def _with_ids(data: Mapping[str, Any], created: Mapping[tuple[str, str, Any], int]) -> dict[str, Any]:
    def one(value: Any) -> Any:
        if isinstance(value, NewLookup):
            return created[(value.entity, value.by, value.key)]
        if isinstance(value, list):
            return [{k: one(v) for k, v in row.items()} for row in value]
        return value

    return {k: one(v) for k, v in data.items()}


def _errors_of(exc: LowcodeError) -> list[MappingError]:
    if exc.fields:
        return [
            MappingError("", name, "; ".join(map(str, msgs)) if isinstance(msgs, list) else str(msgs))
            for name, msgs in exc.fields.items()
        ]
    return [MappingError("", "", str(exc.message))]


def item_json(item: MappedItem) -> dict[str, Any]:
    """A mapped item as JSON for previews: values and lines (a record to create shown as ``{"new": ...}``)."""

    def shown(value: Any) -> Any:
        return value.as_json() if isinstance(value, NewLookup) else to_jsonable(value)

    return {
        "index": item.index,
        "ok": item.ok,
        "key": to_jsonable(item.key),
        "values": {k: shown(v) for k, v in item.values.items()},
        "children": {
            name: [{k: shown(v) for k, v in row.items()} for row in rows]
            for name, rows in item.children.items()
        },
        "creates": [{"entity": c.entity, c.by: c.key, **to_jsonable(dict(c.values))} for c in item.creates],
        "errors": [e.as_json() for e in item.errors],
    }
