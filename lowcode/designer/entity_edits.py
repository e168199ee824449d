"""The entity designer's edits as plain functions: entity document in, new entity document out.

Each edit returns a new document and a summary for the history; none of them judges the result - the draft
is validated when it is saved (JSON Schema, field-type options) and checked against the app when published.
The panel of a field is generated from the entity schema's field item and the field type's options schema
(:func:`field_panel_schema`), so a new field type needs no code here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from lowcode.designer.panels import LABEL_REF, Choices, read_inputs
from lowcode.expressions.renames import rename_name
from lowcode.fields.base import FieldType
from lowcode.fields.fetch import OPTION as FETCH_OPTION
from lowcode.fields.fetch import SCHEMA as FETCH_SCHEMA

Doc = dict[str, Any]
KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def field_panel_schema(ftype: FieldType) -> dict[str, Any]:
    """The JSON Schema a field's property panel edits: the common field properties and the type's options
    (stored, non-computed types may also fetch their value from a linked record)."""
    options = copy.deepcopy(ftype.options_schema)
    if not ftype.computed and getattr(ftype, "holds_children", False) is False:
        options.setdefault("properties", {})[FETCH_OPTION] = FETCH_SCHEMA
    props: dict[str, Any] = {
        "label": {"$ref": LABEL_REF},
        "help": {"$ref": LABEL_REF},
    }
    if not ftype.computed:
        props |= {
            "required": {"type": "boolean"},
            "unique": {"type": "boolean"},
            "indexed": {"type": "boolean"},
            "read_only": {"type": "boolean"},
        }
        if ftype.kind is not None:
            props["default"] = {"type": "string", "x-widget": "default"}
    if options.get("properties"):
        props["options"] = options
    return {"type": "object", "properties": props}


def new_key(doc: Doc, base: str) -> str:
    """A field key not used in the entity yet (``text_1``, ``text_2``...)."""
    used = {f.get("name") for f in doc.get("fields") or ()}
    stem = re.sub(r"[^a-z0-9_]", "_", base.lower()).strip("_") or "field"
    if not stem[0].isalpha():
        stem = f"f_{stem}"
    n = 1
    while f"{stem}_{n}" in used:
        n += 1
    return f"{stem}_{n}"[:48]


def starter_options(ftype: FieldType, choices: Choices) -> dict[str, Any]:
    """Options a new field of this type starts with: the type's ``starter_options``, and the first of the
    designer's choices for each required option the type leaves open (a link's target entity)."""
    options = copy.deepcopy(getattr(ftype, "starter_options", {}) or {})
    schema = ftype.options_schema
    for key in schema.get("required") or ():
        widget = (schema.get("properties") or {}).get(key, {}).get("x-widget")
        if key not in options and widget:
            found = choices(widget)
            if found:
                options[key] = found[0][0]
    return options


def add_field(
    doc: Doc, ftype: FieldType, label: Mapping[str, str], choices: Choices, position: int | None = None
) -> tuple[Doc, str]:
    """A new field of ``ftype`` at ``position`` (the end by default); returns the document and its key."""
    new = copy.deepcopy(doc)
    key = new_key(new, ftype.type)
    field: Doc = {"name": key, "type": ftype.type, "label": dict(label)}
    options = starter_options(ftype, choices)
    if options:
        field["options"] = options
    fields = new.setdefault("fields", [])
    fields.insert(len(fields) if position is None else max(0, min(position, len(fields))), field)
    return new, key


def move_field(doc: Doc, key: str, position: int) -> Doc:
    """The field ``key`` moved to ``position`` (0 = first)."""
    new = copy.deepcopy(doc)
    fields = new["fields"]
    index = _index(fields, key)
    field = fields.pop(index)
    fields.insert(max(0, min(position, len(fields))), field)
    return new


def remove_field(doc: Doc, key: str) -> Doc:
    """The entity without the field ``key`` (its column goes to the trash at publish, data kept)."""
    new = copy.deepcopy(doc)
    new["fields"] = [f for f in new["fields"] if f.get("name") != key]
    return new


def update_field(doc: Doc, key: str, ftype: FieldType, form: Mapping[str, str]) -> tuple[Doc, str]:
    """The field ``key`` with the properties of its posted panel (a new key renames it); returns the document
    and the field's key after the edit."""
    new = copy.deepcopy(doc)
    fields = new["fields"]
    index = _index(fields, key)
    posted = read_inputs(field_panel_schema(ftype), form)
    new_name = (form.get("key") or key).strip()
    field: Doc = {"name": new_name, "type": form.get("type") or ftype.type}
    field.update({k: v for k, v in posted.items() if v not in (False, None, {}, [])})
    if "default" in posted:
        field["default"] = typed_default(ftype, posted["default"])
    fields[index] = field
    if new_name != key:
        new = renamed_in_entity(new, key, new_name)
    return new, new_name


def renamed_in_entity(doc: Doc, old: str, new: str) -> Doc:
    """What the entity itself says of a renamed field, said of its new key: formulas reading it (token by
    token), the series' date field, fetch-from links, the title field, unique groups and indexes."""
    doc = copy.deepcopy(doc)
    for field in doc.get("fields") or ():
        options = field.get("options") or {}
        if isinstance(options.get("expression"), str):
            options["expression"] = rename_name(options["expression"], old, new)
        if options.get("date_field") == old:
            options["date_field"] = new
        fetch = options.get(FETCH_OPTION)
        if isinstance(fetch, dict) and fetch.get("link") == old:
            fetch["link"] = new
    if doc.get("title_field") == old:
        doc["title_field"] = new
    for key in ("unique_together", "indexes"):
        if key in doc:
            doc[key] = [[new if k == old else k for k in group] for group in doc[key]]
    return doc


def typed_default(ftype: FieldType, text: Any) -> Any:
    """A default typed in a text box, as the field's kind stores it in the definition."""
    if not isinstance(text, str):
        return text
    if ftype.kind == "integer" and re.fullmatch(r"-?\d{1,18}", text):
        return int(text)
    if ftype.kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _index(fields: list[Doc], key: str) -> int:
    for i, f in enumerate(fields):
        if f.get("name") == key:
            return i
    raise KeyError(key)
