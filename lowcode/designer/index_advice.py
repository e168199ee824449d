"""Indexes in the designer: the entity's declared indexes as the designer shows them, adding and removing one,
and the index a list view wants - its filter's equality fields, then its sort fields - when no index the
table has starts with those fields (a list sorted without one reads and sorts every match on each page)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.errors import NotFound, ValidationFailed

MAX_FIELDS = 5
"""Fields of one index (the entity schema's limit)."""


def equality_fields(condition: Mapping[str, Any] | None) -> list[str]:
    """The fields a condition pins to one value: a ``=`` leaf, or the ``=`` leaves of a top-level ``all``."""
    if not condition:
        return []
    leaves = condition.get("all") if "all" in condition else [condition]
    return [
        leaf["field"]
        for leaf in leaves or ()
        if isinstance(leaf, Mapping) and leaf.get("op") == "=" and isinstance(leaf.get("field"), str)
    ]


def _existing(entity: Mapping[str, Any]) -> list[list[str]]:
    """The key fields of the indexes the table has: declared, unique groups, single indexed or unique fields."""
    groups = [list(g) for g in entity.get("indexes") or ()] + [
        list(g) for g in entity.get("unique_together") or ()
    ]
    for field in entity.get("fields") or ():
        if field.get("unique") or field.get("indexed") or field.get("type") in ("link", "user"):
            groups.append([field["name"]])
    return groups


def wanted_index(view: Mapping[str, Any], docs: AppDocuments) -> list[str] | None:
    """The index the view's list wants, or None when the table has one starting with its fields (or the list
    neither filters by a value nor sorts)."""
    entity_name = view.get("entity", "")
    entity = docs.entities.get(entity_name)
    if entity is None:
        return None
    stored = docs.columns(entity_name) - {"id"}
    wanted: list[str] = []
    keys = [*equality_fields(view.get("filter")), *(s.get("field") for s in view.get("sort") or ())]
    for name in keys:
        if name in stored and name not in wanted:
            wanted.append(name)
    wanted = wanted[:MAX_FIELDS]
    if not wanted or any(group[: len(wanted)] == wanted for group in _existing(entity)):
        return None
    return wanted


def add_index(doc: Mapping[str, Any], fields: list[str], docs: AppDocuments) -> dict[str, Any]:
    """The entity ``doc`` (as ``docs`` hold it) with one more declared index over ``fields``.

    :raises ValidationFailed: (422) for an empty,
    too long or repeated list, a field the table does not store, or an index it already declares."""
    problems = []
    stored = docs.columns(doc["name"])
    if not fields or len(fields) > MAX_FIELDS or len(set(fields)) != len(fields):
        problems.append(f"An index needs 1 to {MAX_FIELDS} different fields")
    problems += [f"'{name}' is not a stored field of {doc['name']}" for name in fields if name not in stored]
    if fields in [list(g) for g in doc.get("indexes") or ()]:
        problems.append("The table already has this index")
    if problems:
        raise ValidationFailed("The index cannot be added", {"indexes": problems})
    new = copy.deepcopy(dict(doc))
    new["indexes"] = [*(new.get("indexes") or []), list(fields)]
    return new


def remove_index(doc: Mapping[str, Any], position: int) -> dict[str, Any]:
    """The entity without its declared index at ``position``. :raises NotFound: for no such index."""
    indexes = list(doc.get("indexes") or [])
    if not 0 <= position < len(indexes):
        raise NotFound(f"No index {position + 1} in entity '{doc['name']}'")
    new = copy.deepcopy(dict(doc))
    del new["indexes"][position]
    if not new["indexes"]:
        del new["indexes"]
    return new
