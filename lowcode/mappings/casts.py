"""Value steps of a field entry: value maps, date formats and the cast through the target field type's own
input parser (exact decimals: a float is refused, never rounded).

Each step raises :class:`CastError` with a message for the person who wrote the source; the engine adds the
source path and target field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import marshmallow as ma

from lowcode.runtime.compiler import CompiledField


class CastError(ValueError):
    """A source value that the entry cannot turn into the target field's value."""


_NO_DEFAULT = object()


def map_value(value: Any, values: Mapping[str, Any]) -> Any:
    """The value map of an entry: an external code (compared as text: ``1`` and ``"1"`` are one code) ->
    ours; an unknown code takes the map's ``default`` or raises :class:`CastError`."""
    table: Mapping[str, Any] = values["map"]
    code = code_text(value)
    if code in table:
        return table[code]
    default = values.get("default", _NO_DEFAULT)
    if default is _NO_DEFAULT:
        raise CastError(f"unknown code '{code}'")
    return default


def code_text(value: Any) -> str:
    """A code as text: numbers without exponent, booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def parse_date(value: Any, date_format: str, kind: str | None) -> Any:
    """A date or datetime source text read with a strptime format (``%d/%m/%Y``); dates and datetimes that
    are already values pass through."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    if not isinstance(value, str):
        raise CastError(f"expected a date text in the format '{date_format}'")
    try:
        parsed = dt.datetime.strptime(value.strip(), date_format)
    except ValueError:
        raise CastError(f"'{value[:40]}' does not match the date format '{date_format}'") from None
    return parsed.date() if kind == "date" else parsed


TEXT_KINDS = frozenset({"text"})


def cast(value: Any, field: CompiledField) -> Any:
    """The field type's parser applied to a source value: the value the record service will accept.

    Numbers become text for text fields (spreadsheet cells); a float is refused for numeric fields (send a
    decimal string) - the field's own parser says so. :raises CastError: with the parser's message."""
    if value is None:
        return None
    if field.ftype.kind in TEXT_KINDS and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        value = code_text(value)
    try:
        return parser_of(field).deserialize(value)
    except ma.ValidationError as exc:
        raise CastError(_message(exc.messages)) from None


def parser_of(field: CompiledField) -> ma.fields.Field:
    """The field type's input parser, built once per compiled field (kept on it, like the entity's caches)."""
    parser = field.__dict__.get("_mapping_parser")
    if parser is None:
        parser = field.__dict__["_mapping_parser"] = field.ftype.marshmallow_field(field.fdef)
    return parser


def _message(messages: Any) -> str:
    if isinstance(messages, list):
        return "; ".join(str(m) for m in messages)
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {_message(v)}" for k, v in messages.items())
    return str(messages)
