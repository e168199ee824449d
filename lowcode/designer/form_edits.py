"""The form designer's edits as plain functions: form document in, new form document out.

A section entry is a field key, or ``{"field": key, ...}`` once it has a help text, a placeholder or a
condition; :func:`entry_of` and :func:`compact` convert between the two so that documents stay as small as
the JSON a person would write. Nothing here judges the result: the draft is validated when saved.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

Doc = dict[str, Any]
ENTRY_KEYS = ("help", "placeholder", "visible_when", "required_when", "read_only_when")
CONDITIONS = ("visible_when", "required_when", "read_only_when")


def entry_key(entry: Any) -> str:
    """The field key of a section entry."""
    return entry.get("field", "") if isinstance(entry, Mapping) else str(entry)


def entry_of(entry: Any) -> Doc:
    """A section entry as an object (``"qty"`` -> ``{"field": "qty"}``)."""
    return dict(entry) if isinstance(entry, Mapping) else {"field": entry}


def compact(entry: Mapping[str, Any]) -> Any:
    """An entry object without empty settings; a bare key when nothing else is left."""
    kept = {k: v for k, v in entry.items() if k == "field" or v not in (None, "", {}, [])}
    return kept["field"] if set(kept) == {"field"} else kept


def placed(form: Doc) -> list[str]:
    """The field keys the form shows, in order."""
    return [entry_key(e) for s in form.get("sections") or () for e in s.get("fields") or ()]


def find(form: Doc, key: str) -> tuple[int, int]:
    """(section index, position) of a field in the form. :raises KeyError:"""
    for si, section in enumerate(form.get("sections") or ()):
        for pi, entry in enumerate(section.get("fields") or ()):
            if entry_key(entry) == key:
                return si, pi
    raise KeyError(key)


def place(form: Doc, key: str, section: int, position: int | None = None) -> Doc:
    """The field ``key`` at ``position`` of section ``section`` (moved there if the form has it already,
    with its settings). :raises IndexError: for a section the form does not have."""
    new = copy.deepcopy(form)
    sections = new["sections"]
    if not 0 <= section < len(sections):
        raise IndexError(section)
    entry: Any = key
    try:
        si, pi = find(new, key)
    except KeyError:
        pass
    else:
        entry = sections[si]["fields"].pop(pi)
    fields = sections[section].setdefault("fields", [])
    at = len(fields) if position is None else max(0, min(position, len(fields)))
    fields.insert(at, entry)
    return new


def unplace(form: Doc, key: str) -> Doc:
    """The form without the field ``key`` (the field stays in the entity)."""
    new = copy.deepcopy(form)
    si, pi = find(new, key)
    new["sections"][si]["fields"].pop(pi)
    return new


def set_entry(form: Doc, key: str, settings: Mapping[str, Any]) -> Doc:
    """The field's entry with ``settings`` (help, placeholder, conditions) replacing the ones it had."""
    new = copy.deepcopy(form)
    si, pi = find(new, key)
    entry = {"field": key, **{k: settings[k] for k in ENTRY_KEYS if k in settings}}
    new["sections"][si]["fields"][pi] = compact(entry)
    return new


def add_section(form: Doc, label: Mapping[str, str]) -> Doc:
    """A new, empty section at the end (fields are dropped into it next)."""
    new = copy.deepcopy(form)
    section: Doc = {"label": dict(label)} if label else {}
    new.setdefault("sections", []).append({**section, "columns": 1, "fields": []})
    return new


def set_section(form: Doc, index: int, settings: Mapping[str, Any]) -> Doc:
    """Section ``index`` with its label, columns, tab and help replaced by ``settings`` (its fields kept)."""
    new = copy.deepcopy(form)
    section = new["sections"][index]
    kept = {"fields": section.get("fields", [])}
    kept.update(
        {
            k: v
            for k, v in settings.items()
            if k in ("label", "columns", "tab", "help") and v not in (None, "", {})
        }
    )
    new["sections"][index] = kept
    return new


def move_section(form: Doc, index: int, step: int) -> Doc:
    """Section ``index`` one place up (-1) or down (+1)."""
    new = copy.deepcopy(form)
    sections = new["sections"]
    target = max(0, min(index + step, len(sections) - 1))
    sections.insert(target, sections.pop(index))
    return new


def remove_section(form: Doc, index: int) -> Doc:
    """The form without section ``index``; its fields go to the section before it (or after it)."""
    new = copy.deepcopy(form)
    sections = new["sections"]
    gone = sections.pop(index)
    if sections and gone.get("fields"):
        sections[max(0, index - 1)]["fields"].extend(gone["fields"])
    return new


def add_tab(form: Doc, name: str, label: Mapping[str, str]) -> Doc:
    """A new tab (sections are put on it from their settings)."""
    new = copy.deepcopy(form)
    new.setdefault("tabs", []).append({"name": name, "label": dict(label)})
    return new


def remove_tab(form: Doc, name: str) -> Doc:
    """The form without the tab ``name``; its sections stay, above the tabs."""
    new = copy.deepcopy(form)
    new["tabs"] = [t for t in new.get("tabs") or () if t.get("name") != name]
    if not new["tabs"]:
        del new["tabs"]
    for section in new["sections"]:
        if section.get("tab") == name:
            del section["tab"]
    return new
