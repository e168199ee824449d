"""Validation of definition documents: JSON Schema first, then checks that need the field registry."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from lowcode.conditions import condition_schema
from lowcode.errors import DefinitionInvalid, UnknownType
from lowcode.fields import field_types
from lowcode.fields.fetch import SCHEMA as FETCH_SCHEMA
from lowcode.fields.fetch import split_options
from lowcode.runtime.compiler import RESERVED_NAMES

FETCH_VALIDATOR = Draft202012Validator(FETCH_SCHEMA)


@cache
def _schema_registry() -> Registry:
    registry = Registry()
    for path in resources.files("lowcode.definitions").joinpath("schemas").iterdir():
        if path.name.endswith(".json"):
            doc = json.loads(path.read_text(encoding="utf-8"))
            registry = registry.with_resource(doc["$id"], Resource.from_contents(doc))
    return registry.with_resource("lowcode:condition", Resource.from_contents(condition_schema()))


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
            own, fetch = split_options(options)
            errors.update(schema_errors(Draft202012Validator(ftype.options_schema), own, f"{path}/options"))
            if fetch is not None:
                errors.update(schema_errors(FETCH_VALIDATOR, fetch, f"{path}/options/fetch_from"))
    return errors
