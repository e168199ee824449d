"""Renaming a field where a condition tests it."""

from __future__ import annotations

from typing import Any


def rename_field(doc: Any, old: str, new: str) -> Any:
    """A condition document with every leaf testing ``old`` testing ``new`` instead (a new document)."""
    if isinstance(doc, dict):
        if "field" in doc and ("op" in doc or "value" in doc):
            return {**doc, "field": new if doc["field"] == old else doc["field"]}
        return {key: rename_field(value, old, new) for key, value in doc.items()}
    if isinstance(doc, list):
        return [rename_field(item, old, new) for item in doc]
    return doc
