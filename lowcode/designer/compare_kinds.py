"""The comparers of entities (fields added, removed, renamed, changed, reordered), forms (field placement by
section, entry settings and conditions, sections) and views (columns, sort, filter, search, settings) for
:mod:`lowcode.designer.compare`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.designer.compare import (
    ADDED,
    CHANGED,
    MOVED,
    REMOVED,
    RENAMED,
    RENAMED_PROBABLY,
    Change,
    Comparison,
    diff_values,
    order_change,
)

OWN = ("schema_version", "name")
"""Keys every comparer leaves out (the definition's identity)."""


def compare_entities(old: Mapping[str, Any], new: Mapping[str, Any], c: Comparison) -> None:
    """Fields by key (a rename pairs an old key with a new one), their properties, their order; then the
    entity's own settings (label, title field, unique groups...)."""
    before, after = _named(old.get("fields")), _named(new.get("fields"))
    c.old_summary["fields"], c.new_summary["fields"] = len(before), len(after)
    renames = _renames(before, after, c.renames)
    renamed_to = set(renames.values())
    for key, fdoc in before.items():
        if key not in after and key not in renames:
            c.changes.append(Change("fields", key, REMOVED, "type", fdoc.get("type"), None))
    for key, fdoc in after.items():
        if key not in before and key not in renamed_to:
            c.changes.append(Change("fields", key, ADDED, "type", None, fdoc.get("type")))
    for key, fdoc in before.items():
        new_key = renames.get(key, key)
        if new_key not in after:
            continue
        if new_key != key:
            declared = c.renames.get(key) == new_key
            c.changes.append(
                Change("fields", new_key, RENAMED if declared else RENAMED_PROBABLY, "name", key, new_key)
            )
        diff_values(c, "fields", new_key, _without_name(fdoc), _without_name(after[new_key]))
    order_change(c, "fields", "", [renames.get(k, k) for k in before], list(after))
    _settings(c, old, new, skip=("fields",))


def _renames(before: dict, after: dict, declared: Mapping[str, str]) -> dict[str, str]:
    """Old key -> new key: the declared renames, then a field removed and one added with the same type and
    label (each paired once, in order)."""
    renames = {o: n for o, n in declared.items() if o in before and n in after and o not in after}
    added = [k for k in after if k not in before and k not in renames.values()]
    for key, fdoc in before.items():
        if key in after or key in renames:
            continue
        for candidate in added:
            other = after[candidate]
            if other.get("type") == fdoc.get("type") and other.get("label") == fdoc.get("label"):
                renames[key] = candidate
                added.remove(candidate)
                break
    return renames


def compare_forms(old: Mapping[str, Any], new: Mapping[str, Any], c: Comparison) -> None:
    """Where each field is placed (added, removed, moved between sections, reordered in one), each entry's
    settings (help, placeholder, conditions), each section's own settings; then the form's settings."""
    before, after = _placements(old), _placements(new)
    for side, doc, placed in ((c.old_summary, old, before), (c.new_summary, new, after)):
        side.update(
            sections=len(doc.get("sections") or []), fields=len(placed), tabs=len(doc.get("tabs") or [])
        )
    for key, (section, _entry) in before.items():
        if key not in after:
            c.changes.append(Change("layout", key, REMOVED, "section", section, None))
    for key, (section, entry) in after.items():
        if key not in before:
            c.changes.append(Change("layout", key, ADDED, "section", None, section))
            diff_values(c, "layout", key, None, entry)
            continue
        old_section, old_entry = before[key]
        if old_section != section:
            c.changes.append(Change("layout", key, MOVED, "section", old_section, section))
        diff_values(c, "layout", key, old_entry, entry)
    old_sections, new_sections = old.get("sections") or [], new.get("sections") or []
    for i in range(max(len(old_sections), len(new_sections))):
        o = old_sections[i] if i < len(old_sections) else None
        n = new_sections[i] if i < len(new_sections) else None
        name = _section_name(n if n is not None else o, i)
        if o is None or n is None:
            c.changes.append(Change("sections", name, ADDED if o is None else REMOVED))
            continue
        diff_values(c, "sections", name, _without(o, "fields"), _without(n, "fields"))
        order_change(c, "layout", name, _keys_of(o), _keys_of(n))
    _settings(c, old, new, skip=("sections",))


def _placements(doc: Mapping[str, Any]) -> dict[str, tuple[str, dict]]:
    """Field key -> (its section's name, the entry's settings) of a form."""
    placed: dict[str, tuple[str, dict]] = {}
    for s, section in enumerate(doc.get("sections") or []):
        for item in section.get("fields") or []:
            key = item.get("field") if isinstance(item, Mapping) else item
            entry = _without(item, "field") if isinstance(item, Mapping) else {}
            placed.setdefault(str(key), (_section_name(section, s), entry))
    return placed


def _section_name(section: Mapping[str, Any], index: int) -> str:
    label = section.get("label")
    if isinstance(label, Mapping):
        label = label.get("en") or next(iter(label.values()), "")
    return f"{index + 1}. {label}" if isinstance(label, str) and label else str(index + 1)


def _keys_of(section: Mapping[str, Any]) -> list[str]:
    return [str(i.get("field") if isinstance(i, Mapping) else i) for i in section.get("fields") or []]


def compare_views(old: Mapping[str, Any], new: Mapping[str, Any], c: Comparison) -> None:
    """Columns and search fields (added, removed, reordered), sort and filter (as a whole), then the other
    settings (kanban, calendar, related lists, totals, page size...)."""
    for side, doc in ((c.old_summary, old), (c.new_summary, new)):
        side.update({key: len(doc.get(key) or []) for key in ("columns", "sort", "search_fields", "related")})
        side["filter"] = 1 if doc.get("filter") else 0
    for key in ("columns", "search_fields"):
        before, after = list(old.get(key) or []), list(new.get(key) or [])
        c.changes += [Change(key, name, REMOVED) for name in before if name not in after]
        c.changes += [Change(key, name, ADDED) for name in after if name not in before]
        order_change(c, key, "", before, after)
    for key in ("sort", "filter"):
        if (old.get(key) or None) != (new.get(key) or None):
            c.changes.append(Change(key, key, CHANGED, "", old.get(key), new.get(key)))
    _settings(c, old, new, skip=("columns", "search_fields", "sort", "filter"))


def _settings(c: Comparison, old: Mapping[str, Any], new: Mapping[str, Any], skip: tuple[str, ...]) -> None:
    """The document's other keys, each an item of area ``settings``."""
    for key in list(old) + [k for k in new if k not in old]:
        if key not in OWN and key not in skip:
            diff_values(c, "settings", key, old.get(key), new.get(key), key)


def _named(items: Any) -> dict[str, Mapping[str, Any]]:
    return {i["name"]: i for i in items or [] if isinstance(i, Mapping) and isinstance(i.get("name"), str)}


def _without_name(doc: Mapping[str, Any]) -> dict[str, Any]:
    return _without(doc, "name")


def _without(doc: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != key}
