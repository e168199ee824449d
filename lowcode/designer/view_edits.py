"""The edits of the view designer, one per section of a list view (columns, sort, filter, search, page size,
kanban, calendar, related lists, label): each reads its posted form into a changed copy of the view and names
the change. A name the entity does not offer is refused (422 with the path), never saved; the view's JSON
Schema then judges the whole when the draft is saved."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lowcode.core.numbers import digits_to_int
from lowcode.core.texts import Text
from lowcode.definitions.checks import AppDocuments
from lowcode.designer.conditions import ConditionBuilder
from lowcode.errors import DefinitionInvalid
from lowcode.registry import Registry

MAX_CARD_FIELDS = 6


@dataclass
class ViewEdit:
    """One posted change: the view body to change (a copy), the form, and the app's documents."""

    body: dict[str, Any]
    form: Any
    docs: AppDocuments
    language: str

    @property
    def entity(self) -> str:
        """The view's entity."""
        return self.body["entity"]

    def columns(self) -> list[str]:
        """The entity's fields that have a value to show (stored, not child tables)."""
        return [n for n, cf in self.docs.typed_fields(self.entity).items() if cf.has_column]

    def refuse(self, path: str, name: str) -> DefinitionInvalid:
        """The refusal of a name the entity does not offer at ``path``."""
        message = Text("'{name}' is not a field this setting can use", name=name)
        return DefinitionInvalid(message, fields={path: [message]})


SectionEdit = Callable[[ViewEdit], str]
"""Changes ``edit.body`` from the form; returns the summary of the change."""
sections: Registry[SectionEdit] = Registry("view designer section")


def apply_edit(section: str, body: dict[str, Any], form, docs: AppDocuments, language: str):
    """``(new body, summary)`` of a posted change of ``section``. :raises UnknownType: :raises DefinitionInvalid:"""
    edit = ViewEdit(copy.deepcopy(body), form, docs, language)
    summary = sections.get(section)(edit)
    return edit.body, summary


def _pick(edit: ViewEdit, name: str, allowed: list[str], path: str) -> str:
    if name not in allowed:
        raise edit.refuse(path, name)
    return name


def _set(body: dict, key: str, value: Any) -> None:
    if value in (None, [], {}, ""):
        body.pop(key, None)
    else:
        body[key] = value


def edit_columns(edit: ViewEdit) -> str:
    """``change``: ``add`` (``field``), ``remove`` (``key``), ``move`` (``key`` with ``direction`` up/down or
    ``position``)."""
    columns = list(edit.body.get("columns") or [])
    change, key = edit.form.get("change", ""), edit.form.get("key", "")
    if change == "add":
        name = _pick(edit, edit.form.get("field", ""), edit.columns(), "columns")
        if name not in columns:
            columns.append(name)
    elif change in ("remove", "move") and key not in columns:
        raise edit.refuse("columns", key)
    elif change == "remove":
        columns.remove(key)
    elif change == "move":
        step = {"up": -1, "down": 1}.get(edit.form.get("direction", ""))
        index = columns.index(key)
        position = index + step if step else digits_to_int(edit.form.get("position", ""))
        if position is None:
            raise DefinitionInvalid(
                "Say where the column goes", fields={"columns": ["position or direction"]}
            )
        columns.insert(max(0, min(position, len(columns) - 1)), columns.pop(index))
    else:
        raise DefinitionInvalid("Unknown change of the columns", fields={"columns": [f"change {change!r}"]})
    edit.body["columns"] = columns
    return f"{change} column {key or edit.form.get('field', '')}"


def _sort_rows(edit: ViewEdit, prefix: str, path: str) -> list[dict[str, str]]:
    """Sort keys posted as ``<prefix>/<i>/field`` and ``.../direction``; rows without a field are dropped."""
    sortable = list(edit.docs.kinds(edit.entity)) if prefix == "sort" else None
    keys = []
    for i in range(50):
        name = edit.form.get(f"{prefix}/{i}/field")
        if name is None:
            break
        if not name:
            continue
        if sortable is not None:
            _pick(edit, name, sortable, f"{path}/{i}/field")
        direction = "desc" if edit.form.get(f"{prefix}/{i}/direction") == "desc" else "asc"
        keys.append({"field": name, "direction": direction})
    return keys


def edit_sort(edit: ViewEdit) -> str:
    """The default sort: several keys, each a field and a direction."""
    _set(edit.body, "sort", _sort_rows(edit, "sort", "sort"))
    return "changed the sort"


def edit_filter(edit: ViewEdit) -> str:
    """The filter built with the condition builder (refused with the problems of each row)."""
    builder = ConditionBuilder.for_entity(edit.docs, edit.entity, edit.language)
    parsed = builder.parse(edit.form, "filter")
    if parsed.errors:
        raise DefinitionInvalid(Text("The filter has problems"), fields=parsed.errors, condition=parsed.doc)
    _set(edit.body, "filter", parsed.doc)
    return "changed the filter"


def edit_search(edit: ViewEdit) -> str:
    """The fields the list's search box looks in."""
    allowed = [n for n, k in edit.docs.kinds(edit.entity).items() if k == "text"]
    chosen = [_pick(edit, n, allowed, "search_fields") for n in edit.form.getlist("search_fields")]
    _set(edit.body, "search_fields", list(dict.fromkeys(chosen)))
    return "changed the search fields"


def edit_page_size(edit: ViewEdit) -> str:
    """Rows per page (blank: the platform's default)."""
    raw = edit.form.get("page_size", "").strip()
    number = digits_to_int(raw)
    if raw and number is None:
        raise DefinitionInvalid("Not a whole number", fields={"page_size": ["expected a whole number"]})
    _set(edit.body, "page_size", number)
    return "changed the page size"


def edit_label(edit: ViewEdit) -> str:
    """The list's heading in each language (blank: the entity's label)."""
    label = {lang: edit.form.get(f"label:{lang}", "").strip() for lang in ("en", "zh-CN")}
    _set(edit.body, "label", {k: v for k, v in label.items() if v})
    return "changed the label"


def kanban_fields(docs: AppDocuments, entity: str) -> list[str]:
    """Fields a board may group by: select fields (a workflow's state field is one)."""
    return [f["name"] for f in docs.entities.get(entity, {}).get("fields", []) if f.get("type") == "select"]


def date_fields(docs: AppDocuments, entity: str) -> list[str]:
    """Fields a calendar may place records by."""
    return [n for n, k in docs.kinds(entity).items() if k in ("date", "datetime")]


def edit_kanban(edit: ViewEdit) -> str:
    """The board: the field to group by (blank: no board) and up to six card fields."""
    group_by = edit.form.get("group_by", "")
    if not group_by:
        edit.body.pop("kanban", None)
        return "removed the board"
    board = {"group_by": _pick(edit, group_by, kanban_fields(edit.docs, edit.entity), "kanban/group_by")}
    cards = [_pick(edit, n, edit.columns(), "kanban/card_fields") for n in edit.form.getlist("card_fields")]
    if len(cards) > MAX_CARD_FIELDS:
        message = Text("A card shows at most {n} fields", n=MAX_CARD_FIELDS)
        raise DefinitionInvalid(message, fields={"kanban/card_fields": [message]})
    _set(board, "card_fields", list(dict.fromkeys(cards)))
    edit.body["kanban"] = board
    return "changed the board"


def edit_calendar(edit: ViewEdit) -> str:
    """The calendar's date field (blank: no calendar)."""
    name = edit.form.get("date_field", "")
    if not name:
        edit.body.pop("calendar", None)
        return "removed the calendar"
    edit.body["calendar"] = {"date_field": _pick(edit, name, date_fields(edit.docs, edit.entity), "calendar")}
    return "changed the calendar"


def related_sources(docs: AppDocuments, entity: str) -> list[tuple[str, str]]:
    """(entity, link field) pairs of the app whose link field names ``entity``: what a related list can show."""
    return [
        (name, f["name"])
        for name, body in sorted(docs.entities.items())
        for f in body.get("fields", [])
        if f.get("type") == "link" and (f.get("options") or {}).get("entity") == entity
    ]


def edit_related(edit: ViewEdit) -> str:
    """``change``: ``add`` (``source`` ``<entity>.<field>``), ``remove`` or ``update`` (``index``: columns,
    sort, page size) of the related lists shown on a record's page."""
    related = list(edit.body.get("related") or [])
    change = edit.form.get("change", "")
    if change == "add":
        pairs = {f"{e}.{f}": (e, f) for e, f in related_sources(edit.docs, edit.entity)}
        source = edit.form.get("source", "")
        if source not in pairs:
            raise edit.refuse("related", source)
        entity, field = pairs[source]
        taken = {r["name"] for r in related}
        name = next(n for n in (entity, *(f"{entity}_{i}" for i in range(2, 99))) if n not in taken)[:48]
        columns = [n for n, cf in edit.docs.typed_fields(entity).items() if cf.has_column and n != field][:4]
        related.append({"name": name, "entity": entity, "field": field, "columns": columns or [field]})
        edit.body["related"] = related
        return f"added related list {name}"
    index = digits_to_int(edit.form.get("index", ""))
    if index is None or index >= len(related):
        raise DefinitionInvalid("No such related list", fields={"related": ["index"]})
    if change == "remove":
        gone = related.pop(index)
        _set(edit.body, "related", related)
        return f"removed related list {gone['name']}"
    entry = dict(related[index])
    path = f"related/{index}"
    allowed = [n for n, cf in edit.docs.typed_fields(entry["entity"]).items() if cf.has_column]
    entry["columns"] = [_pick(edit, n, allowed, f"{path}/columns") for n in edit.form.getlist("columns")]
    sort = _sort_rows(edit, "rsort", f"{path}/sort")
    for i, key in enumerate(sort):
        _pick(edit, key["field"], list(edit.docs.kinds(entry["entity"])), f"{path}/sort/{i}/field")
    _set(entry, "sort", sort)
    raw = edit.form.get("page_size", "").strip()
    _set(entry, "page_size", digits_to_int(raw) if raw else None)
    if raw and digits_to_int(raw) is None:
        raise DefinitionInvalid(
            "Not a whole number", fields={f"{path}/page_size": ["expected a whole number"]}
        )
    related[index] = entry
    edit.body["related"] = related
    return f"changed related list {entry['name']}"


for _name, _edit in {
    "label": edit_label,
    "columns": edit_columns,
    "sort": edit_sort,
    "filter": edit_filter,
    "search": edit_search,
    "page_size": edit_page_size,
    "kanban": edit_kanban,
    "calendar": edit_calendar,
    "related": edit_related,
}.items():
    sections.register(_name, _edit)
