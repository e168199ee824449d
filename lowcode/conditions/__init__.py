"""The one condition language: JSON conditions compiled to SQL and evaluated in memory, with one meaning.

A condition is ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": c}`` or a leaf
``{"field": "status", "op": "=", "value": "confirmed"}``; see :func:`parse_condition`,
:meth:`Condition.to_sql` and :meth:`Condition.matches`. ``schema.json`` (``$id`` ``lowcode:condition``)
is its JSON Schema, for definition schemas to reference.
"""

from __future__ import annotations

import json
from pathlib import Path

from lowcode.conditions.model import KINDS, MAX_DEPTH, MAX_LEAVES, MAX_LIST, Condition, parse_condition
from lowcode.conditions.operators import OPERATORS, Operator

SCHEMA_PATH = Path(__file__).with_name("schema.json")
"""Path of the condition document's JSON Schema."""


def condition_schema() -> dict:
    """A fresh copy of the condition document's JSON Schema (draft 2020-12, ``$id`` ``lowcode:condition``)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


__all__ = [
    "KINDS",
    "MAX_DEPTH",
    "MAX_LEAVES",
    "MAX_LIST",
    "OPERATORS",
    "SCHEMA_PATH",
    "Condition",
    "Operator",
    "condition_schema",
    "parse_condition",
]
