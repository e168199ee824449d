"""The edits of the workflow designer (states and settings here, transitions in
:mod:`lowcode.designer.workflow_transition_edits`, the registry in :mod:`lowcode.designer.workflow_changes`): each read from its posted
panel into changed copies of the documents it touches - the workflow, the entity (a state is a choice of the
state field) and the app's roles (who may take a transition is the list of roles whose grants name it).

A name the workflow or entity does not offer is refused (422 with the path), never saved; the definitions'
JSON Schemas then judge the whole when the drafts are saved. The view (:mod:`lowcode.designer.workflow_designer`)
saves every changed document as a step of its own draft history.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode.core.texts import Text
from lowcode.definitions.checks import AppDocuments
from lowcode.designer.panels import read_label
from lowcode.errors import DefinitionInvalid
from lowcode.workflows.model import COLORS, as_list

STATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
"""Names of states and transitions made in the designer (stored values and keys)."""
LOCKS = ("none", "record", "fields")


@dataclass
class WorkflowEdit:
    """One posted change: copies of the workflow, its entity and the app's roles to change, and the form."""

    body: dict[str, Any]
    entity: dict[str, Any]
    roles: dict[str, dict[str, Any]]
    form: Any
    docs: Mapping[str, Mapping[str, dict[str, Any]]]
    language: str
    rules: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, workflow: dict, docs: Mapping[str, Mapping[str, dict]], form, language: str) -> WorkflowEdit:
        """An edit of ``workflow`` over the app's documents (``docs``: kind -> name -> body)."""
        entity = docs.get("entity", {}).get(workflow["entity"], {"name": workflow["entity"], "fields": []})
        roles = {n: copy.deepcopy(b) for n, b in docs.get("role", {}).items()}
        return cls(copy.deepcopy(workflow), copy.deepcopy(entity), roles, form, docs, language)

    # -- reading the documents -------------------------------------------------------------------------
    def states(self) -> list[str]:
        """The workflow's state names in declared order."""
        return [s["name"] for s in self.body["states"]]

    def state(self, name: str) -> dict[str, Any]:
        """The state ``name`` (to change in place). :raises DefinitionInvalid:"""
        found = next((s for s in self.body["states"] if s["name"] == name), None)
        if found is None:
            raise refuse("state", Text("The workflow has no state '{name}'", name=name))
        return found

    def transition(self, name: str) -> dict[str, Any]:
        """The transition ``name`` (to change in place). :raises DefinitionInvalid:"""
        found = next((t for t in self.body["transitions"] if t["name"] == name), None)
        if found is None:
            raise refuse("transition", Text("The workflow has no transition '{name}'", name=name))
        return found

    def state_field(self) -> dict[str, Any] | None:
        """The entity's state field (to change in place), None when it is missing or not a select field."""
        found = next(
            (f for f in self.entity.get("fields") or () if f["name"] == self.body["state_field"]), None
        )
        return found if found is not None and found.get("type") == "select" else None

    def lockable(self) -> list[str]:
        """The fields a state may lock: every field of the entity but the state field."""
        return [f["name"] for f in self.entity.get("fields") or () if f["name"] != self.body["state_field"]]

    def fillable(self) -> list[str]:
        """The fields a transition may require: stored fields a person fills in (not the state field)."""
        kinds = AppDocuments(self.docs).writable(self.body["entity"])
        return [n for n in self.lockable() if n in kinds]

    def posted_states(self, key: str, path: str) -> list[str]:
        """States named by a posted list, each one of the workflow's. :raises DefinitionInvalid:"""
        chosen = list(dict.fromkeys(self.form.getlist(key)))
        for name in chosen:
            if name not in self.states():
                raise refuse(path, Text("The workflow has no state '{name}'", name=name))
        return chosen


def refuse(path: str, message: Text) -> DefinitionInvalid:
    """A refusal shown at ``path`` of the panel; nothing is saved."""
    return DefinitionInvalid(message, fields={path: [message]})


def _state_taken(name: str) -> Text:
    return Text("The workflow already has a state '{name}'", name=name)


def transition_taken(name: str) -> Text:
    """The refusal of a transition name already used."""
    return Text("The workflow already has a transition '{name}'", name=name)


def new_name(edit: WorkflowEdit, taken: list[str], taken_message: Callable[[str], Text]) -> str:
    """The posted ``name`` of a new state or transition. :raises DefinitionInvalid: malformed or taken"""
    name = edit.form.get("name", "").strip()
    if not STATE_NAME.match(name):
        raise refuse("name", Text("A name is lower-case letters, digits and _ and starts with a letter"))
    if name in taken:
        raise refuse("name", taken_message(name))
    return name


def set_or_drop(doc: dict, key: str, value: Any) -> None:
    """Set ``doc[key]``, or drop the key when the value is empty (the documents keep no empty keys)."""
    if value in (None, [], {}, ""):
        doc.pop(key, None)
    else:
        doc[key] = value


def _color(edit: WorkflowEdit) -> str | None:
    color = edit.form.get("color", "")
    if color and color not in COLORS:
        raise refuse("color", Text("Not a colour of the list"))
    return color or None


def add_state(edit: WorkflowEdit) -> str:
    """A new state (``name``, ``label:en``/``label:zh-CN``, ``color``), added as a choice of the state field
    too when the field lacks it."""
    name = new_name(edit, edit.states(), _state_taken)
    state: dict[str, Any] = {"name": name}
    set_or_drop(state, "label", read_label(edit.form, "label"))
    set_or_drop(state, "color", _color(edit))
    edit.body["states"].append(state)
    select = edit.state_field()
    if select is not None:
        choices = select.setdefault("options", {}).setdefault("choices", [])
        if all(c.get("value") != name for c in choices):
            choices.append({"value": name, **({"label": state["label"]} if "label" in state else {})})
    return f"added state {name}"


def edit_state(edit: WorkflowEdit) -> str:
    """A state's panel: label, colour, start state, delete allowed, lock (``none``, ``record`` but the
    ticked ``lock_fields``, or the ticked ``fields``)."""
    name = edit.form.get("state", "")
    state = edit.state(name)
    set_or_drop(state, "label", read_label(edit.form, "label"))
    set_or_drop(state, "color", _color(edit))
    if edit.form.get("delete") == "1":
        state.pop("delete", None)
    else:
        state["delete"] = False
    initial = as_list(edit.body["initial"])
    if edit.form.get("initial") == "1" and name not in initial:
        initial.append(name)
    elif edit.form.get("initial") != "1" and name in initial:
        initial.remove(name)
    if not initial:
        raise refuse("initial", Text("A workflow needs a state records start in"))
    edit.body["initial"] = initial[0] if len(initial) == 1 else initial
    mode = edit.form.get("lock", "none")
    if mode not in LOCKS:
        raise refuse("lock", Text("Unknown kind of lock"))
    fields = list(dict.fromkeys(edit.form.getlist("lock_fields")))
    for f in fields:
        if f not in edit.lockable():
            raise refuse("lock", Text("'{name}' is not a field this setting can use", name=f))
    if mode == "none":
        state.pop("lock", None)
    elif mode == "record":
        state["lock"] = {"record": True, **({"except": fields} if fields else {})}
    elif not fields:
        raise refuse("lock", Text("Tick the fields the state locks"))
    else:
        state["lock"] = {"fields": fields}
    return f"changed state {name}"


def delete_state(edit: WorkflowEdit) -> str:
    """Remove a state, the transitions into it and those that start only there (and the roles' grants of
    them), and its choice of the state field."""
    name = edit.form.get("state", "")
    edit.state(name)
    if len(edit.states()) == 1:
        raise refuse("state", Text("A workflow needs at least one state"))
    initial = [s for s in as_list(edit.body["initial"]) if s != name]
    if not initial:
        raise refuse(
            "state",
            Text("'{name}' is the only start state: make another state a start state first", name=name),
        )
    edit.body["initial"] = initial[0] if len(initial) == 1 else initial
    edit.body["states"] = [s for s in edit.body["states"] if s["name"] != name]
    set_or_drop(
        edit.body, "automatic_initial", [s for s in edit.body.get("automatic_initial", []) if s != name]
    )
    kept = []
    for t in edit.body["transitions"]:
        sources = [s for s in as_list(t["from"]) if s != name]
        if t["to"] == name or not sources:
            refuse_if_triggering(edit, t["name"])
            set_roles(edit, t["name"], [])
            continue
        t["from"] = sources[0] if len(sources) == 1 else sources
        kept.append(t)
    edit.body["transitions"] = kept
    select = edit.state_field()
    if select is not None and "choices" in (select.get("options") or {}):
        select["options"]["choices"] = [c for c in select["options"]["choices"] if c.get("value") != name]
    return f"removed state {name}"


def edit_settings(edit: WorkflowEdit) -> str:
    """The workflow's label in each language."""
    set_or_drop(edit.body, "label", read_label(edit.form, "label"))
    return "changed the label"


def refuse_if_triggering(edit: WorkflowEdit, name: str) -> None:
    """Refuse removing transition ``name`` while a rule of the entity is triggered by it."""
    entity = edit.body["entity"]
    rules = sorted(
        rule_name
        for rule_name, rule in edit.docs.get("rule", {}).items()
        if rule.get("entity") == entity and name in _named((rule.get("trigger") or {}).get("transition"))
    )
    if rules:
        raise refuse(
            "transition",
            Text("The rules {rules} run on '{name}': change them first", rules=", ".join(rules), name=name),
        )


def _named(transition: Any) -> list[str]:
    """The transition names a rule trigger lists (a ``{field, from, to}`` trigger names none)."""
    return as_list(transition) if isinstance(transition, (str, list)) else []


def set_roles(edit: WorkflowEdit, transition: str, chosen: list[str]) -> None:
    """Make the grants of exactly the ``chosen`` roles name ``transition``: a chosen role without a grant on
    the entity gets one to read it and take the transition; the others lose the name from their grants."""
    entity = edit.body["entity"]
    for name, role in edit.roles.items():
        if role.get("admin"):
            continue  # an admin role takes every transition that is not the app's own
        grants = [g for g in role.get("grants") or () if g.get("entity") == entity]
        if name in chosen:
            if not grants:
                role.setdefault("grants", []).append(
                    {"entity": entity, "actions": ["read"], "transitions": [transition]}
                )
            for g in grants:
                if transition not in g.get("transitions", []):
                    g.setdefault("transitions", []).append(transition)
        else:
            for g in grants:
                if transition in g.get("transitions", []):
                    g["transitions"].remove(transition)
                    if not g["transitions"]:
                        del g["transitions"]
