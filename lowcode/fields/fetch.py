"""The ``fetch_from`` option of a stored field: take its value from a record a link field of the same
entity names, when the value is left empty (``{"link": "product", "field": "sale_price"}`` on an order
line's ``unit_price``). The option is checked here; :mod:`lowcode.runtime.fetch` applies it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OPTION = "fetch_from"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["link", "field"],
    "properties": {
        "link": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "x-widget": "link_field"},
        "field": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "x-widget": "target_field"},
    },
    "additionalProperties": False,
}
"""JSON Schema of the option's value."""


def split_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """``(the type's own options, the fetch_from value or None)``: the type's options schema never sees it."""
    own = {k: v for k, v in options.items() if k != OPTION}
    return own, options.get(OPTION)


def fetch_spec(options: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(link field, target field)`` of a field's ``fetch_from``, or None."""
    spec = options.get(OPTION)
    if not isinstance(spec, Mapping):
        return None
    return str(spec.get("link")), str(spec.get("field"))


def fetch_problems(
    fdoc: Mapping[str, Any],
    fields: Mapping[str, Mapping[str, Any]],
    entities: Mapping[str, Mapping[str, Any]],
    computed: bool,
) -> list[str]:
    """Messages when the option names no link field of the entity or no stored field of its target."""
    spec = fetch_spec(fdoc.get("options") or {})
    if spec is None:
        return []
    if computed:
        return [f"field '{fdoc['name']}' is computed: it cannot fetch its value"]
    link, name = spec
    link_doc = fields.get(link)
    if link_doc is None or link_doc.get("type") != "link":
        return [f"field '{fdoc['name']}' fetches through '{link}', which is not a link field of this entity"]
    target = entities.get((link_doc.get("options") or {}).get("entity", ""))
    if target is None:
        return []  # the link's own check reports it
    if name not in {f.get("name") for f in target.get("fields", [])}:
        return [f"field '{fdoc['name']}' fetches unknown field '{name}' of '{target.get('name')}'"]
    return []
