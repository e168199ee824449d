"""Form data <-> record data: bind posted fields to the dict the record service takes, and turn
stored values into the strings an HTML input shows.

Binding only converts shapes (empty string -> None, checkbox -> bool, multi select -> list, child rows
-> list of dicts in the order they were posted); the record service validates the values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict

from lowcode.core.numbers import digits_to_int, int_from_text
from lowcode.errors import BadRequest
from lowcode.runtime.compiler import CompiledField

ROW_KEY = re.compile(r"^(?P<field>[a-z][a-z0-9_]*)-(?P<row>[A-Za-z0-9_]{1,24})-(?P<col>[a-z][a-z0-9_]*)$")
CHECKED = frozenset({"on", "1", "true", "yes"})


def is_child_table(cf: CompiledField) -> bool:
    """Whether the field holds child rows."""
    return bool(getattr(cf.ftype, "holds_children", False))


def is_bindable(cf: CompiledField) -> bool:
    """Whether a form posts this field (stored, client-writable, not read-only, not an attachment)."""
    if is_child_table(cf):
        return True
    return (
        cf.has_column and not cf.ftype.computed and not cf.fdef.read_only and cf.ftype.widget != "attachment"
    )


def bind_value(cf: CompiledField, form: MultiDict, name: str) -> Any:
    """The posted value of one (non child-table) field named ``name`` in the form."""
    widget = cf.ftype.widget
    if widget == "checkbox":
        return form.get(name, "").strip().lower() in CHECKED
    if widget == "multi_select":
        return [v for v in form.getlist(name) if v.strip()]
    raw = form.get(name, "")
    return None if raw.strip() == "" else raw


def row_keys(form: MultiDict, field_name: str) -> list[str]:
    """Keys of the posted rows of a child table (``lines-<key>-<column>``), in posted order."""
    keys: list[str] = []
    for name in form:
        match = ROW_KEY.match(name)
        if match and match["field"] == field_name and match["row"] not in keys:
            keys.append(match["row"])
    return keys


def _blank(value: Any) -> bool:
    return value in (None, False, [], "")


def bind_rows(columns: list[CompiledField], field_name: str, form: MultiDict) -> list[dict[str, Any]]:
    """The posted rows of a child table (``columns``: the child fields the form posts) as dicts;
    existing rows keep their ``id``; wholly blank new rows are dropped."""
    rows: list[dict[str, Any]] = []
    for key in row_keys(form, field_name):
        raw_id = form.get(f"{field_name}-{key}-id", "").strip()
        values = {cf.name: bind_value(cf, form, f"{field_name}-{key}-{cf.name}") for cf in columns}
        if not raw_id and all(_blank(v) for v in values.values()):
            continue
        number = digits_to_int(raw_id)
        row_id: Any = number if number is not None else (raw_id or None)  # other text: the service refuses it
        rows.append({"id": row_id, **values})
    return rows


def bind_form(
    fields: Iterable[CompiledField],
    children: Mapping[str, tuple[Any, list[CompiledField]]],
    form: MultiDict,
) -> dict[str, Any]:
    """The record dict of the posted form: ``fields`` are the plain fields it posts, ``children``
    maps each child-table field it posts to (child entity, posted columns)."""
    data: dict[str, Any] = {cf.name: bind_value(cf, form, cf.name) for cf in fields}
    for name, (_child, columns) in children.items():
        data[name] = bind_rows(columns, name, form)
    return data


def posted_version(form: MultiDict) -> int | None:
    """The record version the form was rendered with (hidden ``version`` field)."""
    raw = form.get("version", "").strip()
    if not raw:
        return None
    try:
        value = int_from_text(raw)
    except ValueError:
        value = 0
    if not 1 <= value < 2**63:
        raise BadRequest("The form's record version is not valid: reload the page and edit again")
    return value


def to_input(cf: CompiledField, value: Any) -> Any:
    """A stored (or posted) value as an input shows it: text, a bool for checkboxes, a list of
    strings for multi selects."""
    widget = cf.ftype.widget
    if widget == "checkbox":
        return bool(value)
    if widget == "multi_select":
        return [str(v) for v in value] if isinstance(value, list | tuple) else []
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(_input_places(cf, value), "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _input_places(cf: CompiledField, value: Decimal) -> Decimal:
    """A decimal with as many places as the field's number style shows at least: a quantity stored as
    ``2.000`` is typed and shown as ``2``, money keeps its ``2.50``; never fewer digits than the value has."""
    style = cf.ftype.number_style(cf.fdef)
    if style is None or not value.is_finite():
        return value
    trimmed = value.normalize()
    if trimmed == trimmed.to_integral_value():
        trimmed = trimmed.quantize(Decimal(1))
    places = max(-trimmed.as_tuple().exponent, style.min_places)
    return value.quantize(Decimal(1).scaleb(-places)) if places < -value.as_tuple().exponent else value
