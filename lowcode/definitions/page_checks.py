"""Publish checks of what definitions declare for the pages: a view's related lists and an app's menu groups
and work queues (called from the view and app checks of :mod:`lowcode.definitions.app_checks`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.names import CONDITION_SCOPE, condition_problems, join
from lowcode.fields.base import SYSTEM_NAMES

Errors = dict[str, list[str]]


def _add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def related_errors(doc: Mapping[str, Any], docs: AppDocuments, prefix: str) -> Errors:
    """Each related list names an entity of the app, one of its link fields that targets the view's entity,
    its known columns and sortable sort fields; names are unique within the view."""
    errors: Errors = {}
    seen: set[str] = set()
    for i, rel in enumerate(doc.get("related", [])):
        here = f"{prefix}/related/{i}"
        if rel["name"] in seen:
            _add(errors, f"{here}/name", f"related list '{rel['name']}' is declared twice")
        seen.add(rel["name"])
        if rel["entity"] not in docs.entities:
            _add(errors, f"{here}/entity", f"unknown entity '{rel['entity']}'")
            continue
        link = docs.typed_fields(rel["entity"]).get(rel["field"])
        if link is None or not getattr(link.ftype, "references_entity", False):
            _add(errors, f"{here}/field", f"'{rel['field']}' is not a link field of {rel['entity']}")
        elif link.fdef.options.get("entity") != doc["entity"]:
            _add(
                errors,
                f"{here}/field",
                f"'{rel['field']}' of {rel['entity']} does not link to {doc['entity']}",
            )
        known, kinds = docs.fields(rel["entity"]) | SYSTEM_NAMES, docs.kinds(rel["entity"])
        for c, name in enumerate(rel.get("columns", [])):
            if name not in known:
                _add(errors, f"{here}/columns/{c}", f"unknown field '{name}'")
        for s, key in enumerate(rel.get("sort", [])):
            if key["field"] not in kinds:
                _add(errors, f"{here}/sort/{s}/field", f"'{key['field']}' is not a sortable field")
    return errors


def navigation_errors(doc: Mapping[str, Any], docs: AppDocuments, prefix: str) -> Errors:
    """Menu group names are unique; each work queue names an entity of the app and a valid condition on it.
    (Menu entries are not checked: an entry without a published entity is left out of the menu.)"""
    errors: Errors = {}
    groups = [item["group"] for item in doc.get("menu", []) if "group" in item]
    for i, item in enumerate(doc.get("menu", [])):
        if "group" in item and groups.count(item["group"]) > 1:
            _add(errors, f"{prefix}/menu/{i}/group", f"menu group '{item['group']}' is declared twice")
    names: set[str] = set()
    for i, queue in enumerate(doc.get("queues", [])):
        here = f"{prefix}/queues/{i}"
        if queue["name"] in names:
            _add(errors, f"{here}/name", f"queue '{queue['name']}' is declared twice")
        names.add(queue["name"])
        if queue["entity"] not in docs.entities:
            _add(errors, f"{here}/entity", f"unknown entity '{queue['entity']}'")
            continue
        problems = condition_problems(queue["condition"], docs.kinds(queue["entity"]), CONDITION_SCOPE)
        for path, messages in problems.items():
            errors.setdefault(join(f"{here}/condition", path), []).extend(messages)
    return errors
