"""Form definitions: the entries of a form's sections read one way, and the form's publish check.

A section's ``fields`` item is a field key (``"customer"``) or an object ``{"field": "customer", "help",
"placeholder", "visible_when", "required_when", "read_only_when"}``; :func:`form_entries` gives every item as
the object. The check (registered for the ``form`` kind by :mod:`lowcode.definitions.app_checks`): the entity
and each field exist, a field appears once, each section's tab is declared, and each condition parses over the
entity's fields with only the ``$user`` / ``$now`` / ``$today`` variables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.names import CONDITION_SCOPE, condition_problems, join
from lowcode.fields.base import SYSTEM_NAMES

CONDITIONS = ("visible_when", "required_when", "read_only_when")
"""The conditions a form entry may carry, in the order they are checked."""

ENFORCED_ON_INPUT = ("required_when", "read_only_when")
"""Conditions about input: meaningless on a field no client writes (a formula, a system field)."""

Errors = dict[str, list[str]]


def entry_of(item: Any) -> dict[str, Any]:
    """A section's ``fields`` item as an entry object (a bare key becomes ``{"field": key}``)."""
    return {"field": item} if isinstance(item, str) else dict(item)


def form_entries(doc: Mapping[str, Any]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """``(section index, field index, entry)`` of every field of the form, in order."""
    for s, section in enumerate(doc.get("sections", [])):
        for f, item in enumerate(section.get("fields", [])):
            yield s, f, entry_of(item)


def form_errors(doc: Mapping[str, Any], docs: AppDocuments) -> Errors:
    """The form's entity, its tabs, and the fields and conditions of its sections."""
    prefix = f"form:{doc['name']}"
    entity = doc["entity"]
    if entity not in docs.entities:
        return {f"{prefix}/entity": [f"unknown entity '{entity}'"]}
    known = docs.fields(entity) | SYSTEM_NAMES
    writable = docs.writable(entity) | {n for n in docs.fields(entity) if _is_child_table(docs, entity, n)}
    kinds = docs.kinds(entity)
    errors: Errors = {}
    tabs = [t["name"] for t in doc.get("tabs", [])]
    for i, name in enumerate(tabs):
        if name in tabs[:i]:
            errors.setdefault(f"{prefix}/tabs/{i}/name", []).append(f"duplicate tab '{name}'")
    for s, section in enumerate(doc["sections"]):
        if "tab" in section and section["tab"] not in tabs:
            errors.setdefault(f"{prefix}/sections/{s}/tab", []).append(f"unknown tab '{section['tab']}'")
    seen: set[str] = set()
    for s, f, entry in form_entries(doc):
        here = f"{prefix}/sections/{s}/fields/{f}"
        name = entry["field"]
        if name not in known:
            errors.setdefault(here, []).append(f"unknown field '{name}'")
            continue
        if name in seen:
            errors.setdefault(here, []).append(f"field '{name}' appears more than once in the form")
        seen.add(name)
        for key in CONDITIONS:
            if key not in entry:
                continue
            if key in ENFORCED_ON_INPUT and name not in writable:
                errors.setdefault(f"{here}/{key}", []).append(f"'{name}' is not entered in forms: no {key}")
                continue
            for path, messages in condition_problems(entry[key], kinds, CONDITION_SCOPE).items():
                errors.setdefault(join(f"{here}/{key}", path), []).extend(messages)
    return errors


def _is_child_table(docs: AppDocuments, entity: str, name: str) -> bool:
    cf = docs.typed_fields(entity).get(name)
    return cf is not None and bool(getattr(cf.ftype, "holds_children", False))
