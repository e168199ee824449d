"""A bundle checked as a whole before anything is installed: its shape (an app, known sections, named
documents once each), every document against its kind's JSON Schema, then the publish's cross-document checks
over all of them. Every problem is reported by file and JSON path - ``entities/product.json: $.fields[3].type``
- the same way for a zip and for a bundle sent as one JSON document."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lowcode.definitions.bundle_files import FOLDERS, SECTIONS
from lowcode.definitions.checks import app_errors_for
from lowcode.definitions.validate import validate_document
from lowcode.errors import DefinitionInvalid, UnknownType

KIND_FOLDERS = {kind: folder for folder, kind in SECTIONS.items()}
KNOWN_KEYS = {"app", "manifest", *FOLDERS}
_INDEX = re.compile(r"^\d+$")
MAX_PROBLEMS = 200


def json_path(path: str) -> str:
    """``fields/3/type`` as ``$.fields[3].type`` (``/`` or empty: ``$``)."""
    out = "$"
    for part in (p for p in path.split("/") if p):
        out += f"[{part}]" if _INDEX.match(part) else f".{part}"
    return out


def file_of(kind: str, name: str) -> str:
    """The file a definition lies in within a bundle."""
    return "app.json" if kind == "app" else f"{KIND_FOLDERS.get(kind, kind)}/{name}.json"


def where(file: str, path: str) -> str:
    """One problem's place: ``entities/product.json: $.fields[3].type``."""
    return f"{file}: {json_path(path)}"


def bundle_errors(bundle: Any, settings: Mapping[str, Any] | None = None) -> dict[str, list[str]]:
    """Every problem of a bundle by place (``file: $.path``); empty when it would install."""
    errors: dict[str, list[str]] = {}
    if not isinstance(bundle, dict):
        return {"$": ["a bundle is a JSON object with 'app' and the sections of definitions"]}
    for key in bundle:
        if key not in KNOWN_KEYS:
            errors.setdefault(f"$.{str(key)[:64]}", []).append(
                f"unknown section (known: {', '.join(sorted(KNOWN_KEYS))})"
            )
    docs = _documents(bundle, errors)
    for kind, named in docs.items():
        for name, (file, doc) in named.items():
            try:
                validate_document(kind, name, doc)
            except DefinitionInvalid as exc:
                for path, messages in exc.fields.items():
                    errors.setdefault(where(file, path), []).extend(map(str, messages))
    _check_demo(bundle.get("demo_data"), errors)
    if errors:
        return _capped(errors)
    plain = {kind: {name: doc for name, (_f, doc) in named.items()} for kind, named in docs.items()}
    try:
        cross = app_errors_for(plain, settings)
    except UnknownType as exc:
        return {"$": [exc.message]}
    for key, messages in cross.items():
        head, _, path = key.partition("/")
        kind, _, name = head.partition(":")
        errors.setdefault(where(file_of(kind, name), path), []).extend(map(str, messages))
    return _capped(errors)


def require_valid_bundle(bundle: Any, settings: Mapping[str, Any] | None = None) -> None:
    """:raises DefinitionInvalid: with every problem of the bundle by file and JSON path."""
    errors = bundle_errors(bundle, settings)
    if errors:
        count = sum(len(m) for m in errors.values())
        raise DefinitionInvalid(
            f"The bundle has {count} problem(s); nothing was changed",
            fields=errors,
            problems=[f"{place}: {m}" for place, messages in errors.items() for m in messages],
        )


def _documents(bundle: dict, errors: dict[str, list[str]]) -> dict[str, dict[str, tuple[str, Any]]]:
    """``{kind: {name: (file, body)}}`` of the documents that name themselves; the others reported."""
    docs: dict[str, dict[str, tuple[str, Any]]] = {}
    app = bundle.get("app")
    if not isinstance(app, dict) or not isinstance(app.get("name"), str):
        errors.setdefault("app.json: $.name", []).append("a bundle needs an app definition with a name")
    else:
        docs["app"] = {app["name"]: ("app.json", app)}
    for section, kind in SECTIONS.items():
        items = bundle.get(section, [])
        if not isinstance(items, list):
            errors.setdefault(f"$.{section}", []).append("a list of definitions")
            continue
        named = docs.setdefault(kind, {})
        for i, doc in enumerate(items):
            name = doc.get("name") if isinstance(doc, dict) else None
            if not isinstance(name, str) or not name:
                errors.setdefault(f"{section}[{i}]: $.name", []).append("every definition needs a name")
                continue
            file = file_of(kind, name)
            if name in named:
                errors.setdefault(f"{file}: $.name", []).append(f"a second {kind} named '{name}'")
                continue
            named[name] = (file, doc)
    return docs


def _check_demo(demo: Any, errors: dict[str, list[str]]) -> None:
    if demo is None:
        return
    if not isinstance(demo, list):
        errors.setdefault("$.demo_data", []).append("a list of {entity, records} blocks")
        return
    for i, block in enumerate(demo):
        if (
            not isinstance(block, dict)
            or not isinstance(block.get("entity"), str)
            or not isinstance(block.get("records", []), list)
        ):
            errors.setdefault(f"demo_data[{i}]", []).append('a block is {"entity": name, "records": [...]}')


def _capped(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return dict(list(errors.items())[:MAX_PROBLEMS])
