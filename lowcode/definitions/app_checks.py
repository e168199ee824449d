"""The cross-document checks of entities, forms, views and the app definition (see
:mod:`lowcode.definitions.checks`): every entity, field and view they name must exist in the app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.definitions.checks import AppDocuments, DefinitionCheck, definition_checks, register_check
from lowcode.definitions.form_checks import form_errors
from lowcode.definitions.mapping_checks import mapping_errors
from lowcode.definitions.names import CONDITION_SCOPE, condition_problems, join
from lowcode.definitions.page_checks import navigation_errors, related_errors
from lowcode.fields import field_types
from lowcode.fields.base import SYSTEM_NAMES, FieldDef
from lowcode.fields.fetch import fetch_problems
from lowcode.registry import Registry

Errors = dict[str, list[str]]


def _add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def entity_errors_in_app(doc: Mapping[str, Any], docs: AppDocuments) -> Errors:
    """Link and child targets, what computed fields are computed from, unique groups, the title field."""
    prefix = f"entity:{doc['name']}"
    errors: Errors = {}
    fields = {f["name"]: f for f in doc["fields"]}
    for i, fdoc in enumerate(doc["fields"]):
        fdef = FieldDef.from_json(fdoc)
        ftype = field_types.get(fdef.type)
        for message in ftype.check_definition(fdef, set(docs.entities)):
            _add(errors, f"{prefix}/fields/{i}", message)
        for message in ftype.check_in_entity(fdef, fields, docs.entities):
            _add(errors, f"{prefix}/fields/{i}", message)
        for message in fetch_problems(fdoc, fields, docs.entities, ftype.computed):
            _add(errors, f"{prefix}/fields/{i}/options/fetch_from", message)
    for i, group in enumerate(doc.get("unique_together", [])):
        for name in group:
            if name not in fields:
                _add(errors, f"{prefix}/unique_together/{i}", f"unknown field '{name}'")
    columns = docs.columns(doc["name"])
    for i, group in enumerate(doc.get("indexes", [])):
        for name in group:
            if name not in columns:
                _add(errors, f"{prefix}/indexes/{i}", f"'{name}' is not a stored field of {doc['name']}")
    title = doc.get("title_field")
    if title and title not in fields:
        _add(errors, f"{prefix}/title_field", f"unknown field '{title}'")
    return errors


def view_errors(doc: Mapping[str, Any], docs: AppDocuments) -> Errors:
    """The view's entity, columns, filter (fields and variables), sort and search fields."""
    prefix = f"view:{doc['name']}"
    entity = doc["entity"]
    if entity not in docs.entities:
        return {f"{prefix}/entity": [f"unknown entity '{entity}'"]}
    known, kinds = docs.fields(entity) | SYSTEM_NAMES, docs.kinds(entity)
    errors: Errors = {}
    for i, name in enumerate(doc["columns"]):
        if name not in known:
            _add(errors, f"{prefix}/columns/{i}", f"unknown field '{name}'")
    if doc.get("filter"):
        for path, messages in condition_problems(doc["filter"], kinds, CONDITION_SCOPE).items():
            errors.setdefault(join(f"{prefix}/filter", path), []).extend(messages)
    for i, key in enumerate(doc.get("sort", [])):
        if key["field"] not in kinds:
            _add(errors, f"{prefix}/sort/{i}/field", f"'{key['field']}' is not a sortable field of {entity}")
    for i, name in enumerate(doc.get("search_fields", [])):
        if name not in kinds:
            _add(errors, f"{prefix}/search_fields/{i}", f"'{name}' is not a searchable field of {entity}")
    errors.update(related_errors(doc, docs, prefix))
    errors.update(_board_errors(doc, docs, prefix, known, kinds))
    return errors


def _board_errors(doc: Mapping[str, Any], docs: AppDocuments, prefix: str, known: set[str], kinds) -> Errors:
    """A kanban groups by a select field; a calendar places records by a date field."""
    errors: Errors = {}
    types = {f["name"]: f["type"] for f in docs.entities[doc["entity"]].get("fields", [])}
    kanban = doc.get("kanban")
    if kanban:
        if types.get(kanban["group_by"]) != "select":
            _add(errors, f"{prefix}/kanban/group_by", f"'{kanban['group_by']}' is not a select field")
        for i, name in enumerate(kanban.get("card_fields", [])):
            if name not in known:
                _add(errors, f"{prefix}/kanban/card_fields/{i}", f"unknown field '{name}'")
    calendar = doc.get("calendar")
    if calendar and kinds.get(calendar["date_field"]) not in ("date", "datetime"):
        _add(errors, f"{prefix}/calendar/date_field", f"'{calendar['date_field']}' is not a date field")
    return errors


def app_errors(doc: Mapping[str, Any], docs: AppDocuments) -> Errors:
    """The sensitive operations' entities, fields and conditions. (The menu is not checked: an entry whose
    entity is not published is left out of the menu, so an app may be published before its entities.)"""
    prefix = f"app:{doc['name']}"
    errors: Errors = {}
    for i, op in enumerate(doc.get("sensitive_operations", [])):
        here = f"{prefix}/sensitive_operations/{i}"
        if op["entity"] not in docs.entities:
            _add(errors, f"{here}/entity", f"unknown entity '{op['entity']}'")
            continue
        known = docs.fields(op["entity"])
        for f, name in enumerate(op.get("fields", [])):
            if name not in known:
                _add(errors, f"{here}/fields/{f}", f"unknown field '{name}'")
        if op.get("condition"):
            problems = condition_problems(op["condition"], docs.kinds(op["entity"]), CONDITION_SCOPE)
            for path, messages in problems.items():
                errors.setdefault(join(f"{here}/condition", path), []).extend(messages)
    errors.update(navigation_errors(doc, docs, prefix))
    return errors


def register_builtin_checks(registry: Registry[DefinitionCheck] = definition_checks) -> None:
    """Register the checks of entities, forms, views, mappings and app definitions (idempotent)."""
    checks = {
        "entity": entity_errors_in_app,
        "form": form_errors,
        "view": view_errors,
        "app": app_errors,
        "mapping": mapping_errors,
    }
    for kind, check in checks.items():
        register_check(kind, check, registry)
