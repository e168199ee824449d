"""The outbound direction: a record (with its child rows) -> a payload, from the same mapping.

Declared ``outbound`` entries, when the mapping has them, make the payload's top level (a target field or an
expression over the record, written at a key path). Otherwise each invertible inbound entry is reversed: a
plain path of keys (no index, no ``[*]``, not a spreadsheet column with a computed source), no expression;
a value map is inverted (our value -> the first code mapping to it), a date format written with strftime, a
lookup turned back into the looked-up record's key (one query per lookup per batch). Child tables are
reversed into lists at their source paths. Values are written as JSON: decimals as exact strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from lowcode.core.jsonutil import to_jsonable
from lowcode.mappings.compiled import CompiledMapping, Entry
from lowcode.mappings.lookups import Lookups
from lowcode.mappings.paths import EVERY, PathError, SourcePath, write_path


def invertible(entry: Entry) -> bool:
    """Whether an inbound entry can be reversed: a key-only path and no expression."""
    return (
        entry.path is not None
        and entry.expression is None
        and bool(entry.path.steps)
        and all(isinstance(s, str) and s != EVERY for s in entry.path.steps)
    )


def to_payloads(
    mapping: CompiledMapping, records: Sequence[Mapping[str, Any]], lookups: Lookups
) -> list[dict[str, Any]]:
    """The outbound payload of each record, in order (lookup keys read once per lookup for the batch)."""
    keys = _lookup_keys(mapping, records, lookups)
    return [_payload(mapping, record, keys) for record in records]


def to_payload(mapping: CompiledMapping, record: Mapping[str, Any], lookups: Lookups) -> dict[str, Any]:
    """The outbound payload of one record."""
    return to_payloads(mapping, [record], lookups)[0]


def _lookup_keys(mapping, records, lookups: Lookups) -> dict[tuple[str, str], dict[int, Any]]:
    wanted: dict[tuple[str, str], set[int]] = {}
    specs = {}
    for entries, rows in _entry_rows(mapping, records):
        for entry in entries:
            if entry.lookup is not None and invertible(entry):
                specs[entry.lookup.key] = entry.lookup
                ids = wanted.setdefault(entry.lookup.key, set())
                ids.update(r[entry.field.name] for r in rows if isinstance(r.get(entry.field.name), int))
    return {k: lookups.keys(specs[k], ids) for k, ids in wanted.items()}


def _entry_rows(mapping: CompiledMapping, records):
    yield mapping.entries, records
    for child in mapping.children:
        yield child.entries, [row for record in records for row in record.get(child.field) or []]


def _payload(mapping: CompiledMapping, record: Mapping[str, Any], keys) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if mapping.outbound:
        for out in mapping.outbound:
            if out.field is not None:
                value = record.get(out.field.name)
            else:
                value = out.expression.evaluate(dict(record))  # type: ignore[union-attr]
            _put(payload, out.path, to_jsonable(value))
    else:
        if mapping.key is not None and _keys_only(mapping.key[0]):
            _put(payload, mapping.key[0], to_jsonable(record.get(mapping.key[1].name)))
        _reverse_entries(payload, mapping.entries, record, keys)
    for child in mapping.children:
        if child.related is not None or not _keys_only(child.path):  # related rows: nothing to write back
            continue
        rows = []
        for row in record.get(child.field) or []:
            out: dict[str, Any] = {}
            _reverse_entries(out, child.entries, row, keys)
            rows.append(out)
        _put(payload, child.path, rows)
    return payload


def _put(payload: dict[str, Any], path: SourcePath, value: Any) -> None:
    """Write a value; a path that crosses another entry's value is left out (never an error mid-payload)."""
    try:
        write_path(payload, path, value)
    except PathError:
        return


def _keys_only(path: SourcePath) -> bool:
    return bool(path.steps) and all(isinstance(s, str) and s != EVERY for s in path.steps)


def _reverse_entries(payload: dict[str, Any], entries, record: Mapping[str, Any], keys) -> None:
    for entry in entries:
        if not invertible(entry) or entry.field.name not in record:
            continue
        value = record[entry.field.name]
        if entry.lookup is not None:
            value = keys.get(entry.lookup.key, {}).get(value)
        if entry.date_format:
            value = _formatted_date(value, entry.date_format)
        if entry.values is not None:
            value = _inverse_code(entry.values, value)
        _put(payload, entry.path, to_jsonable(value))  # type: ignore[arg-type]


def _formatted_date(value: Any, date_format: str) -> Any:
    """A date or datetime - also as the ISO text of a record read as JSON (the outbox's) - in the format."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime(date_format) if isinstance(value, (dt.date, dt.datetime)) else value


def _inverse_code(values: Mapping[str, Any], value: Any) -> Any:
    for code, ours in values["map"].items():
        if ours == value:
            return code
    return value
