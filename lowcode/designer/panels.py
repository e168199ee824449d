"""Property panels generated from JSON Schemas: the inputs of a panel, and the posted form read back.

A panel edits one JSON object (a field of an entity, with its type's ``options``) against a JSON Schema - the
entity schema's field item and the field type's ``options_schema`` - so a new field type or option appears in
the designer without designer code. The widget of a property follows from its schema: ``enum`` -> a choice,
``boolean`` -> a checkbox, ``integer`` -> a whole number, a label (``lowcode:common#/$defs/label``) -> one box
per language, an array of objects -> rows with add and remove, a nested object -> a group; an ``x-widget``
annotation names what the schema cannot say (``entity``: an entity of the app, ``expression``: a formula
checked as you type, ``field``: a field of the same entity, ``message``: a text per language, ...), and the
designer supplies the choices. An object whose values are expressions (``{field: expression}``) is a ``map``
of key/value rows; what no widget fits (a condition, ``oneOf`` shapes) is edited as ``json`` text.

Posted names are ``p:<path>`` (``p:options/choices/0/value``); labels add ``:<language>``; a checkbox posts
``b:<path>`` beside it so that "unticked" is known; a row list posts ``n:<path>`` (its row count) and
``del:<path>/<i>`` for rows to drop; a map posts ``p:<path>/<i>/key`` and ``p:<path>/<i>/value`` (a blank key
drops the row). Reading back never judges values: the definition's JSON Schema does that
when the draft is saved, and its errors come back by the same paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.core.numbers import int_from_text
from lowcode.errors import LowcodeError

LABEL_REF = "lowcode:common#/$defs/label"
LANGUAGES = ("en", "zh-CN")
MAX_ROWS = 200
"""Most rows a list property accepts from one post (choices of a select)."""

Choices = Callable[[str], list[tuple[str, str]]]
"""The designer's choices for an ``x-widget`` (``entity`` -> the app's entities as (value, text))."""


@dataclass
class Input:
    """One input of a panel: where its value lives, how it is shown, and its sub-inputs for groups and rows."""

    path: str
    key: str
    widget: str
    value: Any = None
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    children: list[Input] = field(default_factory=list)
    rows: list[list[Input]] = field(default_factory=list)
    key_choices: list[tuple[str, str]] = field(default_factory=list)
    """A map's keys as a choice (its schema's ``x-keys`` names the designer's choices), else free text."""
    label: str | None = None
    """The panel's label, where its designer gives one (else the shared property label)."""
    model: Any = None
    """What a designer's own widget draws (the rule panel's condition builder, recipients, lines)."""


def widget_of(schema: Mapping[str, Any]) -> str:
    """The widget a property's schema calls for."""
    if "x-widget" in schema:
        return schema["x-widget"]
    if schema.get("$ref") == LABEL_REF:
        return "label"
    if "enum" in schema:
        return "select"
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if kinds == {"boolean"}:
        return "checkbox"
    if kinds == {"integer"}:
        return "integer"
    if kind == "array":
        items = schema.get("items") or {}
        return "rows" if items.get("type") == "object" else "tags"
    if kind == "object" and "properties" in schema:
        return "group"
    if kind == "object":
        extra = schema.get("additionalProperties")
        return "map" if isinstance(extra, Mapping) and "type" in extra and _accepts_string(extra) else "json"
    if kind is None and ("oneOf" in schema or "anyOf" in schema):
        return "json"
    if schema.get("maxLength", 0) > 200:
        return "textarea"
    return "text"


def build_inputs(schema: Mapping[str, Any], value: Any, choices: Choices, path: str = "") -> list[Input]:
    """The inputs of an object schema for ``value`` (missing properties show empty)."""
    value = value if isinstance(value, Mapping) else {}
    required = set(schema.get("required") or ())
    inputs = []
    for key, sub in (schema.get("properties") or {}).items():
        sub_path = f"{path}/{key}" if path else key
        widget = widget_of(sub)
        item = Input(sub_path, key, widget, value.get(key), key in required)
        if widget == "select":
            item.choices = [(str(v), str(v)) for v in sub["enum"]]
        elif widget not in _STRUCTURED:
            item.choices = choices(widget)
        if widget == "group":
            item.children = build_inputs(sub, value.get(key), choices, sub_path)
        elif widget == "json" and item.value is not None:
            item.value = dumps(item.value)
        elif widget == "map":
            item.value = dict(item.value) if isinstance(item.value, Mapping) else {}
            item.key_choices = choices(sub["x-keys"]) if sub.get("x-keys") else []
        elif widget == "rows":
            rows = value.get(key) if isinstance(value.get(key), list) else []
            item.rows = [
                build_inputs(sub["items"], row, choices, f"{sub_path}/{i}") for i, row in enumerate(rows)
            ]
        inputs.append(item)
    return inputs


_STRUCTURED = frozenset(
    {"group", "rows", "label", "message", "checkbox", "integer", "text", "textarea", "tags", "json", "map"}
)
MAX_JSON_DEPTH = 32


def read_inputs(schema: Mapping[str, Any], form: Mapping[str, str], path: str = "") -> dict[str, Any]:
    """The object a posted panel describes; blank optional properties are left out."""
    result: dict[str, Any] = {}
    for key, sub in (schema.get("properties") or {}).items():
        sub_path = f"{path}/{key}" if path else key
        value = _read_one(sub, widget_of(sub), form, sub_path)
        if value is not _ABSENT:
            result[key] = value
    return result


_ABSENT = object()


def _read_one(schema: Mapping[str, Any], widget: str, form: Mapping[str, str], path: str) -> Any:
    if widget == "checkbox":
        if f"b:{path}" not in form:
            return _ABSENT
        return f"p:{path}" in form
    if widget in ("label", "message"):
        return read_label(form, f"p:{path}") or _ABSENT
    if widget == "map":
        return _read_map(form, path)
    if widget == "group":
        if not any(name.startswith(f"p:{path}/") or name.startswith(f"b:{path}/") for name in form):
            return _ABSENT
        group = read_inputs(schema, form, path)
        return group or _ABSENT
    if widget == "rows":
        return _read_rows(schema, form, path)
    raw = form.get(f"p:{path}")
    if raw is None or raw.strip() == "":
        return _ABSENT
    raw = raw.strip()
    if widget == "integer":
        return _integer(raw)
    if widget == "tags":
        return [part.strip() for part in raw.split(",") if part.strip()]
    if widget == "json":
        try:
            return loads_exact(raw, MAX_JSON_DEPTH)
        except LowcodeError:
            return raw  # the schema refuses text where it wants an object, with its path
    if _accepts_integer(schema) and not _accepts_string(schema):
        return _integer(raw)
    return raw


def read_label(form: Mapping[str, str], prefix: str) -> dict[str, str]:
    """A label posted as one box per language (``<prefix>:en``, ``<prefix>:zh-CN``), blank ones left out."""
    label = {lang: (form.get(f"{prefix}:{lang}") or "").strip() for lang in LANGUAGES}
    return {lang: text for lang, text in label.items() if text}


def _read_rows(schema: Mapping[str, Any], form: Mapping[str, str], path: str) -> Any:
    count = (
        int_from_text(form.get(f"n:{path}", "0") or "0") if (form.get(f"n:{path}") or "0").isdigit() else 0
    )
    rows = []
    for i in range(min(count, MAX_ROWS)):
        if f"del:{path}/{i}" in form:
            continue
        row = read_inputs(schema.get("items") or {}, form, f"{path}/{i}")
        if row:
            rows.append(row)
    if f"add:{path}" in form:
        rows.append(new_row(schema.get("items") or {}, len(rows) + 1))
    return rows if rows or f"n:{path}" in form else _ABSENT


def _read_map(form: Mapping[str, str], path: str) -> Any:
    """A ``{key: value}`` object posted as rows (``n:<path>`` of them); rows with a blank key are left out."""
    raw_count = form.get(f"n:{path}")
    if raw_count is None:
        return _ABSENT
    count = int_from_text(raw_count) if raw_count.isdigit() else 0
    result: dict[str, str] = {}
    for i in range(min(count, MAX_ROWS)):
        key = (form.get(f"p:{path}/{i}/key") or "").strip()
        if key and f"del:{path}/{i}" not in form:
            result[key] = (form.get(f"p:{path}/{i}/value") or "").strip()
    return result


def _integer(raw: str) -> Any:
    try:
        return int_from_text(raw)
    except ValueError:
        return raw  # the schema refuses it, with its path


def _accepts_integer(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "integer" or (isinstance(kind, list) and "integer" in kind)


def _accepts_string(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind is None or kind == "string" or (isinstance(kind, list) and "string" in kind)


def new_row(schema: Mapping[str, Any], number: int) -> dict[str, Any]:
    """A row added to a list property: its required text properties filled (``value_2``) so that the row is
    valid at once and the list can be saved before it is edited."""
    props = schema.get("properties") or {}
    return {
        key: f"{key}_{number}"
        for key in schema.get("required") or ()
        if widget_of(props.get(key, {})) == "text"
    }
