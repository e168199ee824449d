"""Field paths of reports: ``amount``, ``customer.name``, ``product.category.name`` (link fields), ``lines.amount``
(a child table: one row per line) and ``parent.order_date`` (a child table's rows reach their record).

Resolved against entity shapes that either the publish checks (:class:`AppDocuments`, no tables) or the compiled
snapshot provide, so both agree on what a path means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lowcode.fields.base import CHILD_SYSTEM_FIELDS
from lowcode.runtime.compiler import SYSTEM_KINDS, CompiledField

MAX_HOPS = 3
PARENT = "parent"
"""The step from a child table's row to the record holding it."""


class PathError(ValueError):
    """A path that names no field (the message says which step)."""


@dataclass(frozen=True)
class Hop:
    """One step of a path: through ``via`` (a field of the entity before, or ``parent``) to ``entity``."""

    via: str
    kind: str
    """``link`` (many to one), ``child`` (one to many: the rows of a child table) or ``parent``."""
    entity: str
    prefix: str
    """The path up to and including this step (``product.category``): one join per prefix."""


@dataclass(frozen=True)
class FieldPath:
    """A resolved path: its steps, the entity and field it ends on and that field's condition kind."""

    text: str
    hops: tuple[Hop, ...]
    entity: str
    field: str
    kind: str | None
    compiled: CompiledField | None
    """The final field bound to its type (None for system columns)."""

    @property
    def to_many(self) -> bool:
        """Whether the path passes a child table (each source record counts once per child row)."""
        return any(h.kind == "child" for h in self.hops)

    @property
    def prefix(self) -> str:
        """The join the final field is read from ("" = the source table)."""
        return self.hops[-1].prefix if self.hops else ""


@dataclass
class Shapes:
    """What paths resolve against: the fields of each entity of an app and which entities are child tables."""

    fields_of: Callable[[str], Mapping[str, CompiledField] | None]
    child_entities: frozenset[str]

    def parent_of(self, entity: str, names: list[str]) -> str | None:
        """The entity whose child table holds ``entity``'s rows (the first by name)."""
        for name in sorted(names):
            for cf in (self.fields_of(name) or {}).values():
                if getattr(cf.ftype, "holds_children", False) and cf.fdef.options.get("entity") == entity:
                    return name
        return None


def resolve_path(text: str, source: str, shapes: Shapes, entity_names: list[str]) -> FieldPath:
    """Resolve ``text`` from the ``source`` entity. :raises PathError: naming the step that fails."""
    parts = text.split(".")
    if len(parts) > MAX_HOPS + 1:
        raise PathError(f"'{text}' goes through more than {MAX_HOPS} links")
    entity, hops = source, []
    for i, step in enumerate(parts[:-1]):
        prefix = ".".join(parts[: i + 1])
        if step == PARENT and entity in shapes.child_entities:
            parent = shapes.parent_of(entity, entity_names)
            if parent is None:
                raise PathError(f"'{prefix}': no table holds {entity} as a child table")
            hops.append(Hop(PARENT, "parent", parent, prefix))
            entity = parent
            continue
        cf = (shapes.fields_of(entity) or {}).get(step)
        target = cf.fdef.options.get("entity") if cf is not None else None
        if cf is not None and getattr(cf.ftype, "references_entity", False) and target:
            hops.append(Hop(step, "link", target, prefix))
        elif cf is not None and getattr(cf.ftype, "holds_children", False) and target:
            if any(h.kind == "child" for h in hops):
                raise PathError(f"'{prefix}': a path may pass one child table only")
            hops.append(Hop(step, "child", target, prefix))
        else:
            raise PathError(f"'{prefix}': '{step}' is not a link field or child table of {entity}")
        entity = target
        if shapes.fields_of(entity) is None:
            raise PathError(f"'{prefix}': unknown entity '{entity}'")
    name = parts[-1]
    fields = shapes.fields_of(entity) or {}
    if name in SYSTEM_KINDS or name == "deleted_at":
        return FieldPath(text, tuple(hops), entity, name, SYSTEM_KINDS.get(name, "datetime"), None)
    if name in CHILD_SYSTEM_FIELDS and entity in shapes.child_entities:
        return FieldPath(text, tuple(hops), entity, name, "integer", None)
    cf = fields.get(name)
    if cf is None or not cf.has_column:
        raise PathError(f"'{text}': {entity} has no stored field '{name}'")
    return FieldPath(text, tuple(hops), entity, name, cf.ftype.value_kind(cf.fdef), cf)


def compiled_shapes(entities: Mapping[tuple[str, str], object], app: str) -> tuple[Shapes, list[str]]:
    """The shapes of an app's compiled entities (the snapshot's) and their names."""
    own = {name: e for (a, name), e in entities.items() if a == app}
    children = frozenset(name for name, e in own.items() if e.is_child)
    return Shapes(lambda name: own[name].fields if name in own else None, children), list(own)


def document_shapes(docs: object) -> tuple[Shapes, list[str]]:
    """The shapes of an app's entity documents as a publish will have them (:class:`AppDocuments`)."""
    entities = docs.entities
    children = frozenset(name for name, doc in entities.items() if doc.get("child"))
    return (
        Shapes(lambda name: docs.typed_fields(name) if name in entities else None, children),
        list(entities),
    )
