"""The edits of the role designer, one per part of a role: its settings (label, description, admin flag), the
grid of tables x actions, the sensitive operations, and per grant its field rules, record rule (the condition
builder, ``$user`` facts allowed), context conditions (addresses, hours, level), workflow transitions, or its
removal. Each reads its posted form into a changed copy of the role and names the change. A name the app does
not offer (a table, field, action, operation or transition) is refused with its path and nothing is saved; the
role's JSON Schema then judges the whole when the draft is saved."""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lowcode.auth.permissions import ACTIONS
from lowcode.core.numbers import digits_to_int
from lowcode.core.texts import Text
from lowcode.definitions.checks import AppDocuments
from lowcode.designer.conditions import ConditionBuilder
from lowcode.designer.panels import read_label
from lowcode.errors import DefinitionInvalid
from lowcode.registry import Registry

RULES = ("hidden", "read_only")
"""What a field rule may say (no rule: visible and, with a write action, editable)."""
MAX_ADDRESSES = 50
MAX_LEVEL = 100
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_END = re.compile(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")


@dataclass
class RoleEdit:
    """One posted change: the role body to change (a copy), the form, the app's documents and language."""

    body: dict[str, Any]
    form: Any
    docs: AppDocuments
    language: str

    @property
    def grants(self) -> list[dict[str, Any]]:
        """The role's grants (a list in the body, created when missing)."""
        return self.body.setdefault("grants", [])

    def grant(self) -> tuple[int, dict[str, Any]]:
        """The grant the form names (``grant``: its index; ``entity``: its table, which must agree).

        :raises DefinitionInvalid: no such grant (or not of that table: the page was stale).
        """
        index = digits_to_int(self.form.get("grant", ""))
        if index is None or index >= len(self.grants):
            raise refusal("grants", Text("No such grant: reload the role"))
        grant = self.grants[index]
        if grant.get("entity") != self.form.get("entity", grant.get("entity")):
            raise refusal(f"grants/{index}", Text("No such grant: reload the role"))
        return index, grant


def refusal(path: str, message: Text) -> DefinitionInvalid:
    """A refused change with its message at ``path`` (nothing is saved)."""
    return DefinitionInvalid(message, fields={path: [message]})


def unknown(path: str, what: Text, name: str) -> DefinitionInvalid:
    """The refusal of a name the app does not offer (``what``: Text("a table"), Text("an action"), ...)."""
    return refusal(path, Text("'{name}' is not {what} of this app", name=name[:80], what=what))


SectionEdit = Callable[[RoleEdit], str]
"""Changes ``edit.body`` from the form; returns the summary of the change."""
sections: Registry[SectionEdit] = Registry("role designer section")


def apply_edit(section: str, body: dict[str, Any], form, docs: AppDocuments, language: str):
    """``(new body, summary)`` of a posted change. :raises UnknownType: :raises DefinitionInvalid:"""
    edit = RoleEdit(copy.deepcopy(body), form, docs, language)
    summary = sections.get(section)(edit)
    return edit.body, summary


def _set(body: dict, key: str, value: Any) -> None:
    if value in (None, [], {}, "", False):
        body.pop(key, None)
    else:
        body[key] = value


def grantable_entities(docs: AppDocuments) -> list[str]:
    """The tables a grant may name: every entity of the app, tables first, then line tables."""
    return sorted(docs.entities, key=lambda n: (bool(docs.entities[n].get("child")), n))


def edit_settings(edit: RoleEdit) -> str:
    """The label and description in each language and the admin flag (every action, every operation)."""
    label = read_label(edit.form, "label")
    edit.body["label"] = label or {"en": edit.body["name"]}
    _set(edit.body, "description", read_label(edit.form, "description"))
    _set(edit.body, "admin", edit.form.get("admin") == "1")
    return "changed the settings"


def edit_grid(edit: RoleEdit) -> str:
    """The grid: ``act:<grant index>`` the actions of each grant shown (none left removes the grant),
    ``act:+<entity>`` the actions of a new grant on a table without one."""
    kept: list[dict[str, Any]] = []
    for index, grant in enumerate(edit.grants):
        actions = _actions(edit, f"act:{index}", f"grants/{index}/actions")
        if actions:
            kept.append({**grant, "actions": actions})
    granted = {g["entity"] for g in kept}
    known = set(edit.docs.entities)
    shown = {f"act:{i}" for i in range(len(edit.grants))}
    for key in edit.form:
        if key.startswith("act:") and key not in shown and not key.startswith("act:+"):
            raise refusal("grants", Text("No such grant: reload the role"))
        if not key.startswith("act:+"):
            continue
        entity = key[len("act:+") :]
        if entity not in known:
            raise unknown("grants", Text("a table"), entity)
        actions = _actions(edit, key, f"grants/{entity}/actions")
        if actions and entity not in granted:
            kept.append({"entity": entity, "actions": actions})
            granted.add(entity)
    edit.body["grants"] = kept
    return "changed the grid of actions"


def _actions(edit: RoleEdit, name: str, path: str) -> list[str]:
    chosen = edit.form.getlist(name)
    for action in chosen:
        if action not in ACTIONS:
            raise unknown(path, Text("an action"), action)
    return [a for a in ACTIONS if a in chosen]


def sensitive_operations(docs: AppDocuments) -> list[dict[str, Any]]:
    """The app's sensitive operations (from its app definition)."""
    return [op for app in docs.of("app").values() for op in app.get("sensitive_operations") or ()]


def edit_operations(edit: RoleEdit) -> str:
    """The sensitive operations the role may perform."""
    known = [op["name"] for op in sensitive_operations(edit.docs)]
    chosen = edit.form.getlist("operations")
    for name in chosen:
        if name not in known:
            raise unknown("operations", Text("a sensitive operation"), name)
    _set(edit.body, "operations", [n for n in known if n in chosen])
    return "changed the sensitive operations"


def edit_fields(edit: RoleEdit) -> str:
    """``f:<field>``: ``hidden``, ``read_only`` or blank (no rule) for the grant's table's fields."""
    index, grant = edit.grant()
    names = edit.docs.fields(grant["entity"])
    rules = dict(grant.get("fields") or {})
    for key in edit.form:
        if not key.startswith("f:"):
            continue
        name, rule = key[2:], edit.form.get(key, "")
        if name not in names:
            raise unknown(f"grants/{index}/fields", Text("a field of the table"), name)
        if rule and rule not in RULES:
            raise unknown(f"grants/{index}/fields/{name}", Text("a field rule"), rule)
        if rule:
            rules[name] = rule
        else:
            rules.pop(name, None)
    _set(grant, "fields", rules)
    return f"changed the field rules of {grant['entity']}"


def record_rule_builder(docs: AppDocuments, entity: str, language: str) -> ConditionBuilder:
    """The condition builder of a grant's record rule: the table's fields; values may be ``$user`` facts."""
    return ConditionBuilder.for_entity(docs, entity, language)


def edit_record_rule(edit: RoleEdit) -> str:
    """The rows the grant covers, built with the condition builder (no condition: every row)."""
    index, grant = edit.grant()
    parsed = record_rule_builder(edit.docs, grant["entity"], edit.language).parse(edit.form, "record_rule")
    if parsed.errors:
        raise DefinitionInvalid(
            Text("The record rule has problems"), fields=parsed.errors, condition=parsed.doc, grant=index
        )
    _set(grant, "record_rule", parsed.doc)
    return f"changed the record rule of {grant['entity']}"


def edit_context(edit: RoleEdit) -> str:
    """When the grant holds: ``ip_in`` (addresses or networks, one per line), ``from``/``to``/``days``/
    ``timezone`` (hours), ``min_level`` (the user's level)."""
    index, grant = edit.grant()
    path = f"grants/{index}/context"
    context: dict[str, Any] = {}
    lines = [line.strip() for line in edit.form.get("ip_in", "").splitlines() if line.strip()]
    if len(lines) > MAX_ADDRESSES:
        raise refusal(f"{path}/ip_in", Text("At most {n} addresses", n=MAX_ADDRESSES))
    for line in lines:
        try:
            ipaddress.ip_network(line, strict=False)
        except ValueError:
            raise refusal(
                f"{path}/ip_in", Text("'{value}' is not an address or network", value=line[:64])
            ) from None
    _set(context, "ip_in", lines)
    hours = _hours(edit, f"{path}/hours")
    _set(context, "hours", hours)
    raw = edit.form.get("min_level", "").strip()
    level = digits_to_int(raw)
    if raw and (level is None or level > MAX_LEVEL):
        raise refusal(f"{path}/min_level", Text("A whole number from 0 to {n}", n=MAX_LEVEL))
    if raw:
        context["min_level"] = level
    _set(grant, "context", context)
    return f"changed the context conditions of {grant['entity']}"


def _hours(edit: RoleEdit, path: str) -> dict[str, Any] | None:
    start, end = edit.form.get("from", "").strip(), edit.form.get("to", "").strip()
    if not start and not end:
        return None
    if not _TIME.match(start) or not _END.match(end) or start >= end:
        raise refusal(path, Text("Hours need a start and a later end (HH:MM, 24:00 at most)"))
    hours: dict[str, Any] = {"from": start, "to": end}
    days = [digits_to_int(d) for d in edit.form.getlist("days")]
    if any(d is None or not 1 <= d <= 7 for d in days):
        raise refusal(f"{path}/days", Text("Days are 1 (Monday) to 7 (Sunday)"))
    if days and len(set(days)) < 7:
        hours["days"] = sorted(set(days))
    zone = edit.form.get("timezone", "").strip()
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise refusal(f"{path}/timezone", Text("'{zone}' is not a time zone", zone=zone[:64])) from None
        if zone != "UTC":
            hours["timezone"] = zone
    return hours


def offered_transitions(docs: AppDocuments, entity: str) -> list[dict[str, Any]]:
    """The transitions of a table's workflows a person may take (automatic ones are the platform's)."""
    return [
        t
        for w in docs.of("workflow").values()
        if w.get("entity") == entity
        for t in w.get("transitions") or ()
        if not t.get("automatic")
    ]


def edit_transitions(edit: RoleEdit) -> str:
    """The workflow transitions the grant lets its holders take."""
    index, grant = edit.grant()
    known = [t["name"] for t in offered_transitions(edit.docs, grant["entity"])]
    chosen = edit.form.getlist("transitions")
    for name in chosen:
        if name not in known:
            raise unknown(f"grants/{index}/transitions", Text("a transition of the table"), name)
    _set(grant, "transitions", [n for n in dict.fromkeys(known) if n in chosen])
    return f"changed the transitions of {grant['entity']}"


def edit_remove(edit: RoleEdit) -> str:
    """Remove the grant (its actions, rules and conditions)."""
    index, grant = edit.grant()
    edit.grants.pop(index)
    return f"removed the grant on {grant['entity']}"


for _name, _edit in {
    "settings": edit_settings,
    "grid": edit_grid,
    "operations": edit_operations,
    "fields": edit_fields,
    "record_rule": edit_record_rule,
    "context": edit_context,
    "transitions": edit_transitions,
    "remove": edit_remove,
}.items():
    sections.register(_name, _edit)
