"""Two versions of a definition compared for people, not as raw JSON (the designer's version history).

:func:`compare_versions` gives a :class:`Comparison`: change rows a template renders side by side
(``area``, ``item``, ``change``, ``property``, ``old``, ``new``) and a summary of each side. Entities, forms
and views have their own comparer in :data:`comparers` (fields added / removed / renamed / changed / moved,
form placement, view columns...); any other kind gets the structural diff by path (:func:`structural`).
Values stay JSON values (a label is compared per language: ``label.en``, ``label.zh-CN``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode.registry import Registry

ADDED, REMOVED, CHANGED, MOVED, REORDERED = "added", "removed", "changed", "moved", "reordered"
RENAMED, RENAMED_PROBABLY = "renamed", "renamed?"
"""A rename the publisher declared (``renames``), or one guessed: a field removed and one added with the same
type and label."""
CONDITION_KEYS = frozenset({"filter", "condition", "old_condition", "record_rule", "where"})
"""Keys whose value is a condition: compared as a whole (as are ``*_when`` keys), never leaf by leaf."""
LIST_KEYS = ("name", "value", "field")
"""A list of objects each with one of these keys unique in the list is compared item by item by it."""


@dataclass(frozen=True)
class Change:
    """One row: in ``area`` (fields, layout, columns, settings...), ``item`` (a field, a section, a path)
    was ``change`` d (added, removed, renamed, changed, moved, reordered); for a change, which ``property``
    (``label.en``, ``options.scale``, ``section``) went from ``old`` to ``new``."""

    area: str
    item: str
    change: str
    property: str = ""
    old: Any = None
    new: Any = None


@dataclass
class Comparison:
    """The changes from ``old`` to ``new`` of one definition, and each side's summary (counts by what)."""

    kind: str
    renames: Mapping[str, str] = field(default_factory=dict)
    """Old field key -> new key, where known (the publish's ``renames``); others are guessed."""
    changes: list[Change] = field(default_factory=list)
    old_summary: dict[str, int] = field(default_factory=dict)
    new_summary: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """How many rows of each change (``{"added": 2, "changed": 1}``)."""
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.change] = counts.get(change.change, 0) + 1
        return counts


Comparer = Callable[[Mapping[str, Any], Mapping[str, Any], Comparison], None]
"""``(old document, new document, comparison)``: add the rows and summaries of one kind."""
comparers: Registry[Comparer] = Registry("version comparer")


def compare_versions(
    kind: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    renames: Mapping[str, str] | None = None,
    registry: Registry[Comparer] = comparers,
) -> Comparison:
    """The changes from ``old`` to ``new`` (None: the definition does not exist on that side); ``renames``
    (old key -> new key) are the field renames declared when ``new`` was published, if known."""
    comparison = Comparison(kind, dict(renames or {}))
    compare = registry.get(kind) if kind in registry else structural
    compare(old or {}, new or {}, comparison)
    return comparison


def structural(old: Mapping[str, Any], new: Mapping[str, Any], comparison: Comparison) -> None:
    """Any kind: each top-level key is an area; each leaf path added, removed or changed."""
    comparison.old_summary.update(_sizes(old))
    comparison.new_summary.update(_sizes(new))
    for key in _keys(old, new):
        if key != "schema_version":
            diff_values(comparison, key, key, old.get(key), new.get(key), key)


def diff_values(comparison: Comparison, area: str, item: str, old: Any, new: Any, prefix: str = "") -> None:
    """Rows for ``item`` from the flattened ``old`` and ``new`` (paths under ``prefix``): a property only on
    the new side is added, only on the old side removed, on both and different changed."""
    before, after = flatten(old, prefix), flatten(new, prefix)
    for path in _keys(before, after):
        if path not in before:
            comparison.changes.append(Change(area, item, ADDED, path, None, after[path]))
        elif path not in after:
            comparison.changes.append(Change(area, item, REMOVED, path, before[path], None))
        elif before[path] != after[path]:
            comparison.changes.append(Change(area, item, CHANGED, path, before[path], after[path]))


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{path: leaf value}``: objects by key (``options.scale``), lists of keyed objects by their key
    (``choices[draft].label.en``); conditions and other lists whole."""
    if value is None:
        return {}
    if isinstance(value, Mapping) and not _is_condition(prefix):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    key = list_key(value)
    if key:
        flat = {}
        for item in value:
            flat.update(flatten(item, f"{prefix}[{item[key]}]"))
        return flat
    return {prefix: value}


def list_key(value: Any) -> str:
    """The key that names the items of a list of objects (unique in the list), or ""."""
    if not isinstance(value, list) or not value or not all(isinstance(i, Mapping) for i in value):
        return ""
    for key in LIST_KEYS:
        names = [item.get(key) for item in value]
        if all(isinstance(n, (str, int)) for n in names) and len(set(names)) == len(names):
            return key
    return ""


def order_change(comparison: Comparison, area: str, item: str, old: list, new: list) -> None:
    """A ``reordered`` row when the items both sides have are not in the same order."""
    kept = set(old) & set(new)
    before, after = [x for x in old if x in kept], [x for x in new if x in kept]
    if before != after:
        comparison.changes.append(Change(area, item, REORDERED, "order", before, after))


def _is_condition(path: str) -> bool:
    last = path.rsplit(".", 1)[-1].split("[")[0]
    return last in CONDITION_KEYS or last.endswith("_when")


def _keys(old: Mapping, new: Mapping) -> list:
    return list(old) + [k for k in new if k not in old]


def _sizes(doc: Mapping[str, Any]) -> dict[str, int]:
    return {key: len(value) for key, value in doc.items() if isinstance(value, list)}


def register_comparers(registry: Registry[Comparer] = comparers) -> None:
    """The comparers of entities, forms and views (idempotent)."""
    from lowcode.designer.compare_kinds import compare_entities, compare_forms, compare_views

    for kind, compare in (("entity", compare_entities), ("form", compare_forms), ("view", compare_views)):
        if kind not in registry:
            registry.register(kind, compare)
