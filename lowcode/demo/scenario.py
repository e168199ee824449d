"""Loading a template's demo scenario (``demo_scenario.json`` next to its ``app.json``) and validating it
against ``scenario.schema.json`` plus the checks a schema cannot express (called procedures exist, the
options a caller overrides are declared)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from lowcode.core.jsonutil import loads_exact
from lowcode.errors import ValidationFailed

FILE_NAME = "demo_scenario.json"
SCHEMA = json.loads(Path(__file__).with_name("scenario.schema.json").read_text(encoding="utf-8"))
_VALIDATOR = Draft202012Validator(SCHEMA)


def scenario_path(template: Path) -> Path | None:
    """The demo scenario of a template folder, or None when it declares none."""
    path = Path(template) / FILE_NAME
    return path if path.is_file() else None


def load_scenario(source: Path | dict[str, Any]) -> dict[str, Any]:
    """A validated scenario from a file (numbers read exactly) or a document.

    :raises ValidationFailed: with one message per problem, each with its JSON path."""
    doc = loads_exact(Path(source).read_text(encoding="utf-8")) if not isinstance(source, dict) else source
    problems = {
        "/" + "/".join(str(p) for p in error.absolute_path): error.message
        for error in sorted(_VALIDATOR.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    }
    if not problems:
        procedures = set(doc.get("procedures", {}))
        for path, name in _called(doc, ""):
            if name not in procedures:
                problems[path] = f"no procedure '{name}'"
    if problems:
        raise ValidationFailed(
            "The demo scenario is not valid: " + "; ".join(f"{p}: {m}" for p, m in problems.items()),
            fields={p: [m] for p, m in problems.items()},
        )
    return doc


def _called(node: Any, path: str):
    """(path, procedure name) of every ``call`` and ``schedule`` step in ``node``."""
    if isinstance(node, dict):
        for word in ("call", "schedule"):
            if isinstance(node.get(word), str):
                yield path, node[word]
        for key, value in node.items():
            yield from _called(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _called(value, f"{path}/{i}")
