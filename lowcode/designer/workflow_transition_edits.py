"""The workflow designer's transition edits: add, change (who may, condition, required fields, confirmation)
and remove a transition; conventions as in :mod:`lowcode.designer.workflow_edits`."""

from __future__ import annotations

from typing import Any

from lowcode.core.texts import Text
from lowcode.definitions.checks import AppDocuments
from lowcode.designer.conditions import ConditionBuilder
from lowcode.designer.panels import read_label
from lowcode.designer.workflow_edits import (
    WorkflowEdit,
    new_name,
    refuse,
    refuse_if_triggering,
    set_or_drop,
    set_roles,
    transition_taken,
)
from lowcode.errors import DefinitionInvalid


def _posted_route(edit: WorkflowEdit) -> tuple[list[str], str]:
    """The posted sources (``from``, one or more states) and target (``to``) of a transition, checked."""
    sources = edit.posted_states("from", "from")
    target = edit.form.get("to", "")
    if not sources:
        raise refuse("from", Text("Tick the states the transition starts from"))
    if target not in edit.states():
        raise refuse("to", Text("The workflow has no state '{name}'", name=target))
    if target in sources:
        raise refuse("to", Text("A transition leads to another state than the ones it starts from"))
    return sources, target


def add_transition(edit: WorkflowEdit) -> str:
    """A new transition (``name``, ``label``, ``from`` - one or more states -, ``to``)."""
    name = new_name(edit, [t["name"] for t in edit.body["transitions"]], transition_taken)
    sources, target = _posted_route(edit)
    transition: dict[str, Any] = {
        "name": name,
        "from": sources[0] if len(sources) == 1 else sources,
        "to": target,
    }
    set_or_drop(transition, "label", read_label(edit.form, "label"))
    edit.body["transitions"].append(transition)
    return f"added transition {name}"


def edit_transition(edit: WorkflowEdit) -> str:
    """A transition's panel: label, sources, target, taken by the app only, who may (``roles``), condition
    (the condition builder, prefix ``condition``) with its message, required fields, confirmation."""
    name = edit.form.get("transition", "")
    t = edit.transition(name)
    sources, target = _posted_route(edit)
    t["from"], t["to"] = (sources[0] if len(sources) == 1 else sources), target
    set_or_drop(t, "label", read_label(edit.form, "label"))
    set_or_drop(t, "automatic", edit.form.get("automatic") == "1" or None)
    required = list(dict.fromkeys(edit.form.getlist("required_fields")))
    for f in required:
        if f not in edit.fillable():
            raise refuse("required_fields", Text("'{name}' is not a field this setting can use", name=f))
    set_or_drop(t, "required_fields", required)
    set_or_drop(t, "confirm", read_label(edit.form, "confirm"))
    builder = ConditionBuilder.for_entity(AppDocuments(edit.docs), edit.body["entity"], edit.language)
    parsed = builder.parse(edit.form, "condition")
    if parsed.errors:
        raise DefinitionInvalid(
            Text("The condition has problems"), fields=parsed.errors, condition=parsed.doc
        )
    set_or_drop(t, "condition", parsed.doc)
    set_or_drop(t, "condition_message", read_label(edit.form, "condition_message") if parsed.doc else None)
    roles = list(dict.fromkeys(edit.form.getlist("roles")))
    for role in roles:
        if role not in edit.roles:
            raise refuse("roles", Text("The app has no role '{name}'", name=role))
    set_roles(edit, name, [] if t.get("automatic") else roles)
    return f"changed transition {name}"


def delete_transition(edit: WorkflowEdit) -> str:
    """Remove a transition, and its name from the roles' grants; refused while a rule is triggered by it."""
    name = edit.form.get("transition", "")
    edit.transition(name)
    refuse_if_triggering(edit, name)
    edit.body["transitions"] = [t for t in edit.body["transitions"] if t["name"] != name]
    set_roles(edit, name, [])
    return f"removed transition {name}"
