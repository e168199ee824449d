"""A sheet mapping made from a file's headers: each header matched to a writable field of the target entity
by its name or its label in any language (case, spaces, ``_`` and ``-`` ignored: "Sale Price", "sale_price"
and "售价" all name ``sale_price``); the user may change the column -> field choice before the import runs.

A link column is looked up by the linked entity's first unique field (``category`` by its ``code``); a link
to an entity without one cannot be imported from a sheet and is not offered. A matched unique field of the
target (``sku``) becomes the external key, so a row naming an existing record updates it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from lowcode.runtime.compiler import CompiledEntity, CompiledField

_IGNORED = re.compile(r"[\s_\-]+")
LINK_KINDS = frozenset({"link"})


def normalised(text: str) -> str:
    """A header or label compared without case, spaces, ``_`` or ``-``."""
    return _IGNORED.sub("", text.casefold())


def importable_fields(
    entity: CompiledEntity, entities: Mapping[tuple[str, str], CompiledEntity]
) -> list[CompiledField]:
    """The fields a column may fill: stored, not computed, not a link without a unique key to look it up by."""
    return [
        f
        for f in entity.writable
        if f.fdef.type not in LINK_KINDS or lookup_key(entity.app, f, entities) is not None
    ]


def lookup_key(
    app: str, field: CompiledField, entities: Mapping[tuple[str, str], CompiledEntity]
) -> str | None:
    """The unique field a link column is looked up by, or None."""
    target = entities.get((app, str(field.fdef.options.get("entity", ""))))
    if target is None:
        return None
    for f in target.writable:
        if f.fdef.unique and f.fdef.type not in LINK_KINDS:
            return f.name
    return None


def guess_columns(
    entity: CompiledEntity, entities: Mapping[tuple[str, str], CompiledEntity], headers: Sequence[str]
) -> dict[str, str]:
    """header -> field name for the headers that name a field (each field taken once, first header wins)."""
    names: dict[str, str] = {}
    for f in importable_fields(entity, entities):
        for text in (f.name, *f.fdef.label.values()):
            names.setdefault(normalised(text), f.name)
    chosen: dict[str, str] = {}
    for header in headers:
        name = names.get(normalised(header))
        if name is not None and name not in chosen.values():
            chosen[header] = name
    return chosen


def mapping_for_columns(
    entity: CompiledEntity,
    entities: Mapping[tuple[str, str], CompiledEntity],
    columns: Mapping[str, str],
    name: str | None = None,
) -> dict[str, Any]:
    """A sheet mapping document reading ``columns`` (header -> field) into ``entity``."""
    fields: list[dict[str, Any]] = []
    key = None
    for header, field_name in columns.items():
        field = entity.fields[field_name]
        entry: dict[str, Any] = {"field": field_name, "source": header}
        if field.fdef.type in LINK_KINDS:
            entry["lookup"] = {
                "entity": field.fdef.options["entity"],
                "by": lookup_key(entity.app, field, entities),
            }
        elif field.fdef.unique and key is None:
            key = {"source": header, "field": field_name}
        fields.append(entry)
    doc: dict[str, Any] = {
        "name": (name or f"import_{entity.name}")[:64],
        "source": {"kind": "sheet"},
        "target": entity.name,
        "fields": fields,
    }
    if key is not None:
        doc["key"] = key
    return doc
