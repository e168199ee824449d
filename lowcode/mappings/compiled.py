"""A published mapping compiled once per snapshot: its paths parsed, expressions compiled and every field it
names bound to the compiled target (and lookup) entities. :func:`compile_mapping` assumes the publish checks
(:mod:`lowcode.definitions.mapping_checks`) passed and raises :class:`MappingInvalid` when they did not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lowcode.errors import LowcodeError
from lowcode.expressions import Expression, compile_expression
from lowcode.mappings.paths import MISSING, PathError, SourcePath, column_path, parse_path
from lowcode.runtime.compiler import CompiledEntity, CompiledField


class MappingInvalid(LowcodeError):
    """A mapping that does not fit the published entities (its publish checks did not pass)."""


@dataclass(frozen=True)
class LookupSpec:
    """A lookup by a unique key: ``entity`` records found by ``by``; unknown keys are an error or created
    with ``create_fields`` (target field, source path of the same item)."""

    entity: CompiledEntity
    by: CompiledField
    create: bool
    create_fields: tuple[tuple[CompiledField, SourcePath], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """Lookups of one entity by one field share their queries within a batch."""
        return (self.entity.name, self.by.name)


@dataclass(frozen=True)
class Entry:
    """One field entry: where the value comes from (a path or an expression) and the steps on the way."""

    field: CompiledField
    path: SourcePath | None
    expression: Expression | None
    default: Any
    required: bool
    date_format: str | None
    values: Mapping[str, Any] | None
    lookup: LookupSpec | None

    @property
    def source_text(self) -> str:
        """How errors name the entry's source: its path, or ``=expression``."""
        if self.path is not None:
            return self.path.text
        return f"={self.expression.source}" if self.expression is not None else ""


@dataclass(frozen=True)
class RelatedSource:
    """A child table's rows read from another entity: its rows whose ``link`` names the source record and
    that meet ``where`` (a condition document); ``match`` = (child table of the source, field) pairs each
    row with the first source child row having the same value of that field."""

    entity: str
    link: str
    where: Mapping[str, Any] | None
    match: tuple[str, str] | None


@dataclass(frozen=True)
class ChildMapping:
    """A source list (or the rows of a related entity) mapped to a child table of the target."""

    field: str
    entity: CompiledEntity
    path: SourcePath
    entries: tuple[Entry, ...]
    related: RelatedSource | None = None


@dataclass(frozen=True)
class Offer:
    """The "create from" button of a record source: its label, the condition the source record must meet
    (a condition document, None: always) and its place among the record page's buttons."""

    label: Any
    when: Mapping[str, Any] | None
    order: int
    require_rows: tuple[str, ...] = ()
    """Child tables fed by related rows that must get at least one (else nothing is left to make)."""


@dataclass(frozen=True)
class OutboundEntry:
    """A declared entry of the outbound payload: a target field or an expression, written at ``path``."""

    path: SourcePath
    field: CompiledField | None
    expression: Expression | None


@dataclass(frozen=True)
class CompiledMapping:
    """A mapping ready to run: source kind, target, entries, children, external key and outbound entries."""

    app: str
    name: str
    definition: dict[str, Any]
    source_kind: str
    source_entity: str | None
    target: CompiledEntity
    entries: tuple[Entry, ...]
    children: tuple[ChildMapping, ...]
    key: tuple[SourcePath, CompiledField] | None
    outbound: tuple[OutboundEntry, ...]
    offer: Offer | None = None

    @property
    def lookups(self) -> list[LookupSpec]:
        """Every lookup of the mapping (top level and children), one per (entity, field)."""
        found: dict[tuple[str, str], LookupSpec] = {}
        for entry in (*self.entries, *(e for c in self.children for e in c.entries)):
            if entry.lookup is not None:
                found.setdefault(entry.lookup.key, entry.lookup)
        return list(found.values())


def compile_mapping(
    app: str, doc: Mapping[str, Any], entities: Mapping[tuple[str, str], CompiledEntity]
) -> CompiledMapping:
    """Compile a mapping document against the app's compiled entities. :raises MappingInvalid:"""
    try:
        return _Compiler(app, doc, entities).mapping()
    except (KeyError, PathError, LowcodeError) as exc:
        if isinstance(exc, MappingInvalid):
            raise
        raise MappingInvalid(f"mapping '{doc.get('name')}' does not compile: {exc}") from exc


class _Compiler:
    def __init__(self, app: str, doc: Mapping[str, Any], entities: Mapping[tuple[str, str], CompiledEntity]):
        self.app, self.doc, self.entities = app, doc, entities
        self.sheet = doc["source"]["kind"] == "sheet"

    def entity(self, name: str) -> CompiledEntity:
        return self.entities[(self.app, name)]

    def path(self, text: str) -> SourcePath:
        return column_path(text) if self.sheet else parse_path(text)

    def mapping(self) -> CompiledMapping:
        doc = self.doc
        target = self.entity(doc["target"])
        key = None
        if doc.get("key"):
            key = (self.path(doc["key"]["source"]), target.fields[doc["key"]["field"]])
        children = tuple(self.child(child, target) for child in doc.get("children", []))
        outbound = tuple(
            OutboundEntry(
                parse_path(o["path"]),
                target.fields[o["field"]] if o.get("field") else None,
                compile_expression(o["expression"]) if o.get("expression") else None,
            )
            for o in doc.get("outbound", [])
        )
        return CompiledMapping(
            self.app,
            doc["name"],
            dict(doc),
            doc["source"]["kind"],
            doc["source"].get("entity"),
            target,
            tuple(self.entry(e, target) for e in doc["fields"]),
            children,
            key,
            outbound,
            _offer(doc.get("offer")),
        )

    def child(self, doc: Mapping[str, Any], target: CompiledEntity) -> ChildMapping:
        entity = self.entity(target.fields[doc["field"]].fdef.options["entity"])
        entries = tuple(self.entry(e, entity) for e in doc["fields"])
        spec = doc.get("related")
        if spec is None:
            return ChildMapping(doc["field"], entity, parse_path(doc["source"]).without_every, entries)
        self.entity(spec["entity"]).fields[spec["link"]]  # noqa: B018 - KeyError: does not fit
        match = (spec["match"]["child"], spec["match"]["on"]) if spec.get("match") else None
        related = RelatedSource(spec["entity"], spec["link"], spec.get("where"), match)
        return ChildMapping(doc["field"], entity, parse_path(spec["entity"]), entries, related)

    def entry(self, doc: Mapping[str, Any], entity: CompiledEntity) -> Entry:
        lookup = None
        if doc.get("lookup"):
            spec = doc["lookup"]
            looked = self.entity(spec["entity"])
            lookup = LookupSpec(
                looked,
                looked.fields[spec["by"]],
                spec.get("missing") == "create",
                tuple((looked.fields[f], self.path(p)) for f, p in spec.get("create", {}).items()),
            )
        return Entry(
            field=entity.fields[doc["field"]],
            path=self.path(doc["source"]) if doc.get("source") else None,
            expression=compile_expression(doc["expression"]) if doc.get("expression") else None,
            default=doc.get("default", MISSING),
            required=bool(doc.get("required")),
            date_format=doc.get("date_format"),
            values=doc.get("values"),
            lookup=lookup,
        )


def _offer(doc: Mapping[str, Any] | None) -> Offer | None:
    if not doc:
        return None
    return Offer(
        doc["label"], doc.get("when"), int(doc.get("order", 100)), tuple(doc.get("require_rows", ()))
    )
