"""What the workflow designer's pages show: the list of an app's workflows with what a new one can be made for,
and one workflow - its diagram (:mod:`lowcode.workflows.layout`), the checks before publish
(:mod:`lowcode.workflows.analysis` and the publish's own checks) and the panel of a state or transition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lowcode.definitions.checks import AppDocuments
from lowcode.designer.blueprint import DesignContext
from lowcode.designer.conditions import ConditionBuilder
from lowcode.designer.workflow_edits import WorkflowEdit
from lowcode.designer.workflow_links import KIND, stamp
from lowcode.fields.base import normalise_label, pick_label
from lowcode.workflows.analysis import Analysis, analyse
from lowcode.workflows.layout import Edge, layout
from lowcode.workflows.model import COLORS, as_list
from lowcode.workflows.validate import role_transition_errors, workflow_check

STROKES = {
    "grey": "#6c757d",
    "blue": "#0d6efd",
    "green": "#198754",
    "amber": "#b58100",
    "red": "#dc3545",
    "purple": "#6f42c1",
    "teal": "#12967a",
}
FILLS = {
    "grey": "#f1f3f5",
    "blue": "#e7f1ff",
    "green": "#e8f5ee",
    "amber": "#fff6db",
    "red": "#fbe9eb",
    "purple": "#f0ebf8",
    "teal": "#e6f9f3",
}
COLOR_LABELS = {
    "grey": _l("grey"),
    "blue": _l("blue"),
    "green": _l("green"),
    "amber": _l("amber"),
    "red": _l("red"),
    "purple": _l("purple"),
    "teal": _l("teal"),
}
_UNSET = object()


def _label(doc: Mapping[str, Any], fallback: str, language: str) -> str:
    return pick_label(normalise_label(doc.get("label"), fallback), language, fallback)


def list_page(dc: DesignContext) -> dict[str, Any]:
    """The app's workflows and the (entity, select field) pairs a new workflow can use."""
    ws = dc.workspace
    entities = ws.entities()
    taken = {w.get("entity") for w in ws.docs.get(KIND, {}).values()}
    rows = []
    for name, body in sorted(ws.docs.get(KIND, {}).items()):
        roles = ws.docs.get("role", {})
        rows.append(
            {
                "name": name,
                "label": _label(body, name, ws.language),
                "entity": ws.label(entities.get(body.get("entity"), {}), body.get("entity", "")),
                "states": len(body.get("states") or ()),
                "transitions": len(body.get("transitions") or ()),
                "pending": ws.pending(KIND, name),
                "problems": len(analyse(body, roles).findings),
            }
        )
    targets = []
    for name, body in sorted(entities.items()):
        if body.get("child") or name in taken:
            continue
        entity_label = ws.label(body, name)
        fields = [f for f in body.get("fields") or () if f.get("type") == "select"]
        for f in fields:
            targets.append((f"{name}/{f['name']}", f"{entity_label} · {ws.label(f, f['name'])}"))
        if not any(f["name"] == "status" for f in body.get("fields") or ()):
            targets.append((f"{name}/status", f"{entity_label} · {_('a new field status')}"))
    return {"app": ws.app, "workflows": rows, "targets": targets}


def checks_of(dc: DesignContext, body: Mapping[str, Any], analysis: Analysis) -> list[dict[str, str]]:
    """The problems to show before publish: the analysis' findings, then what the publish would refuse."""
    found = [
        {"kind": f.kind, "subject": f.subject, "name": f.name, "message": f.message}
        for f in analysis.findings
    ]
    docs = AppDocuments(dc.workspace.docs)
    errors = workflow_check(body, docs)
    for role in dc.workspace.docs.get("role", {}).values():
        grants = role.get("grants") or []
        for path, messages in role_transition_errors(role, docs).items():
            index = int(path.split("/grants/")[1].split("/")[0])
            if grants[index].get("entity") == body["entity"]:
                errors.setdefault(path, []).extend(messages)
    for path, messages in errors.items():
        for message in messages:
            found.append({"kind": "publish", "subject": "", "name": path, "message": message})
    return found


def workflow_page(
    dc: DesignContext, name: str, errors: dict, selected: tuple[str, str] | None, condition: Any = _UNSET
) -> dict[str, Any]:
    """Everything ``designer/workflow.html`` shows; ``selected``: the open panel (``state``/``transition``,
    name), ``condition``: a transition's condition as posted, when it was refused."""
    state = dc.history.state(KIND, name)
    body, ws = state.body, dc.workspace
    language = ws.language
    roles = ws.docs.get("role", {})
    analysis = analyse(body, roles)
    choices = _choices(ws.docs, body)
    labels = {
        s["name"]: _label(s if s.get("label") else choices.get(s["name"], {}), s["name"], language)
        for s in body["states"]
    }
    edges = [
        Edge(t["name"], src, t["to"], _label(t, t["name"], language))
        for t in body["transitions"]
        for src in as_list(t["from"])
    ]
    starts = [*as_list(body["initial"]), *(body.get("automatic_initial") or ())]
    diagram = layout([s["name"] for s in body["states"]], starts, edges, labels)
    flagged = {(f.subject, f.name) for f in analysis.findings}
    colors = {
        s["name"]: s.get("color") or choices.get(s["name"], {}).get("color") or "grey" for s in body["states"]
    }
    colors = {s: c if c in COLORS else "grey" for s, c in colors.items()}
    page = {
        "app": ws.app,
        "name": name,
        "body": body,
        "label": normalise_label(body.get("label"), ""),
        "entity": body["entity"],
        "entity_label": ws.label(ws.entities().get(body["entity"], {}), body["entity"]),
        "state": state,
        "stamp": "",
        "steps": dc.history.steps(KIND, name)[:20],
        "errors": errors,
        "diagram": diagram,
        "colors": {s: (STROKES[c], FILLS[c]) for s, c in colors.items()},
        "initial": set(starts),
        "ends": analysis.end_states,
        "flagged": flagged,
        "labels": labels,
        "transitions": [(t["name"], _label(t, t["name"], language), t) for t in body["transitions"]],
        "granted_by": {
            t: [_label(roles.get(r, {}), r, language) for r in names]
            for t, names in analysis.granted_by.items()
        },
        "automatic": {t["name"] for t in body["transitions"] if t.get("automatic")},
        "checks": checks_of(dc, body, analysis),
        "color_names": [(c, str(COLOR_LABELS[c])) for c in COLORS],
        "selected": selected,
        "panel": None,
    }
    if selected is not None:
        page["panel"] = panel(dc, body, selected, errors, analysis, condition)
    page["stamp"] = stamp(dc, name, body["entity"])
    return page


def _choices(docs: Mapping[str, Mapping[str, dict]], body: Mapping[str, Any]) -> dict[str, Mapping]:
    """The state field's choices by value (their labels and colours stand in for a state's own)."""
    entity = docs.get("entity", {}).get(body["entity"], {})
    field = next((f for f in entity.get("fields") or () if f["name"] == body["state_field"]), {})
    return {
        c["value"]: c
        for c in (field.get("options") or {}).get("choices") or ()
        if isinstance(c, Mapping) and "value" in c
    }


def panel(
    dc: DesignContext,
    body: dict[str, Any],
    selected: tuple[str, str],
    errors: dict,
    analysis: Analysis,
    condition: Any = _UNSET,
) -> dict[str, Any] | None:
    """The panel of a state or a transition (None for one the workflow does not have)."""
    ws = dc.workspace
    kind, item = selected
    edit = WorkflowEdit.of(body, ws.docs, {}, ws.language)
    fields = {f["name"]: ws.label(f, f["name"]) for f in edit.entity.get("fields") or ()}
    if kind == "state":
        doc = next((s for s in body["states"] if s["name"] == item), None)
        if doc is None:
            return None
        lock = doc.get("lock") or {}
        chosen = set(lock.get("except", lock.get("fields", [])))
        return {
            "kind": kind,
            "name": item,
            "label": normalise_label(doc.get("label"), ""),
            "color": doc.get("color", ""),
            "initial": item in as_list(body["initial"]),
            "deletable": doc.get("delete", True),
            "lock": "record" if lock.get("record") else ("fields" if lock else "none"),
            "lock_fields": [(n, fields[n], n in chosen) for n in edit.lockable()],
            "findings": analysis.about("state", item),
        }
    doc = next((t for t in body["transitions"] if t["name"] == item), None)
    if doc is None:
        return None
    builder = ConditionBuilder.for_entity(AppDocuments(ws.docs), body["entity"], ws.language)
    sources = set(as_list(doc["from"]))
    granted = set(analysis.granted_by.get(item, ()))
    return {
        "kind": kind,
        "name": item,
        "label": normalise_label(doc.get("label"), ""),
        "sources": [
            (s["name"], _label(s, s["name"], ws.language), s["name"] in sources) for s in body["states"]
        ],
        "target": doc["to"],
        "automatic": bool(doc.get("automatic")),
        "roles": [
            (n, _label(r, n, ws.language), n in granted, bool(r.get("admin")))
            for n, r in sorted(ws.docs.get("role", {}).items())
        ],
        "condition": builder.rows(
            doc.get("condition") if condition is _UNSET else condition, "condition", errors
        ),
        "condition_message": normalise_label(doc.get("condition_message"), ""),
        "required": [(n, fields[n], n in (doc.get("required_fields") or ())) for n in edit.fillable()],
        "confirm": normalise_label(doc.get("confirm"), "") if doc.get("confirm") else {},
        "findings": analysis.about("transition", item),
        "row_url": url_for("designer.condition_row", app=ws.app, name=body["entity"]),
    }
