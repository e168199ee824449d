"""The edits of the app settings page, one per section of ``app.json``: its label, a menu group (key, label,
the tables it lists) and a home page work queue (key, label, table, condition built with the condition
builder). Each reads its posted form into a changed copy of the app definition and names the change; a table the
app does not have, a key used twice or a condition with problems is refused (422 with the path), never saved."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lowcode.core.numbers import digits_to_int
from lowcode.core.texts import Text
from lowcode.definitions.checks import AppDocuments
from lowcode.designer.conditions import ConditionBuilder
from lowcode.designer.panels import read_label
from lowcode.errors import DefinitionInvalid
from lowcode.registry import Registry

KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def queue_prefix(index: int) -> str:
    """The condition builder's prefix of the queue at ``index`` (unique on the page: row ids follow it)."""
    return f"queue{index}"


@dataclass
class AppEdit:
    """One posted change: the app body to change (a copy), the form, and the app's documents."""

    body: dict[str, Any]
    form: Any
    docs: AppDocuments
    language: str

    def tables(self) -> list[str]:
        """The app's tables a menu or queue may name (not lines of another table)."""
        return sorted(n for n, e in self.docs.entities.items() if not e.get("child"))

    def refuse(self, path: str, message: Text | str) -> DefinitionInvalid:
        """A refusal at ``path``."""
        return DefinitionInvalid(message, fields={path: [message]})

    def index(self, items: list) -> int | None:
        """The posted ``index`` of an existing item (None: a new one). :raises DefinitionInvalid:"""
        raw = self.form.get("index", "")
        if raw == "":
            return None
        number = digits_to_int(raw)
        if number is None or number >= len(items):
            raise self.refuse("index", Text("There is no such entry: reload the page"))
        return number

    def key(self, name: str, path: str, taken: list[str]) -> str:
        """A posted key checked (the form of a key, not used by another entry)."""
        key = (self.form.get(name) or "").strip()
        if not KEY.match(key):
            raise self.refuse(
                path, Text("A name is lower-case letters, digits and _ and starts with a letter")
            )
        if key in taken:
            raise self.refuse(path, Text("'{name}' is used by another entry", name=key))
        return key


SectionEdit = Callable[[AppEdit], str]
"""Changes ``edit.body`` from the form; returns the summary of the change."""
sections: Registry[SectionEdit] = Registry("app settings section")


def apply_edit(section: str, body: dict[str, Any], form, docs: AppDocuments, language: str):
    """``(new body, summary)`` of a posted change of ``section``. :raises UnknownType: :raises DefinitionInvalid:"""
    edit = AppEdit(copy.deepcopy(body), form, docs, language)
    summary = sections.get(section)(edit)
    return edit.body, summary


def _moved(items: list, index: int, change: str) -> bool:
    """Apply ``remove``/``up``/``down`` to ``items[index]``; True if it was one of them."""
    if change == "remove":
        del items[index]
    elif change in ("up", "down"):
        other = index - 1 if change == "up" else index + 1
        if 0 <= other < len(items):
            items[index], items[other] = items[other], items[index]
    else:
        return False
    return True


def edit_label(edit: AppEdit) -> str:
    """The app's label in each language."""
    label = read_label(edit.form, "label")
    if not label:
        raise edit.refuse("label", Text("Give the app a label"))
    edit.body["label"] = label
    return "changed the app's label"


def edit_menu_group(edit: AppEdit) -> str:
    """A menu group: ``change`` save (``group``, ``label:<lang>``, ``items``: tables) / remove / up / down."""
    menu = list(edit.body.get("menu") or [])
    groups = [i for i, m in enumerate(menu) if "group" in m]
    index = edit.index(groups)
    change = edit.form.get("change", "save")
    if index is not None and _moved_group(menu, groups, index, change):
        _set(edit.body, "menu", menu)
        return f"{change} menu group {menu[groups[index]]['group'] if change != 'remove' else index}"
    current = menu[groups[index]] if index is not None else {}
    taken = [menu[i]["group"] for i in groups if i != (groups[index] if index is not None else None)]
    key = edit.key("group", "group", taken)
    label = read_label(edit.form, "label") or {"en": key}
    tables = edit.tables()
    chosen = edit.form.getlist("items")
    for name in chosen:
        if name not in tables:
            raise edit.refuse("items", Text("'{name}' is not a table of this app", name=name))
    if not chosen:
        raise edit.refuse("items", Text("Choose at least one table for the group"))
    kept = [i for i in current.get("items") or [] if i.get("entity") in chosen]
    kept += [{"entity": n} for n in chosen if n not in {i.get("entity") for i in kept}]
    group = {**current, "group": key, "label": label, "items": kept}
    if index is None:
        menu.append(group)
    else:
        menu[groups[index]] = group
    _set(edit.body, "menu", menu)
    return f"{'added' if index is None else 'changed'} menu group {key}"


def _moved_group(menu: list, groups: list[int], index: int, change: str) -> bool:
    if change == "remove":
        del menu[groups[index]]
        return True
    if change in ("up", "down"):
        other = index - 1 if change == "up" else index + 1
        if 0 <= other < len(groups):
            a, b = groups[index], groups[other]
            menu[a], menu[b] = menu[b], menu[a]
        return True
    return False


def edit_queue(edit: AppEdit) -> str:
    """A work queue: ``change`` save (``name``, ``label:<lang>``, ``entity``, the condition rows) / remove /
    up / down. A new queue, or one moved to another table, starts from that table's first condition row."""
    queues = list(edit.body.get("queues") or [])
    index = edit.index(queues)
    change = edit.form.get("change", "save")
    if index is not None and _moved(queues, index, change):
        _set(edit.body, "queues", queues)
        return f"{change} work queue {index}"
    current = queues[index] if index is not None else {}
    key = edit.key("name", "name", [q["name"] for i, q in enumerate(queues) if i != index])
    entity = edit.form.get("entity", "")
    if entity not in edit.tables():
        raise edit.refuse("entity", Text("'{name}' is not a table of this app", name=entity))
    builder = ConditionBuilder.for_entity(edit.docs, entity, edit.language)
    prefix = queue_prefix(index if index is not None else len(queues))
    if current.get("entity") == entity and f"c:{prefix}/mode" in edit.form:
        parsed = builder.parse(edit.form, prefix)
        if parsed.errors:
            raise DefinitionInvalid(
                Text("The condition has problems"), fields=parsed.errors, condition=parsed.doc
            )
        condition = parsed.doc
    else:
        condition = None
    if condition is None:
        first = next(iter(builder.fields), None)
        if first is None:
            raise edit.refuse("entity", Text("'{name}' has no field to test", name=entity))
        condition = {"field": first, "op": "is_not_empty"}
    queue = {"name": key, "label": read_label(edit.form, "label") or {"en": key}, "entity": entity}
    queue["condition"] = condition
    if index is None:
        queues.append(queue)
    else:
        queues[index] = queue
    _set(edit.body, "queues", queues)
    return f"{'added' if index is None else 'changed'} work queue {key}"


def _set(body: dict, key: str, value: Any) -> None:
    if value:
        body[key] = value
    else:
        body.pop(key, None)


sections.register("label", edit_label)
sections.register("menu", edit_menu_group)
sections.register("queue", edit_queue)
