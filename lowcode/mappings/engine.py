"""The mapping engine: source items -> each one's target values and child rows, or its errors (each with the
source path and the target field). Nothing is written here: :mod:`lowcode.mappings.service` writes through
the record service.

``map_rows(mapping, items, lookups)`` maps a batch: every entry's source read, value-mapped, date-parsed and
cast per item; then each lookup resolved once for the whole batch (:mod:`lookups`); then computed values
(expressions over ``source``, ``parent`` and the values mapped so far). ``map_payload`` and ``map_record``
map one item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lowcode.errors import LowcodeError
from lowcode.mappings.casts import CastError, cast, map_value, parse_date
from lowcode.mappings.compiled import ChildMapping, CompiledMapping, Entry, LookupSpec, RelatedSource
from lowcode.mappings.lookups import Lookups
from lowcode.mappings.paths import MISSING, PathError, read_path

MAX_CHILD_ROWS = 5000
"""The most rows one source list may give a child table."""


@dataclass(frozen=True)
class MappingError:
    """Why one value could not be mapped: the source path it came from and the target field it was for."""

    source: str
    field: str
    message: str

    def as_json(self) -> dict[str, str]:
        """The error as JSON (API answers, previews)."""
        return {"source": self.source, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class NewLookup:
    """A record a lookup creates (``missing: create``) before the mapped record is written; ``values`` are
    its other fields read from the same source item."""

    entity: str
    by: str
    key: Any
    values: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        """How previews show the value of a field whose record will be created."""
        return {"new": self.entity, self.by: self.key}


@dataclass
class MappedItem:
    """The result of one source item: the target's values and child rows, or errors; ``key`` the external
    key (upserts); ``creates`` the lookup records to create first (their fields hold a :class:`NewLookup`)."""

    index: int
    values: dict[str, Any] = field(default_factory=dict)
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: list[MappingError] = field(default_factory=list)
    key: Any = None

    @property
    def ok(self) -> bool:
        """Whether the item mapped without an error."""
        return not self.errors

    @property
    def creates(self) -> list[NewLookup]:
        """The distinct lookup records this item needs created."""
        rows = [self.values, *(r for rows in self.children.values() for r in rows)]
        found = {(v.entity, v.by, v.key): v for r in rows for v in r.values() if isinstance(v, NewLookup)}
        return list(found.values())

    def data(self) -> dict[str, Any]:
        """The record service's input: values with the child rows under their fields."""
        return {**self.values, **self.children}


@dataclass
class _Row:
    """A row being mapped: its values, the source item it reads, where its errors go."""

    item: MappedItem
    values: dict[str, Any]
    source: Any
    parent: dict[str, Any] | None
    source_prefix: str
    field_prefix: str
    fields: tuple[str, ...] = ()
    names: Mapping[str, Any] = field(default_factory=dict)
    """Further names its expressions read (related rows: ``record``, ``matched``)."""

    def error(self, entry: Entry | None, source: str, message: str, field_name: str = "") -> None:
        name = entry.field.name if entry is not None else field_name
        where = self.source_prefix + source if source else self.source_prefix.rstrip(".") or "$"
        self.item.errors.append(MappingError(where, (self.field_prefix + name).rstrip("."), message))


def map_payload(mapping: CompiledMapping, payload: Any, lookups: Lookups) -> MappedItem:
    """Map one external payload (or spreadsheet row)."""
    return map_rows(mapping, [payload], lookups)[0]


def map_record(
    mapping: CompiledMapping,
    record: Mapping[str, Any],
    lookups: Lookups,
    related: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> MappedItem:
    """Map one record of the mapping's source entity (as the query service reads it, child rows included);
    ``related``: the rows of each child fed by related rows (child field -> rows), read by the caller."""
    if mapping.source_kind != "record":
        raise LowcodeError(f"mapping '{mapping.name}' does not map records")
    return map_rows(mapping, [record], lookups, [related or {}])[0]


def map_rows(
    mapping: CompiledMapping,
    items: Sequence[Any],
    lookups: Lookups,
    related: Sequence[Mapping[str, Sequence[Mapping[str, Any]]]] | None = None,
) -> list[MappedItem]:
    """Map a batch; one result per item, in order. Lookups: one ``lookups.ids`` call per lookup.
    ``related[i]``: item i's related rows per child field (children with a ``related`` source)."""
    results: list[MappedItem] = []
    rows: list[tuple[_Row, tuple[Entry, ...]]] = []
    for index, source in enumerate(items):
        item = MappedItem(index)
        results.append(item)
        if not isinstance(source, Mapping):
            item.errors.append(MappingError("$", "", "the item is not an object"))
            continue
        top = _Row(item, item.values, source, None, "", "", tuple(mapping.target.fields))
        rows.append((top, mapping.entries))
        _read_key(mapping, top)
        found = related[index] if related is not None and index < len(related) else {}
        for child in mapping.children:
            rows.extend((row, child.entries) for row in _child_rows(child, top, found))
    pending: dict[tuple[str, str], list[tuple[_Row, Entry, Any]]] = {}
    for row, entries in rows:
        for entry in entries:
            if entry.expression is None:
                _read_entry(row, entry, pending)
    _resolve(pending, lookups)
    for row, entries in rows:
        for entry in entries:
            if entry.expression is not None:
                _compute(row, entry)
    return results


def _read_key(mapping: CompiledMapping, row: _Row) -> None:
    if mapping.key is None:
        return
    path, key_field = mapping.key
    try:
        raw = read_path(row.source, path)
        if raw is MISSING or raw is None or raw == "":
            row.error(None, path.text, "the external key is missing", key_field.name)
            return
        row.item.key = cast(raw, key_field)
        row.values[key_field.name] = row.item.key
    except (PathError, CastError) as exc:
        row.error(None, path.text, str(exc), key_field.name)


def _child_rows(child: ChildMapping, top: _Row, related: Mapping[str, Sequence[Any]]) -> list[_Row]:
    if child.related is not None:
        found = related.get(child.field, [])
    else:
        try:
            found = read_path(top.source, child.path)
        except PathError as exc:
            top.error(None, child.path.text, str(exc), child.field)
            return []
    if found is MISSING or found is None:
        top.item.children[child.field] = []
        return []
    if not isinstance(found, Sequence) or isinstance(found, (str, bytes)):
        top.error(None, child.path.text, "expected a list", child.field)
        return []
    if len(found) > MAX_CHILD_ROWS:
        top.error(None, child.path.text, f"more than {MAX_CHILD_ROWS} rows", child.field)
        return []
    made = top.item.children.setdefault(child.field, [])
    rows = []
    for i, element in enumerate(found):
        values: dict[str, Any] = {}
        made.append(values)
        prefixes = f"{child.path.text}[{i}].", f"{child.field}[{i}]."
        row = _Row(top.item, values, element, top.values, *prefixes, tuple(child.entity.fields))
        if not isinstance(element, Mapping):
            row.error(None, "", "the row is not an object", "")
            continue
        if child.related is not None:
            row.names = {"record": top.source, **_matched(child.related, top.source, element)}
        rows.append(row)
    return rows


def _matched(related: RelatedSource, record: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """``matched``: the first row of the source record's child table with the related row's value."""
    if related.match is None:
        return {}
    child, on = related.match
    rows = record.get(child) or []
    found = next((r for r in rows if isinstance(r, Mapping) and r.get(on) == row.get(on)), None)
    return {"matched": found}


def _empty(value: Any) -> bool:
    return value is MISSING or value is None or value == ""


def _read_entry(row: _Row, entry: Entry, pending: dict) -> None:
    if entry.path is None:  # a default only
        if entry.default is not MISSING:
            _set(row, entry, entry.default)
        return
    try:
        raw = read_path(row.source, entry.path)
    except PathError as exc:
        row.error(entry, entry.path.text, str(exc))
        return
    if _empty(raw):
        if entry.required:
            row.error(entry, entry.path.text, "missing value")
        elif entry.default is not MISSING:
            _set(row, entry, entry.default)
        elif raw is not MISSING:
            row.values[entry.field.name] = None
        return
    try:
        value = map_value(raw, entry.values) if entry.values is not None else raw
        if entry.date_format and value is not None:
            value = parse_date(value, entry.date_format, entry.field.ftype.kind)
        if entry.lookup is not None and value is not None:
            key = cast(value, entry.lookup.by)
            pending.setdefault(entry.lookup.key, []).append((row, entry, key))
            row.values[entry.field.name] = None
            return
        row.values[entry.field.name] = cast(value, entry.field)
    except CastError as exc:
        row.error(entry, entry.path.text, str(exc))


def _set(row: _Row, entry: Entry, value: Any) -> None:
    try:
        row.values[entry.field.name] = cast(value, entry.field)
    except CastError as exc:
        row.error(entry, entry.source_text or "default", f"default: {exc}")


def _resolve(pending: dict[tuple[str, str], list[tuple[_Row, Entry, Any]]], lookups: Lookups) -> None:
    for waiting in pending.values():
        spec: LookupSpec = waiting[0][1].lookup  # type: ignore[assignment]
        found = lookups.ids(spec, {key for _row, _entry, key in waiting})
        for row, entry, key in waiting:
            if key in found:
                row.values[entry.field.name] = found[key]
            elif spec.create:
                row.values[entry.field.name] = NewLookup(
                    spec.entity.name, spec.by.name, key, _create_values(row, spec)
                )
            else:
                text = entry.path.text if entry.path is not None else ""
                row.error(entry, text, f"no {spec.entity.name} with {spec.by.name} '{key}'")


def _create_values(row: _Row, spec: LookupSpec) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for target, path in spec.create_fields:
        try:
            raw = read_path(row.source, path)
            if not _empty(raw):
                values[target.name] = cast(raw, target)
        except (PathError, CastError) as exc:
            row.error(None, path.text, f"{spec.entity.name}.{target.name}: {exc}", "")
    return values


def entry_names(row: _Row) -> list[str]:
    """The fields of the row's entity: names an expression may read (None until mapped)."""
    return list(row.fields)


def _compute(row: _Row, entry: Entry) -> None:
    values = {k: None if isinstance(v, NewLookup) else v for k, v in row.values.items()}
    names = {
        **dict.fromkeys(entry_names(row), None),
        **values,
        "source": row.source,
        "parent": row.parent or {},
        **row.names,
    }
    try:
        value = entry.expression.evaluate(names)  # type: ignore[union-attr]
        row.values[entry.field.name] = cast(value, entry.field)
    except CastError as exc:
        row.error(entry, entry.source_text, str(exc))
    except LowcodeError as exc:
        row.error(entry, entry.source_text, exc.message if hasattr(exc, "message") else str(exc))
