""" "Create from": a record -> the draft of a new record of another entity, by a mapping whose source is that
record and that declares an ``offer`` (docs/MAPPINGS.md). Nothing is written here: the draft fills the new
record's form (or answers the API), and the user saves it through the record service like any other.

What the actor sees is what they may: an offer is made only while its condition holds on the record, to an
actor who may read the source and create the target; the source record is read with the actor's record rules
and without their hidden fields (a record outside them is not found), related rows likewise; the draft leaves
out the target's fields (and child fields) the actor may not write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lowcode.core.texts import Text, Versions
from lowcode.errors import NotFound, NotOffered, PermissionDenied
from lowcode.mappings.compiled import ChildMapping, CompiledMapping
from lowcode.mappings.engine import MAX_CHILD_ROWS, MappedItem, map_record
from lowcode.mappings.preview import readable_record
from lowcode.mappings.service import MappingService, item_json
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext


@dataclass(frozen=True)
class Draft:
    """A new record's values and child rows made from a source record (``errors``: values that could not be
    mapped; the rest is still filled in)."""

    mapping: CompiledMapping
    source_id: int
    item: MappedItem

    def data(self) -> dict[str, Any]:
        """The values and child rows, as a form or the record service takes them."""
        return self.item.data()

    def as_json(self) -> dict[str, Any]:
        """The API's answer: the mapping, target, source, and the draft's values, child rows and errors."""
        shown = item_json(self.item)
        return {
            "mapping": self.mapping.name,
            "target": self.mapping.target.name,
            "source": {"entity": self.mapping.source_entity, "id": self.source_id},
            "values": shown["values"],
            "children": shown["children"],
            "errors": shown["errors"],
        }


class CreateFrom:
    """Offers and drafts of "create from" mappings, through the permission and query services."""

    def __init__(self, mappings: MappingService):
        self.mappings = mappings
        self.permissions = mappings.permissions
        self.queries = mappings.queries

    def offered(
        self, ctx: WriteContext, entity: CompiledEntity, record: Mapping[str, Any]
    ) -> list[CompiledMapping]:
        """The mappings offered on ``record`` (as stored) to the actor: condition holds, the actor may read
        the source and create the target; in the offers' order, then by name."""
        found = []
        for (app, _name), mapping in ctx.snapshot.mappings.items():
            if app != entity.app or mapping.offer is None or mapping.source_entity != entity.name:
                continue
            try:
                self._authorize(ctx, mapping, entity)
            except PermissionDenied:
                continue
            if self._refusal(ctx, mapping, entity, record) is None and self._rows_left(
                ctx, mapping, record["id"]
            ):
                found.append(mapping)
        return sorted(found, key=lambda m: (m.offer.order, m.name))  # type: ignore[union-attr]

    def draft(self, ctx: WriteContext, app: str, name: str, record_id: int) -> Draft:
        """The draft made from record ``record_id`` of the mapping's source entity.

        :raises NotFound: no offered mapping ``name`` in ``app``, or a record the actor may not read.
        :raises PermissionDenied: the actor may not read the source or create the target.
        :raises NotOffered: the offer's condition does not hold on the record.
        """
        mapping = ctx.snapshot.mapping(app, name)
        if mapping.offer is None or mapping.source_entity is None:
            raise NotFound(f"The mapping '{name}' is not offered on records")
        source = ctx.snapshot.entity(app, mapping.source_entity)
        self._authorize(ctx, mapping, source)
        stored = self.queries.get(ctx, app, source.name, record_id)  # NotFound outside the record rules
        refusal = self._refusal(ctx, mapping, source, stored)
        if refusal is not None:
            raise NotOffered(refusal)
        record = readable_record(ctx, self.mappings, app, source.name, record_id)
        related = {c.field: self._related_rows(ctx, c, record_id) for c in mapping.children if c.related}
        if any(not related.get(name) for name in mapping.offer.require_rows):
            raise NotOffered(
                Text(
                    "Nothing is left to make a {target} from {entity} {title}",
                    target=Versions(dict(mapping.target.label), "en"),
                    entity=Versions(dict(source.label), "en"),
                    title=_title(source, stored),
                )
            )
        item = map_record(mapping, record, self.mappings.reader_lookups(ctx), related)
        self._drop_unwritable(ctx, mapping, item)
        return Draft(mapping, record_id, item)

    def _authorize(self, ctx: WriteContext, mapping: CompiledMapping, source: CompiledEntity) -> None:
        """The actor may create the target and read the source. :raises PermissionDenied:"""
        self.permissions.authorize(ctx.actor, mapping.target, "create")
        self.permissions.authorize(ctx.actor, source, "read")

    @staticmethod
    def _refusal(
        ctx: WriteContext, mapping: CompiledMapping, source: CompiledEntity, record: Mapping[str, Any]
    ) -> Text | None:
        """Why the offer's condition does not hold on the record as stored (None: it holds)."""
        when = mapping.offer.when if mapping.offer is not None else None
        if when is not None and not source.condition(when).matches(record, ctx.variables):
            return Text(
                "{entity} {title} is not in a state to make a {target} from",
                entity=Versions(dict(source.label), "en"),
                title=_title(source, record),
                target=Versions(dict(mapping.target.label), "en"),
            )
        return None

    def _rows_left(self, ctx: WriteContext, mapping: CompiledMapping, record_id: int) -> bool:
        """Whether each child the offer requires has a related row left (one row read per child)."""
        required = set(mapping.offer.require_rows) if mapping.offer is not None else set()
        children = [c for c in mapping.children if c.field in required and c.related is not None]
        return all(self._related_rows(ctx, c, record_id, limit=1) for c in children)

    def _related_rows(
        self, ctx: WriteContext, child: ChildMapping, record_id: int, limit: int = MAX_CHILD_ROWS
    ) -> list[dict[str, Any]]:
        """The related entity's rows linking to the record, meeting ``where``, read as the actor may."""
        return self.mappings.related_rows(ctx, child, record_id, limit)

    def _drop_unwritable(self, ctx: WriteContext, mapping: CompiledMapping, item: MappedItem) -> None:
        """Leave out what the actor may not write: the target's read-only or hidden fields, child tables
        they may not change, and the child fields their grants lock."""
        target = mapping.target
        barred = self.permissions.read_only_fields(ctx.actor, target) | self.permissions.hidden_fields(
            ctx.actor, target
        )
        for name in [n for n in item.values if n in barred]:
            del item.values[name]
        for child in mapping.children:
            if child.field in barred:
                item.children.pop(child.field, None)
                continue
            locked = self.permissions.read_only_fields(
                ctx.actor, child.entity
            ) | self.permissions.hidden_fields(ctx.actor, child.entity)
            for row in item.children.get(child.field, []):
                for name in [n for n in row if n in locked]:
                    del row[name]


def _title(entity: CompiledEntity, record: Mapping[str, Any]) -> str:
    """How a message names a record: its title field, else ``#id``."""
    title = record.get(entity.title_field) if entity.title_field else None
    return str(title) if title not in (None, "") else f"#{record.get('id')}"
