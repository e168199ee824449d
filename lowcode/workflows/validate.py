"""Publish-time checks of workflows and of what refers to their transitions (role grants, rule triggers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.conditions import parse_condition
from lowcode.errors import ConditionInvalid, UnknownType
from lowcode.fields import field_types
from lowcode.workflows.model import as_list

Errors = dict[str, list[str]]


def workflow_check(doc: Mapping[str, Any], docs: Any) -> Errors:
    """The problems of one workflow (``docs``: the app's :class:`~lowcode.definitions.checks.AppDocuments`),
    keyed by ``workflow:<name>/<json path>``: its entity exists, is not a child table and has no other
    workflow; then its states, transitions, locks and conditions."""
    prefix = f"workflow:{doc['name']}"
    entity = docs.entities.get(doc["entity"])
    if entity is None:
        return {f"{prefix}/entity": [f"unknown entity '{doc['entity']}'"]}
    if entity.get("child"):
        return {f"{prefix}/entity": [f"'{doc['entity']}' is a child table: its rows follow their parent"]}
    first = min(name for name, other in docs.of("workflow").items() if other["entity"] == doc["entity"])
    if first != doc["name"]:
        return {f"{prefix}/entity": [f"entity '{doc['entity']}' already has the workflow '{first}'"]}
    errors: Errors = {}
    _check_one(prefix, doc, entity, docs.kinds, errors)
    return errors


def _check_one(
    prefix: str, doc: Mapping[str, Any], entity: Mapping[str, Any], kinds_of, errors: Errors
) -> None:
    def add(path: str, message: str) -> None:
        errors.setdefault(f"{prefix}/{path}", []).append(message)

    fields = {f["name"]: f for f in entity["fields"]}
    state_field = fields.get(doc["state_field"])
    if state_field is None or state_field["type"] != "select":
        add("state_field", f"'{doc['state_field']}' is not a select field of '{doc['entity']}'")
        return
    choices = [c["value"] for c in state_field.get("options", {}).get("choices", [])]
    names = [s["name"] for s in doc["states"]]
    for i, state in enumerate(names):
        if names.index(state) != i:
            add(f"states/{i}/name", f"duplicate state '{state}'")
        elif state not in choices:
            add(f"states/{i}/name", f"'{state}' is not a choice of the field '{doc['state_field']}'")
    for value in choices:
        if value not in names:
            add("states", f"the choice '{value}' of '{doc['state_field']}' is not declared as a state")
    for i, state in enumerate(as_list(doc["initial"])):
        if state not in names:
            add("initial" if isinstance(doc["initial"], str) else f"initial/{i}", f"unknown state '{state}'")
    for i, state in enumerate(doc.get("automatic_initial", [])):
        if state not in names:
            add(f"automatic_initial/{i}", f"unknown state '{state}'")
    default = state_field.get("default")
    if default is not None and default not in as_list(doc["initial"]):
        add("initial", f"the default '{default}' of '{doc['state_field']}' is not an initial state")
    stored = {name for name, f in fields.items() if _fillable(f)}
    for i, state in enumerate(doc["states"]):
        lock = state.get("lock", {})
        for key in ("fields", "except"):
            for field_name in lock.get(key, []):
                if field_name not in fields:
                    add(f"states/{i}/lock/{key}", f"unknown field '{field_name}'")
                elif field_name == doc["state_field"]:
                    add(f"states/{i}/lock/{key}", "the state field changes by transitions only")
    seen: set[str] = set()
    for i, t in enumerate(doc["transitions"]):
        here = f"transitions/{i}"
        if t["name"] in seen:
            add(f"{here}/name", f"duplicate transition '{t['name']}'")
        seen.add(t["name"])
        for state in as_list(t["from"]):
            if state not in names:
                add(f"{here}/from", f"unknown state '{state}'")
        if t["to"] not in names:
            add(f"{here}/to", f"unknown state '{t['to']}'")
        elif t["to"] in as_list(t["from"]):
            add(f"{here}/to", f"'{t['to']}' is also a state it starts from: a transition changes the state")
        for field_name in t.get("required_fields", []):
            if field_name not in stored:
                add(f"{here}/required_fields", f"'{field_name}' is not a field that can be filled in")
            elif field_name == doc["state_field"]:
                add(f"{here}/required_fields", "the state field is set by the transition itself")
        if t.get("condition"):
            try:
                parse_condition(t["condition"], kinds_of(doc["entity"]))
            except ConditionInvalid as exc:
                add(f"{here}/condition", f"{exc.message} {exc.fields}".strip())


def _fillable(fdoc: Mapping[str, Any]) -> bool:
    """A field a client can fill in: known, stored, not computed, not a child table."""
    try:
        ftype = field_types.get(fdoc["type"])
    except UnknownType:
        return False
    return not ftype.computed and not getattr(ftype, "holds_children", False)


def _declared(docs: Any, entity: str) -> set[str]:
    """The transition names of ``entity``'s workflows."""
    return {
        t["name"] for w in docs.of("workflow").values() if w["entity"] == entity for t in w["transitions"]
    }


def role_transition_errors(role: Mapping[str, Any], docs: Any) -> Errors:
    """A role's grants may only name transitions of their entity's workflow."""
    errors: Errors = {}
    for i, grant in enumerate(role.get("grants", [])):
        known = _declared(docs, grant["entity"])
        for name in grant.get("transitions", []):
            if name not in known:
                errors.setdefault(f"role:{role['name']}/grants/{i}/transitions", []).append(
                    f"'{grant['entity']}' has no workflow transition '{name}'"
                )
    return errors


def rule_transition_errors(rule: Mapping[str, Any], docs: Any) -> Errors:
    """A rule triggered by transitions names transitions of its entity's workflow, on the update event."""
    trigger = rule.get("trigger") or {}
    names = trigger.get("transition")
    if not isinstance(names, (str, list)):
        return {}
    errors: Errors = {}
    path = f"rule:{rule['name']}/trigger/transition"
    known = _declared(docs, rule["entity"])
    for name in as_list(names):
        if name not in known:
            errors.setdefault(path, []).append(f"'{rule['entity']}' has no workflow transition '{name}'")
    if "update" not in trigger.get("events", []):
        errors.setdefault(f"rule:{rule['name']}/trigger/events", []).append(
            "a rule on a transition needs the 'update' event (a transition is an update)"
        )
    return errors
