"""The workflow designer: ``/design/<app>/workflows`` (the app's workflows; a new one for an entity's select
field, whose choices can be made from the states) and ``/design/<app>/workflow/<name>`` - the diagram of states
and transitions (server-rendered SVG, :mod:`lowcode.workflows.layout`), the checks before publish, and the
panel of the state or transition clicked (htmx; ``?state=`` / ``?transition=`` without script). Every change is
saved at once as draft steps of the documents it touches (:mod:`lowcode.designer.workflow_links`), with undo and
redo; the changes themselves are :mod:`lowcode.designer.workflow_edits`. App designers only."""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import redirect, render_template, request, url_for

from lowcode.core.texts import Text
from lowcode.designer.blueprint import DesignContext, bp, design_work
from lowcode.designer.panels import read_label
from lowcode.designer.workflow_changes import apply_change
from lowcode.designer.workflow_edits import STATE_NAME, WorkflowEdit
from lowcode.designer.workflow_links import KIND, marker, require_stamp, save, walk
from lowcode.designer.workflow_page import list_page, workflow_page
from lowcode.errors import BadRequest, DefinitionInvalid, NotFound, UnknownType

KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_STATES = 100
_UNSET = object()


def _render_list(dc: DesignContext, errors: dict | None = None, status: int = 200):
    page = {**list_page(dc), "errors": errors or {}, "posted": request.form if errors else {}}
    return render_template("designer/workflows.html", p=page), status


@bp.get("/<app>/workflows")
def workflows(app: str):
    """The app's workflows and the form of a new one."""
    with design_work(app) as dc:
        return _render_list(dc)


def _new_documents(dc: DesignContext, form) -> tuple[dict, dict]:
    """The new workflow and its entity as changed for it (a new or completed select field), from the
    posted ``target`` (``entity/field``), ``name``, ``label``, ``states`` (one per line) and
    ``make_choices``. :raises DefinitionInvalid:"""
    entity_name, _, field_name = form.get("target", "").partition("/")
    entities = dc.workspace.entities()
    entity = copy.deepcopy(entities.get(entity_name) or {})
    taken = {w.get("entity") for w in dc.workspace.docs.get(KIND, {}).values()}
    if not entity or entity.get("child") or entity_name in taken or not KEY.match(field_name):
        raise _refused("target", Text("Choose a table without a workflow and its state field"))
    field = next((f for f in entity.get("fields") or () if f["name"] == field_name), None)
    if field is not None and field.get("type") != "select":
        raise _refused("target", Text("The state field must be a choice (select) field"))
    states = list(dict.fromkeys(line.strip() for line in form.get("states", "").splitlines() if line.strip()))
    if not states and field is not None:
        states = [str(c.get("value")) for c in (field.get("options") or {}).get("choices") or ()]
    if not states or len(states) > MAX_STATES or not all(STATE_NAME.match(s) for s in states):
        raise _refused("states", Text("Name the states, one per line: lower-case letters, digits and _"))
    name = form.get("name", "").strip() or f"{entity_name}_flow"
    if not KEY.match(name) or name in dc.workspace.docs.get(KIND, {}):
        raise _refused("name", Text("Choose another name: lower-case letters, digits and _, not taken"))
    if field is None:
        label = {"en": "Status", "zh-CN": "状态"} if field_name == "status" else {"en": field_name}
        field = {"name": field_name, "type": "select", "label": label, "default": states[0], "options": {}}
        entity.setdefault("fields", []).append(field)
        form = {**form, "make_choices": "1"}
    if form.get("make_choices") == "1":
        choices = field.setdefault("options", {}).setdefault("choices", [])
        have = {c.get("value") for c in choices}
        choices.extend({"value": s} for s in states if s not in have)
    body = {
        "schema_version": 1,
        "name": name,
        "label": read_label(form, "label") or {"en": name},
        "entity": entity_name,
        "state_field": field_name,
        "initial": states[0],
        "states": [{"name": s} for s in states],
        "transitions": [],
    }
    return body, entity


def _refused(path: str, message: Text) -> DefinitionInvalid:
    return DefinitionInvalid(message, fields={path: [message]})


@bp.post("/<app>/workflows")
def create_workflow(app: str):
    """A new workflow as a draft (its entity's state field made or completed), opened in the designer."""
    with design_work(app) as dc:
        try:
            body, entity = _new_documents(dc, request.form)
            with dc.ctx.session.begin_nested():
                before = dc.workspace.entities().get(entity["name"])
                documents = ({"entity": {entity["name"]: before}}, {"entity": {entity["name"]: entity}})
                save(dc, body["name"], *documents, "state field for the workflow")
                dc.history.create(KIND, body["name"], body, marker(body["name"]) + "created")
        except DefinitionInvalid as exc:
            return _render_list(dc, exc.fields, 422)
        dc.audit(KIND, body["name"], "created", entity=entity["name"])
    return redirect(url_for("designer.workflow", app=app, name=body["name"]), code=303)


def _selected() -> tuple[str, str] | None:
    for kind in ("state", "transition"):
        if request.args.get(kind):
            return kind, request.args[kind]
    return None


def render_workflow(dc: DesignContext, name: str, errors=None, selected=None, condition=_UNSET, status=200):
    """The workflow designer page (``errors`` by path; ``selected``: the panel to open)."""
    page = workflow_page(dc, name, errors or {}, selected, condition)
    return render_template("designer/workflow.html", p=page), status


@bp.get("/<app>/workflow/<name>")
def workflow(app: str, name: str):
    """The workflow designer: diagram, checks, and the panel of ``?state=`` or ``?transition=``."""
    with design_work(app) as dc:
        return render_workflow(dc, name, selected=_selected())


@bp.get("/<app>/workflow/<name>/panel")
def workflow_panel(app: str, name: str):
    """The panel of ``?state=`` or ``?transition=`` alone (htmx swaps it beside the diagram)."""
    with design_work(app) as dc:
        page = workflow_page(dc, name, {}, _selected())
        if page["panel"] is None:
            raise NotFound("The workflow has no such state or transition")
        return render_template("designer/_workflow_panel.html", p=page)


def _documents(edit: WorkflowEdit, name: str) -> dict[str, dict[str, Any]]:
    return {KIND: {name: edit.body}, "entity": {edit.body["entity"]: edit.entity}, "role": edit.roles}


_AFTER = {
    "add_state": lambda form: ("state", form.get("name", "")),
    "state": lambda form: ("state", form.get("state", "")),
    "add_transition": lambda form: ("transition", form.get("name", "")),
    "transition": lambda form: ("transition", form.get("transition", "")),
}
"""The panel that stays open after a change (none after a removal)."""


@bp.post("/<app>/workflow/<name>/edit/<change>")
def edit_workflow(app: str, name: str, change: str):
    """Apply one change (``add_state``, ``state``, ``delete_state``, ``add_transition``, ``transition``,
    ``delete_transition``, ``settings``) made on the page whose ``stamp`` is posted; a refusal shows the
    page again with its errors and saves nothing."""
    with design_work(app) as dc:
        body = dc.history.state(KIND, name).body
        if "stamp" not in request.form:
            raise BadRequest("The change names no draft step ('stamp'): reload the designer")
        require_stamp(dc, name, body["entity"], request.form["stamp"])
        edit = WorkflowEdit.of(body, dc.workspace.docs, request.form, dc.workspace.language)
        before = copy.deepcopy(_documents(edit, name))
        selected = _AFTER.get(change, lambda form: None)(request.form)
        try:
            summary = apply_change(change, edit)
        except UnknownType as exc:
            raise BadRequest(exc.message) from exc
        except DefinitionInvalid as exc:
            shown = selected if change not in ("add_state", "add_transition") else None
            return render_workflow(dc, name, exc.fields, shown, exc.extra.get("condition", _UNSET), 422)
        try:
            with dc.ctx.session.begin_nested():
                saved = save(dc, name, before, _documents(edit, name), summary)
        except DefinitionInvalid as exc:
            return render_workflow(dc, name, exc.fields, None, status=422)
        for kind, doc_name in saved:
            dc.audit(kind, doc_name, summary, workflow=name)
        args = {selected[0]: selected[1]} if selected else {}
        return redirect(url_for("designer.workflow", app=app, name=name, **args), code=303)


@bp.post("/<app>/workflow/<name>/undo")
def workflow_undo(app: str, name: str):
    """Undo the workflow designer's last change (Ctrl+Z)."""
    return _walk(app, name, "undo")


@bp.post("/<app>/workflow/<name>/redo")
def workflow_redo(app: str, name: str):
    """Redo the change undone last (Ctrl+Shift+Z)."""
    return _walk(app, name, "redo")


def _walk(app: str, name: str, direction: str):
    with design_work(app) as dc:
        body = dc.history.state(KIND, name).body
        if "stamp" not in request.form:
            raise BadRequest("The change names no draft step ('stamp'): reload the designer")
        require_stamp(dc, name, body["entity"], request.form["stamp"])
        walk(dc, name, body["entity"], direction)
        return redirect(url_for("designer.workflow", app=app, name=name), code=303)
