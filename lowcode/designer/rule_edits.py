"""The rule designer's edits as plain functions: rule document in, new rule document out.

Actions are addressed by their place (``at``): ``"2"`` is the third action of the rule, ``"2/actions/0"`` the
first action nested in it (a loop's). The property panel of an action is generated from its plugin's
``options_schema`` (:func:`action_panel_schema`, read back by :mod:`lowcode.designer.panels`), so a new action
type needs no code here. None of these judges the result: the draft is checked when it is saved
(:mod:`lowcode.designer.rule_checks`) and the errors come back by JSON path.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from lowcode.designer.panels import Choices, read_inputs, read_label
from lowcode.errors import BadRequest
from lowcode.rules.actions.base import RuleAction

Doc = dict[str, Any]
AT = re.compile(r"^[0-9]{1,3}(/actions/[0-9]{1,3}){0,10}$")
"""The place of an action: its index, then ``/actions/<i>`` per level of nesting."""
NESTED = "actions"
EVENTS = ("create", "update", "delete", "restore")
PHASES = ("before", "after")


def new_rule(name: str, label: Mapping[str, str], entity: str, first: Doc) -> Doc:
    """A new rule: after every create and update of ``entity``, running ``first``."""
    return {
        "schema_version": 1,
        "name": name,
        "label": dict(label) or {"en": name},
        "entity": entity,
        "trigger": {"events": ["create", "update"], "phase": "after"},
        "actions": [first],
    }


def action_panel_schema(plugin: RuleAction) -> dict[str, Any]:
    """What an action's property panel edits: its ``when`` and its options (nested actions are edited as a
    list of their own, not in the panel)."""
    options = plugin.options_schema
    props: dict[str, Any] = {"when": {"type": "string", "maxLength": 2000, "x-widget": "expression"}}
    props |= {k: v for k, v in (options.get("properties") or {}).items() if k != NESTED}
    required = [k for k in options.get("required") or () if k != NESTED]
    return {"type": "object", "required": required, "properties": props}


def holds_actions(plugin: RuleAction) -> bool:
    """Whether an action runs nested actions (a loop)."""
    return NESTED in (plugin.options_schema.get("properties") or {})


def starter_action(plugin: RuleAction, choices: Choices) -> Doc:
    """A new action of ``plugin``'s type: its ``starter_options``, and the first of the designer's choices
    for each required option with an ``x-widget`` it leaves open (a loop's table, a create's entity)."""
    action: Doc = {"type": plugin.type, **copy.deepcopy(plugin.starter_options)}
    props = plugin.options_schema.get("properties") or {}
    for key in plugin.options_schema.get("required") or ():
        widget = (props.get(key) or {}).get("x-widget")
        if key not in action and widget:
            found = choices(widget)
            if found:
                action[key] = found[0][0]
    return action


def _path(at: str) -> list[int]:
    if not AT.match(at or ""):
        raise BadRequest("The change names no action ('at', such as 2 or 2/actions/0)")
    return [int(part) for part in at.split("/") if part != NESTED]


def locate(body: Doc, at: str) -> tuple[list[Doc], int]:
    """The list holding the action at ``at`` and its index there. :raises KeyError: no such action."""
    actions = body.get("actions")
    indices = _path(at)
    for depth, index in enumerate(indices):
        if not isinstance(actions, list) or index >= len(actions) or not isinstance(actions[index], dict):
            raise KeyError(at)
        if depth == len(indices) - 1:
            return actions, index
        actions = actions[index].get(NESTED)
    raise KeyError(at)


def action_at(body: Doc, at: str) -> Doc:
    """The action at ``at``. :raises KeyError:"""
    actions, index = locate(body, at)
    return actions[index]


def add_action(body: Doc, into: str, action: Doc) -> tuple[Doc, str]:
    """``action`` appended to the rule (``into`` empty) or to the nested actions of the loop at ``into``;
    returns the document and the new action's place."""
    new = copy.deepcopy(body)
    if not into:
        new.setdefault("actions", []).append(action)
        return new, str(len(new["actions"]) - 1)
    loop = action_at(new, into)
    nested = loop.setdefault(NESTED, [])
    nested.append(action)
    return new, f"{into}/{NESTED}/{len(nested) - 1}"


def move_action(body: Doc, at: str, step: int) -> tuple[Doc, str]:
    """The action at ``at`` moved ``step`` places within its list (kept inside it); returns its new place."""
    new = copy.deepcopy(body)
    actions, index = locate(new, at)
    target = max(0, min(index + step, len(actions) - 1))
    actions.insert(target, actions.pop(index))
    head = at.rsplit("/", 1)[0] + "/" if "/" in at else ""
    return new, f"{head}{target}"


def remove_action(body: Doc, at: str) -> Doc:
    """The rule without the action at ``at`` (and what it nests)."""
    new = copy.deepcopy(body)
    actions, index = locate(new, at)
    actions.pop(index)
    return new


def update_action(
    body: Doc, at: str, plugin: RuleAction, form: Mapping[str, str], extra: Mapping[str, Any] | None = None
) -> Doc:
    """The action at ``at`` with its posted panel (its type and nested actions kept); ``extra``: the options
    read by the rule panel's own widgets (None: left out)."""
    new = copy.deepcopy(body)
    actions, index = locate(new, at)
    old = actions[index]
    posted = read_inputs(action_panel_schema(plugin), form) | dict(extra or {})
    action: Doc = {"type": old["type"]}
    action.update({k: v for k, v in posted.items() if v not in (None, "")})
    if NESTED in old:
        action[NESTED] = old[NESTED]
    actions[index] = action
    return new


def _words(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def update_trigger(body: Doc, form, condition: Doc | None, old_condition: Doc | None = None) -> Doc:
    """The rule with its posted settings: label, enabled, order, then a record trigger (events, phase,
    fields changed, transition) or a schedule (cron, time zone), with ``condition`` (the condition builder's
    document, None for none) on it and, for a record trigger, ``old_condition`` (on the record before the
    write). Values are passed through as posted; the schema judges them."""
    new = copy.deepcopy(body)
    label = read_label(form, "label")
    if label:
        new["label"] = label
    new["enabled"] = form.get("enabled") == "1"
    if (form.get("order") or "").strip():
        order = form["order"].strip()
        new["order"] = int(order) if order.isdigit() and len(order) < 7 else order
    else:
        new.pop("order", None)
    if form.get("kind") == "schedule":
        new.pop("trigger", None)
        schedule: Doc = {"cron": (form.get("cron") or "").strip()}
        if (form.get("timezone") or "").strip():
            schedule["timezone"] = form["timezone"].strip()
        if condition:
            schedule["condition"] = condition
        new["schedule"] = schedule
        return new
    new.pop("schedule", None)
    trigger: Doc = {"events": form.getlist("events"), "phase": form.get("phase") or "after"}
    if form.getlist("fields_changed"):
        trigger["fields_changed"] = form.getlist("fields_changed")
    mode = form.get("transition_mode")
    if mode == "workflow" and form.getlist("transitions"):
        trigger["transition"] = form.getlist("transitions")
    elif mode == "field" and (form.get("transition_field") or "").strip():
        change: Doc = {"field": form["transition_field"].strip()}
        for key in ("from", "to"):
            if _words(form.get(f"transition_{key}") or ""):
                change[key] = _words(form[f"transition_{key}"])
        trigger["transition"] = change
    if condition:
        trigger["condition"] = condition
    if old_condition:
        trigger["old_condition"] = old_condition
    new["trigger"] = trigger
    return new
