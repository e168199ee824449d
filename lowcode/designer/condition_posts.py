"""The condition builder's posted form read back into a condition document (:mod:`lowcode.designer.conditions`
draws it): the rows after their add/remove buttons, each checked by the condition parser, errors by row
prefix. Posted names: ``c:<prefix>/mode``, ``c:<prefix>/<i>/field|op|value`` (``value/0``, ``value/1`` for
between; several values or one per line for a list), buttons ``cadd:<prefix>`` and ``cdel:<prefix>/<i>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from lowcode.conditions import MAX_DEPTH, MAX_LEAVES, OPERATORS
from lowcode.definitions.names import Shape, condition_problems

if TYPE_CHECKING:
    from lowcode.designer.conditions import ConditionField

MODES = ("all", "any", "none")
"""Group modes: every row holds, at least one holds, none holds (``{"not": {"any": [...]}}``)."""
_INDEX = re.compile(r"^[0-9]{1,3}$")
_WHOLE = re.compile(r"^[+-]?[0-9]{1,19}$")


@dataclass
class Parsed:
    """A posted builder read back: the document (None for an empty root group) and the errors by prefix."""

    doc: dict[str, Any] | None
    errors: dict[str, list[str]]


class PostedCondition:
    """Reads a posted builder over ``fields`` (by name) back; variables are checked against ``scope``."""

    def __init__(self, fields: Mapping[str, ConditionField], scope: Mapping[str, Shape]):
        self.fields = fields
        self.kinds = {name: f.kind for name, f in fields.items()}
        self.scope = scope

    def parse(self, form, prefix: str) -> Parsed:
        """The document the posted builder under ``prefix`` describes (after its add/remove buttons), and
        the problems of each row by its prefix; the whole is then checked once more (depth, size)."""
        errors: dict[str, list[str]] = {}
        counter = [0]
        doc = self._read_group(form, prefix, errors, 0, counter)
        if not as_group(doc)[1]:
            return Parsed(None, errors)
        if not errors:
            for path, messages in condition_problems(doc, self.kinds, self.scope).items():
                errors.setdefault(prefix, []).extend(f"{path}: {m}" if path else m for m in messages)
        return Parsed(doc, errors)

    def _read_group(self, form, prefix: str, errors: dict, depth: int, counter: list[int]) -> dict:
        if depth >= MAX_DEPTH:
            errors.setdefault(prefix, []).append(str(_l("Groups nest too deep")))
            return {"all": []}
        mode = form.get(f"c:{prefix}/mode", "all")
        if mode not in MODES:
            mode = "all"
        items: list[dict] = []
        for index in posted_indices(form, prefix):
            sub = f"{prefix}/{index}"
            if f"cdel:{sub}" in form:
                continue
            counter[0] += 1
            if counter[0] > MAX_LEAVES:
                errors.setdefault(prefix, []).append(str(_l("Too many conditions")))
                break
            if f"c:{sub}/mode" in form:
                items.append(self._read_group(form, sub, errors, depth + 1, counter))
            else:
                items.append(self._read_row(form, sub, len(items), errors))
        added = form.get(f"cadd:{prefix}")
        if added in ("row", "group") and self.fields:
            leaf = {"field": next(iter(self.fields)), "op": "is_not_empty"}
            items.append(leaf if added == "row" else {"all": [leaf]})
        return {"not": {"any": items}} if mode == "none" else {mode: items}

    def _read_row(self, form, prefix: str, position: int, errors: dict) -> dict:
        name, op = form.get(f"c:{prefix}/field", ""), form.get(f"c:{prefix}/op", "")
        leaf: dict[str, Any] = {"field": name, "op": op}
        known = self.fields.get(name)
        arity = OPERATORS.get(op).arity if op in OPERATORS else "one"
        kind = known.kind if known else "text"
        if arity == "one":
            leaf["value"] = _typed(form.get(f"c:{prefix}/value", ""), kind)
        elif arity == "pair":
            leaf["value"] = [_typed(form.get(f"c:{prefix}/value/{i}", ""), kind) for i in (0, 1)]
        elif arity == "list":
            raw = form.getlist(f"c:{prefix}/value")
            lines = [line.strip() for text in raw for line in text.splitlines()]
            leaf["value"] = [_typed(v, kind) for v in lines if v]
        problems = condition_problems(leaf, self.kinds, self.scope)
        if problems:
            errors[prefix] = [m for messages in problems.values() for m in messages]
        return leaf


def as_group(doc: Any) -> tuple[str, list]:
    """A document as (mode, items): ``not any`` is a none group, another ``not`` a none group of one."""
    if not isinstance(doc, Mapping) or not doc:
        return "all", []
    if "all" in doc or "any" in doc:
        mode = "all" if "all" in doc else "any"
        return mode, list(doc[mode]) if isinstance(doc[mode], list) else []
    if "not" in doc:
        inner = doc["not"]
        if isinstance(inner, Mapping) and list(inner) == ["any"] and isinstance(inner["any"], list):
            return "none", list(inner["any"])
        return "none", [inner]
    return "all", [doc]


def posted_indices(form, prefix: str) -> list[int]:
    """The item numbers posted directly under ``prefix`` (``c:<prefix>/<i>/...``), in order."""
    head = f"c:{prefix}/"
    found = set()
    for key in form:
        if key.startswith(head):
            part = key[len(head) :].split("/", 1)[0]
            if _INDEX.match(part):
                found.add(int(part))
    return sorted(found)


def _typed(raw: str, kind: str) -> Any:
    """A posted value as the document keeps it: whole numbers and booleans as JSON numbers and booleans,
    the rest as text (decimals travel as strings); anything unreadable stays text for the parser to refuse."""
    if raw.startswith("$"):
        return raw
    if kind == "integer" and _WHOLE.match(raw.strip()):
        return int(raw.strip())
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    if kind in ("decimal", "date", "datetime"):
        return raw.strip()
    return raw
