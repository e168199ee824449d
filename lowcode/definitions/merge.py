"""Three-way merge of one definition document: ``base`` (as the template installed it), ``local`` (as the app
has it now) and ``new`` (the newer template), structural per JSON key.

Objects merge key by key. Lists of named items (every item an object naming itself by ``name``, ``group``,
``value``, ``field`` or ``entity``, unique within each list) merge item by item, matched by that name - so a
field the template added and a field changed locally are both kept. Lists of unique plain values (columns,
search fields) merge as sets: what either side removed goes, what either side added comes, in the new order.
Anything else that both sides changed differently is a :class:`Conflict`: the merged document holds the local
value there unless a choice (``"local"``, ``"new"`` or ``"base"``) names another for the conflict's path.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class _Missing:
    """The one marker of an absent value; copies are itself (``is MISSING`` holds after a deep copy)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __copy__(self) -> _Missing:
        return self

    def __deepcopy__(self, memo: dict) -> _Missing:
        return self


MISSING: Any = _Missing()
"""A key or item absent from one version (added or removed by the other side)."""
NAME_KEYS = ("name", "group", "value", "field", "entity")
"""Keys an item of a list may be named by, first found wins (fields and actions by ``name``, menu groups by
``group``, choices by ``value``, form entries by ``field``, menu entries by ``entity``)."""
SIDES = ("local", "new", "base")


@dataclass(frozen=True)
class Conflict:
    """Both sides changed the value at ``path`` differently (a value may be :data:`MISSING`: removed)."""

    path: str
    """Where, as a JSON path with named items by name: ``$.fields[price].label.en``."""
    base: Any
    local: Any
    new: Any


@dataclass
class Merged:
    """The merged document and the conflicts met (each resolved by its choice, else kept local)."""

    body: Any
    conflicts: list[Conflict] = field(default_factory=list)


def merge_documents(base: Any, local: Any, new: Any, choices: Mapping[str, str] | None = None) -> Merged:
    """Merge ``local`` and ``new``, both derived from ``base``; :data:`MISSING` stands for an absent document.
    ``choices``: conflict path -> side taken there (default: local)."""
    result = Merged(MISSING)
    result.body = _merge(base, local, new, "$", choices or {}, result.conflicts)
    return result


def _merge(base: Any, local: Any, new: Any, path: str, choices: Mapping[str, str], out: list) -> Any:
    if local == new:
        return copy.deepcopy(local)
    if base == local:
        return copy.deepcopy(new)
    if base == new:
        return copy.deepcopy(local)
    if all(isinstance(v, dict) for v in (local, new)) and isinstance(base, dict | _Missing):
        return _merge_objects(base if isinstance(base, dict) else {}, local, new, path, choices, out)
    if all(isinstance(v, list) for v in (local, new)) and isinstance(base, list | _Missing):
        base_list = base if isinstance(base, list) else []
        if _all_named(base_list, local, new):
            return _merge_named(base_list, local, new, path, choices, out)
        if _plain_unique(base_list, local, new):
            return _merge_sets(base_list, local, new)
    out.append(Conflict(path, base, local, new))
    chosen = {"local": local, "new": new, "base": base}[_side(choices.get(path))]
    return copy.deepcopy(chosen)


def _side(choice: str | None) -> str:
    return choice if choice in SIDES else "local"


def _merge_objects(base: dict, local: dict, new: dict, path: str, choices, out) -> dict:
    keys = [*new, *(k for k in local if k not in new)]
    merged = {}
    for key in keys:
        value = _merge(
            base.get(key, MISSING),
            local.get(key, MISSING),
            new.get(key, MISSING),
            f"{path}.{key}",
            choices,
            out,
        )
        if value is not MISSING:
            merged[key] = value
    return merged


def _name_of(item: Any) -> tuple[str, Any] | None:
    if not isinstance(item, dict):
        return None
    for key in NAME_KEYS:
        value = item.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return key, value
    return None


def _all_named(*lists: list) -> bool:
    """True when every item of the lists names itself and no list names an item twice."""
    for items in lists:
        names = [_name_of(item) for item in items]
        if any(n is None for n in names) or len(set(names)) != len(names):
            return False
    return True


def _merge_named(base: list, local: list, new: list, path: str, choices, out) -> list:
    by = [{_name_of(i): i for i in items} for items in (base, local, new)]
    order = [_name_of(i) for i in new]
    for position, item in enumerate(local):  # local additions: after the item they follow locally
        name = _name_of(item)
        if name in by[2] or name in by[0]:
            continue
        before = [_name_of(i) for i in local[:position]]
        anchor = next((n for n in reversed(before) if n in order), None)
        order.insert(order.index(anchor) + 1 if anchor is not None else 0, name)
    for name in (_name_of(i) for i in local):  # kept locally, removed in new: decided below
        if name not in order:
            order.append(name)
    merged = []
    for name in order:
        label = f"{path}[{name[1]}]"
        value = _merge(
            by[0].get(name, MISSING), by[1].get(name, MISSING), by[2].get(name, MISSING), label, choices, out
        )
        if value is not MISSING:
            merged.append(value)
    return merged


def _plain_unique(*lists: list) -> bool:
    for items in lists:
        if not all(isinstance(i, str | int) and not isinstance(i, bool) for i in items):
            return False
        if len(set(items)) != len(items):
            return False
    return True


def _merge_sets(base: list, local: list, new: list) -> list:
    removed = {i for i in base if i not in local or i not in new}
    merged = [i for i in new if i not in removed]
    for position, item in enumerate(local):
        if item in merged or item in base:
            continue
        before = [i for i in local[:position] if i in merged]
        merged.insert(merged.index(before[-1]) + 1 if before else 0, item)
    return merged
