"""Validation of definition documents: JSON Schema first, then checks that need the field registry."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from lowcode.errors import DefinitionInvalid, UnknownType
from lowcode.fields import field_types
from lowcode.fields.base import FieldDef
from lowcode.runtime.compiler import RESERVED_NAMES


@cache
def _schema_registry() -> Registry:
    registry = Registry()
    for path in resources.files("lowcode.definitions").joinpath("schemas").iterdir():
        if path.name.endswith(".json"):
            doc = json.loads(path.read_text(encoding="utf-8"))
            registry = registry.with_resource(doc["$id"], Resource.from_contents(doc))
    return registry


def known_kinds() -> list[str]:
    """Definition kinds that have a JSON Schema."""
    return sorted(
        p.name[:-5]
        for p in resources.files("lowcode.definitions").joinpath("schemas").iterdir()
        if p.name.endswith(".json") and p.name != "common.json"
    )


@cache
def validator_for(kind: str) -> Draft202012Validator:
    """The JSON Schema validator of a definition kind. :raises UnknownType: for an unknown kind."""
    if kind not in known_kinds():
        raise UnknownType(f"unknown definition kind '{kind}' (known: {', '.join(known_kinds())})")
    resource = _schema_registry().get_or_retrieve(f"lowcode:{kind}").value
    return Draft202012Validator(resource.contents, registry=_schema_registry())


def schema_errors(validator: Draft202012Validator, doc: Any, prefix: str = "") -> dict[str, list[str]]:
    """Every JSON Schema error of ``doc``, keyed by its JSON path ("fields/2/type")."""
    errors: dict[str, list[str]] = {}
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        path = "/".join(str(p) for p in [*([prefix] if prefix else []), *err.absolute_path]) or "/"
        errors.setdefault(path, []).append(err.message)
    return errors


def validate_document(kind: str, name: str, doc: Any) -> None:
    """Check a document against its kind's JSON Schema and its own name.

    :raises DefinitionInvalid: with each error's JSON path and message.
    """
    errors = schema_errors(validator_for(kind), doc)
    if not errors and isinstance(doc, dict) and doc.get("name") != name:
        errors["name"] = [f"name '{doc.get('name')}' does not match the URL name '{name}'"]
    if kind == "entity" and isinstance(doc, dict) and isinstance(doc.get("fields"), list):
        for path, messages in entity_errors(doc).items():
            errors.setdefault(path, []).extend(m for m in messages if m not in errors.get(path, []))
    if errors:
        raise DefinitionInvalid(f"The {kind} definition '{name}' is invalid", fields=errors)


def entity_errors(doc: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field-level checks of an entity: known types, valid options, unique non-reserved names."""
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for i, fdoc in enumerate(doc["fields"]):
        path = f"fields/{i}"
        if not isinstance(fdoc, dict) or not isinstance(fdoc.get("type"), str):
            continue
        name = fdoc.get("name")
        if name in RESERVED_NAMES:
            errors.setdefault(f"{path}/name", []).append(f"'{name}' is a reserved system field name")
        if name in seen:
            errors.setdefault(f"{path}/name", []).append(f"duplicate field name '{name}'")
        seen.add(name)
        try:
            ftype = field_types.get(fdoc["type"])
        except UnknownType as exc:
            errors.setdefault(f"{path}/type", []).append(exc.message)
            continue
        options = fdoc.get("options", {})
        if isinstance(options, dict):
            errors.update(
                schema_errors(Draft202012Validator(ftype.options_schema), options, f"{path}/options")
            )
    return errors


def app_errors_for(docs: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Cross-document checks of every published (or about to be published) document of one app."""
    errors = app_errors(docs.get("entity", {}), docs.get("form", {}), docs.get("view", {}))
    entities = docs.get("entity", {})
    if docs.get("role") or docs.get("rule"):
        import sqlalchemy as sa

        from lowcode.auth.grants import role_errors
        from lowcode.rules.validate import rule_errors
        from lowcode.runtime.compiler import compile_entity

        def kinds_of(name: str) -> dict[str, str]:
            return compile_entity("check", entities[name], 0, sa.MetaData()).kinds

        for role in docs.get("role", {}).values():
            errors.update(role_errors(role, entities, kinds_of))
        for rule in docs.get("rule", {}).values():
            errors.update(rule_errors(rule, entities, kinds_of))
    for app_doc in docs.get("app", {}).values():
        for i, op in enumerate(app_doc.get("sensitive_operations", [])):
            if op["entity"] not in entities:
                errors.setdefault(f"app/sensitive_operations/{i}/entity", []).append(
                    f"unknown entity '{op['entity']}'"
                )
    return errors


def _dependency_errors(doc: Mapping[str, Any], entities: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Each field's checks against its own entity (a computed field's inputs must exist)."""
    fields = {f["name"]: f for f in doc["fields"]}
    messages = []
    for fdoc in doc["fields"]:
        fdef = FieldDef.from_json(fdoc)
        messages += field_types.get(fdef.type).check_in_entity(fdef, fields, entities)
    return messages


def app_errors(
    entities: Mapping[str, Mapping[str, Any]], forms: Mapping[str, Any], views: Mapping[str, Any]
) -> dict[str, list[str]]:
    """Cross-document checks over one app: link/child targets, formula syntax, form and view fields."""
    errors: dict[str, list[str]] = {}
    names = set(entities)
    for ename, doc in entities.items():
        field_names = {f["name"] for f in doc["fields"]}
        for i, fdoc in enumerate(doc["fields"]):
            ftype = field_types.get(fdoc["type"])
            for msg in ftype.check_definition(FieldDef.from_json(fdoc), names):
                errors.setdefault(f"entity:{ename}/fields/{i}", []).append(msg)
        for msg in _dependency_errors(doc, entities):
            errors.setdefault(f"entity:{ename}/fields", []).append(msg)
        for group in doc.get("unique_together", []):
            for name in group:
                if name not in field_names:
                    errors.setdefault(f"entity:{ename}/unique_together", []).append(f"unknown field '{name}'")
        title = doc.get("title_field")
        if title and title not in field_names:
            errors.setdefault(f"entity:{ename}/title_field", []).append(f"unknown field '{title}'")
    for kind, docs, key in (("form", forms, "sections"), ("view", views, "columns")):
        for name, doc in docs.items():
            entity = entities.get(doc["entity"])
            if entity is None:
                errors.setdefault(f"{kind}:{name}/entity", []).append(f"unknown entity '{doc['entity']}'")
                continue
            known = {f["name"] for f in entity["fields"]} | set(RESERVED_NAMES)
            used = [f for s in doc[key] for f in s["fields"]] if key == "sections" else doc[key]
            for field_name in used:
                if field_name not in known:
                    errors.setdefault(f"{kind}:{name}/{key}", []).append(f"unknown field '{field_name}'")
    return errors
