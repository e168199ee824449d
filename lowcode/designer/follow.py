"""An entity's form and list view follow the designer's field changes: an added field is placed in the form
(and in the list while it is short), a renamed one is renamed where they use it, a removed one leaves them.
Each follows in its own draft history, so it can be seen and undone in its own designer."""

from __future__ import annotations

import copy
from typing import Any

from lowcode.conditions.renames import rename_field

Doc = dict[str, Any]
LIST_COLUMNS = 8
"""An added field joins the list's columns while it has fewer than this."""
NOT_IN_LISTS = frozenset({"child_table", "long_text", "attachment"})


def field_changes(before: Doc, after: Doc, rename: tuple[str, str] | None) -> tuple[dict, list, list]:
    """(renamed old -> new, removed keys, added keys) between two bodies of an entity. Without an explicit
    rename, a field that disappeared and one that appeared at the same place with the same type are a rename
    (how undo and redo of a rename look)."""
    old = {f["name"]: (i, f["type"]) for i, f in enumerate(before.get("fields") or ())}
    new = {f["name"]: (i, f["type"]) for i, f in enumerate(after.get("fields") or ())}
    removed = [k for k in old if k not in new]
    added = [k for k in new if k not in old]
    renames = {}
    if rename and rename[0] in removed and rename[1] in added:
        renames[rename[0]] = rename[1]
    for key in removed:
        twin = next((a for a in added if new[a] == old[key] and a not in renames.values()), None)
        if key not in renames and twin is not None:
            renames[key] = twin
    removed = [k for k in removed if k not in renames]
    added = [k for k in added if k not in renames.values()]
    return renames, removed, added


def _entry_key(entry: Any) -> str:
    return entry.get("field", "") if isinstance(entry, dict) else entry


def _renamed_entry(entry: Any, renames: dict) -> Any:
    if isinstance(entry, dict):
        for old, new in renames.items():
            entry = {k: rename_field(v, old, new) if k.endswith("_when") else v for k, v in entry.items()}
    key = _entry_key(entry)
    if key not in renames:
        return entry
    return {**entry, "field": renames[key]} if isinstance(entry, dict) else renames[key]


def follow_form(form: Doc, renames: dict, removed: list, added: list) -> Doc:
    """The form with renamed fields renamed, removed ones gone and added ones at the end of its last section."""
    new = copy.deepcopy(form)
    sections = []
    for section in new.get("sections") or ():
        fields = [
            _renamed_entry(e, renames) for e in section.get("fields") or () if _entry_key(e) not in removed
        ]
        if fields:
            sections.append({**section, "fields": fields})
    placed = {_entry_key(e) for s in sections for e in s["fields"]}
    missing = [k for k in added if k not in placed]
    if missing:
        if not sections:
            sections.append({"fields": []})
        sections[-1]["fields"].extend(missing)
    new["sections"] = sections
    return new


def follow_view(view: Doc, renames: dict, removed: list, added: list, types: dict[str, str]) -> Doc:
    """The list view with renamed columns, sort and search fields renamed and removed ones gone; an added
    field becomes a column while the list is short."""
    new = copy.deepcopy(view)
    new["columns"] = [renames.get(c, c) for c in new.get("columns") or () if c not in removed]
    for key in added:
        if len(new["columns"]) < LIST_COLUMNS and types.get(key) not in NOT_IN_LISTS:
            new["columns"].append(key)
    if "search_fields" in new:
        new["search_fields"] = [renames.get(c, c) for c in new["search_fields"] if c not in removed]
    for old_key, new_key in renames.items():
        if "filter" in new:
            new["filter"] = rename_field(new["filter"], old_key, new_key)
    if "sort" in new:
        new["sort"] = [
            {**s, "field": renames.get(s.get("field"), s.get("field"))}
            for s in new["sort"]
            if s.get("field") not in removed
        ]
    return new


def follow_fields(dc, entity: str, before: Doc, after: Doc, rename: tuple[str, str] | None) -> None:
    """Bring the entity's form and list view (as they stand in the designer) in line with its fields."""
    renames, removed, added = field_changes(before, after, rename)
    if not (renames or removed or added):
        return
    types = {f["name"]: f["type"] for f in after.get("fields") or ()}
    summary = f"follows the fields of {entity}"
    found = dc.workspace.form_of(entity)
    if found is not None:
        name = found[0]
        state = dc.history.state("form", name)
        body = follow_form(state.body, renames, removed, added)
        if body["sections"] and all(s["fields"] for s in body["sections"]):
            dc.history.edit("form", name, state.seq, body, summary)
    found = dc.workspace.view_of(entity)
    if found is not None:
        name = found[0]
        state = dc.history.state("view", name)
        body = follow_view(state.body, renames, removed, added, types)
        if body["columns"]:
            dc.history.edit("view", name, state.seq, body, summary)
