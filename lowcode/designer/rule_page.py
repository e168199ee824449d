"""What the rule designer page shows (``designer/rule.html``): the trigger with its choices from the app's
definitions (the entity's fields, its workflow's transitions), the condition builder, the actions as a tree
with the palette of every registered action, the property panel of the chosen action, the problems the
publish would report, the dry-run form and the rule's run log."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l

from lowcode.api.edge import services
from lowcode.definitions.checks import AppDocuments
from lowcode.designer.blueprint import DesignContext
from lowcode.designer.conditions import ConditionBuilder
from lowcode.designer.labels import rule_action_label
from lowcode.designer.rule_checks import publish_problems
from lowcode.designer.rule_edits import EVENTS, PHASES, action_at, action_panel_schema, holds_actions
from lowcode.designer.rule_runs import runs_model
from lowcode.designer.rule_widgets import Place, panel_inputs
from lowcode.errors import BadRequest, UnknownType
from lowcode.rules.actions.base import rule_actions

KIND = "rule"
EVENT_LABELS = {
    "create": _l("created"),
    "update": _l("changed"),
    "delete": _l("deleted"),
    "restore": _l("restored"),
}
PHASE_LABELS = {
    "before": _l("before it is saved (may change or refuse it)"),
    "after": _l("after it is saved (same transaction)"),
}

PHASE_WORDS = {
    "before": _l("before the record is saved"),
    "after": _l("after the record is saved"),
    "schedule": _l("on a schedule"),
}


def _only_in(phases) -> str:
    """When an action may run, in words: "before the record is saved", ..."""
    return ", ".join(str(PHASE_WORDS.get(p, p)) for p in sorted(phases, key=list(PHASE_WORDS).index))


def _phase(doc: dict) -> str:
    return "schedule" if "schedule" in doc else (doc.get("trigger") or {}).get("phase", "after")


def _plugin(kind: str):
    try:
        return rule_actions.get(kind)
    except UnknownType:
        return None


def action_tree(doc: dict, phase: str, problems: dict, prefix: str = "", actions=None) -> list[dict]:
    """The actions as nested rows: place, type, label, whether they may run in the phase, their problems."""
    rows = []
    for i, action in enumerate(doc.get("actions") or [] if actions is None else actions):
        at = f"{prefix}{i}"
        kind = action.get("type", "") if isinstance(action, dict) else ""
        plugin = _plugin(kind)
        here = f"actions/{at}"
        rows.append(
            {
                "at": at,
                "type": kind,
                "label": rule_action_label(kind),
                "when": action.get("when") if isinstance(action, dict) else None,
                "allowed": plugin is not None and phase in plugin.phases,
                "problems": sum(len(v) for k, v in problems.items() if k == here or k.startswith(here + "/")),
                "loop": plugin is not None and holds_actions(plugin),
                "nested": action_tree(doc, phase, problems, f"{at}/actions/", action.get("actions") or [])
                if plugin is not None and holds_actions(plugin)
                else [],
            }
        )
    return rows


def _panel(dc: DesignContext, doc: dict, selected: str | None, errors: dict) -> dict | None:
    if not selected:
        return None
    try:
        action = action_at(doc, selected)
    except (KeyError, BadRequest):  # a stale or malformed place opens no panel
        return None
    plugin = _plugin(action.get("type", ""))
    if plugin is None:
        return None
    head = f"actions/{selected}/"
    own = {path[len(head) :]: m for path, m in errors.items() if path.startswith(head)}
    own |= {"type": errors[f"actions/{selected}"]} if f"actions/{selected}" in errors else {}
    target = action.get("entity") if isinstance(action.get("entity"), str) else doc["entity"]
    schema = action_panel_schema(plugin)
    return {
        "at": selected,
        "type": plugin.type,
        "label": rule_action_label(plugin.type),
        "inputs": panel_inputs(Place(dc.workspace, doc, selected, action), plugin.type, schema, own),
        "errors": own,
        "field_keys": sorted(
            f["name"] for f in (dc.workspace.entities().get(target) or {}).get("fields") or ()
        ),
    }


def _taken(transition: Any) -> list[str]:
    """The workflow transitions a trigger names (one name, or a list)."""
    if isinstance(transition, str):
        return [transition]
    return list(transition) if isinstance(transition, list) else []


def _transitions(dc: DesignContext, entity: str) -> list[tuple[str, str]]:
    """The workflow transitions of the entity (a rule may fire on them by name)."""
    ws = dc.workspace
    return [
        (t["name"], f"{ws.label(t, t['name'])} ({t['name']})")
        for body in (ws.docs.get("workflow") or {}).values()
        if body.get("entity") == entity
        for t in body.get("transitions") or ()
        if isinstance(t, dict) and "name" in t
    ]


def rule_page(
    dc: DesignContext,
    name: str,
    selected: str | None = None,
    errors: dict | None = None,
    shown: dict | None = None,
    condition_errors: dict | None = None,
    failed_only: bool = False,
) -> dict[str, Any]:
    """The page model of rule ``name`` (``shown``: a refused change's document, drawn instead of the draft)."""
    state = dc.history.state(KIND, name)
    doc = shown or state.body
    ws = dc.workspace
    errors = errors or {}
    entity = doc["entity"]
    docs = AppDocuments(ws.docs)
    phase = _phase(doc)
    trigger = doc.get("trigger") or {}
    schedule = doc.get("schedule") or {}
    transition = trigger.get("transition")
    fields = [
        (f["name"], f"{ws.label(f, f['name'])} ({f['name']})")
        for f in (ws.entities().get(entity) or {}).get("fields") or ()
    ]
    problems = publish_problems(
        doc, {**ws.docs, KIND: {**ws.docs.get(KIND, {}), name: doc}}, services().settings
    )
    builder = ConditionBuilder.for_entity(docs, entity, ws.language)
    condition = (schedule if "schedule" in doc else trigger).get("condition")
    allowed = {key: phase in rule_actions.get(key).phases for key in rule_actions}
    published = dc.ctx.snapshot.entities.get((ws.app, entity))
    return {
        "app": ws.app,
        "name": name,
        "label": ws.label(doc, name),
        "doc": doc,
        "entity": entity,
        "entity_label": ws.label(ws.entities().get(entity) or {}, entity),
        "state": state,
        "steps": dc.history.steps(KIND, name)[:20],
        "errors": errors,
        "problems": problems,
        "kind": "schedule" if "schedule" in doc else "event",
        "phase": phase,
        "phase_words": str(PHASE_WORDS.get(phase, phase)),
        "trigger": trigger,
        "schedule": schedule,
        "events": [(e, str(EVENT_LABELS[e])) for e in EVENTS],
        "phases": [(p, str(PHASE_LABELS[p])) for p in PHASES],
        "fields": fields,
        "transitions": _transitions(dc, entity),
        "transition_mode": "workflow"
        if isinstance(transition, (list, str))
        else "field"
        if isinstance(transition, dict)
        else "none",
        "taken": _taken(transition),
        "change": transition if isinstance(transition, dict) else {},
        "condition": builder.rows(condition, "condition", condition_errors or {}),
        "old_condition": builder.rows(trigger.get("old_condition"), "old_condition", condition_errors or {}),
        "row_url": url_for("designer.condition_row", app=ws.app, name=entity),
        "actions": action_tree(doc, phase, {**problems, **errors}),
        "palette": [(key, rule_action_label(key)) for key in rule_actions if allowed[key]],
        "unavailable": [
            (key, rule_action_label(key), _only_in(rule_actions.get(key).phases))
            for key in rule_actions
            if not allowed[key]
        ],
        "panel": _panel(dc, doc, selected, {**problems, **errors}),
        "trigger_errors": {k: v for k, v in {**problems, **errors}.items() if not k.startswith("actions")},
        "runs": runs_model(dc, name, failed_only),
        "failed_only": failed_only,
        "dry_run": {
            "published": published is not None and not published.is_child,
            "picker": url_for("designer.rule_records", app=ws.app, name=name),
            "fields": [(n, t) for n, t in fields if n in docs.writable(entity)],
        },
    }


def render_rule(dc: DesignContext, name: str, status: int = 200, **options: Any):
    """The rule designer page (see :func:`rule_page` for the options)."""
    return render_template("designer/rule.html", p=rule_page(dc, name, **options)), status
