"""The entity designer: ``/design/<app>/entity/<name>`` - the palette of every field type, the fields in order
(drag and drop, or move up/down), the property panel of the chosen field generated from its type's schema,
undo and redo. Every change is saved to the draft at once (:mod:`lowcode.designer.history`); the form and
list view of the entity follow added, renamed and removed fields (:mod:`lowcode.designer.follow`)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from lowcode.core.numbers import digits_to_int
from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.trash import list_trash
from lowcode.designer import follow
from lowcode.designer.app_designer import new_entity_documents
from lowcode.designer.blueprint import DesignContext, bp, design_work, posted_base
from lowcode.designer.checks import formula_problems
from lowcode.designer.entity_edits import (
    add_field,
    field_panel_schema,
    move_field,
    remove_field,
    update_field,
)
from lowcode.designer.labels import type_label
from lowcode.designer.panels import build_inputs
from lowcode.designer.usages import find_usages
from lowcode.errors import BadRequest, DefinitionInvalid, NotFound, UnknownType
from lowcode.fields import field_types

KIND = "entity"


def _field_type(key: str):
    try:
        return field_types.get(key)
    except UnknownType as exc:
        raise BadRequest(exc.message) from exc


def _palette() -> list[tuple[str, str]]:
    return [(key, type_label(key)) for key in field_types]


def _panel(dc: DesignContext, name: str, doc: dict, selected: str | None, errors: dict) -> dict | None:
    """The property panel of the selected field, with the errors of its paths (``fields/3/...``)."""
    found = [(i, f) for i, f in enumerate(doc.get("fields") or ()) if f["name"] == selected]
    if not found or found[0][1]["type"] not in field_types:
        return None
    index, chosen = found[0]
    schema = field_panel_schema(field_types.get(chosen["type"]))
    prefix = f"fields/{index}/"
    own = {path[len(prefix) :]: messages for path, messages in errors.items() if path.startswith(prefix)}
    return {
        "key": chosen["name"],
        "type": chosen["type"],
        "inputs": build_inputs(schema, _shown(chosen), dc.workspace.choices_for(name)),
        "errors": own,
        "used_by": find_usages(dc.workspace.docs, name, chosen["name"]),
    }


def render_entity(
    dc: DesignContext, name: str, selected: str | None = None, errors: dict | None = None, status: int = 200
):
    """The designer page of one entity (``selected``: the field whose panel is open)."""
    state = dc.history.state(KIND, name)
    doc = state.body
    ws = dc.workspace
    stored = AppDocuments({**ws.docs, "entity": {**ws.docs.get("entity", {}), name: doc}}).columns(name)
    labels = {f["name"]: ws.label(f, f["name"]) for f in doc.get("fields") or ()}
    fields = [
        {
            "key": f["name"],
            "type": f["type"],
            "type_label": type_label(f["type"]),
            "label": ws.label(f, f["name"]),
        }
        for f in doc.get("fields") or ()
    ]
    page = {
        "app": ws.app,
        "name": name,
        "label": ws.label(doc, name),
        "fields": fields,
        "panel": _panel(dc, name, doc, selected, errors or {}),
        "state": state,
        "palette": _palette(),
        "errors": errors or {},
        "steps": dc.history.steps(KIND, name)[:20],
        "trash": _restorable(dc, name),
        "view": ws.view_of(name),
        "form": ws.form_of(name),
        "indexes": [[labels.get(k, k) for k in group] for group in doc.get("indexes") or ()],
        "index_fields": [(f["key"], f["label"]) for f in fields if f["key"] in stored],
    }
    return render_template("designer/entity.html", p=page), status


def _shown(field: dict[str, Any]) -> dict[str, Any]:
    shown = dict(field)
    if "default" in shown and not isinstance(shown["default"], str):
        shown["default"] = (
            str(shown["default"]).lower() if isinstance(shown["default"], bool) else str(shown["default"])
        )
    return shown


def _after(dc: DesignContext, name: str, selected: str | None):
    return redirect(url_for("designer.entity", app=dc.workspace.app, name=name, field=selected), code=303)


@bp.get("/<app>/entity/<name>")
def entity(app: str, name: str):
    """The entity designer."""
    with design_work(app, name) as dc:
        return render_entity(dc, name, request.args.get("field"))


def change_entity(app: str, name: str, change, selected: str | None = None, after=None):
    """Apply ``change(dc, body) -> (new body, summary, selected, rename)`` to the draft; a refusal shows the
    designer again with every error at its path, nothing saved. ``after(dc)``: the response of a saved change
    (default: the entity designer, with the selected field's panel)."""
    with design_work(app, name) as dc:
        base = posted_base()
        body = dc.history.state(KIND, name).body
        try:
            new_body, summary, selected, rename = change(dc, body)
        except KeyError as exc:
            raise NotFound(f"No field '{exc.args[0]}' in entity '{name}'") from None
        except DefinitionInvalid as exc:
            return render_entity(dc, name, selected, exc.fields, 422)
        try:
            with dc.ctx.session.begin_nested():
                dc.history.edit(KIND, name, base, new_body, summary, rename)
                follow.follow_fields(dc, name, body, new_body, rename)
        except DefinitionInvalid as exc:
            return render_entity(dc, name, selected, exc.fields, 422)
        dc.audit(KIND, name, summary)
        return after(dc) if after else _after(dc, name, selected)


@bp.post("/<app>/entity/<name>/fields")
def add(app: str, name: str):
    """Add a field of the posted ``type`` (at ``position``, else last)."""

    def change(dc, body):
        ftype = _field_type(request.form.get("type", ""))
        position = digits_to_int(request.form.get("position", ""))
        label = {"en" if dc.workspace.language == "en" else "zh-CN": type_label(ftype.type)}
        new, key = add_field(body, ftype, label, dc.workspace.choices_for(name), position)
        if getattr(ftype, "holds_children", False):
            _new_child_entity(dc, new, key, label)
        return new, f"added field {key}", key, None

    return change_entity(app, name, change)


def _new_child_entity(dc: DesignContext, body: dict, key: str, label: dict) -> None:
    """A sub-table field gets an entity of its own for its rows (``<entity>_<field>``), designed next."""
    child = f"{body['name']}_{key}"[:48]
    if child not in dc.workspace.entities():
        documents = new_entity_documents(child, label, child=True)
        dc.history.create("entity", child, documents["entity"], f"created entity {child} for {key}")
    field = next(f for f in body["fields"] if f["name"] == key)
    field["options"] = {**field.get("options", {}), "entity": child}


@bp.post("/<app>/entity/<name>/fields/<key>/move")
def move(app: str, name: str, key: str):
    """Move a field to ``position``, or one place ``up`` / ``down`` (``direction``)."""

    def change(dc, body):
        keys = [f["name"] for f in body["fields"]]
        if key not in keys:
            raise KeyError(key)
        step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
        position = keys.index(key) + step if step else digits_to_int(request.form.get("position", ""))
        if position is None:
            raise BadRequest("Say where the field goes: 'position' or 'direction' up/down")
        return move_field(body, key, position), f"moved field {key}", key, None

    return change_entity(app, name, change)


@bp.post("/<app>/entity/<name>/fields/<key>")
def update(app: str, name: str, key: str):
    """Save a field's property panel (a changed key renames the field, a changed type converts it)."""

    def change(dc, body):
        current = next((f for f in body["fields"] if f["name"] == key), None)
        if current is None:
            raise KeyError(key)
        ftype = _field_type(request.form.get("type") or current["type"])
        new, new_key = update_field(body, key, ftype, request.form)
        return new, f"changed field {key}", new_key, (key, new_key) if new_key != key else None

    return change_entity(app, name, change, key)


@bp.post("/<app>/entity/<name>/fields/<key>/delete")
def delete(app: str, name: str, key: str):
    """Remove a field (its column goes to the trash at publish and can be restored)."""

    def change(dc, body):
        if key not in {f["name"] for f in body["fields"]}:
            raise KeyError(key)
        return remove_field(body, key), f"removed field {key}", None, None

    return change_entity(app, name, change)


@bp.post("/<app>/entity/<name>/undo")
def undo(app: str, name: str):
    """Undo the last change of the draft (Ctrl+Z)."""
    return _walk(app, name, "undo")


@bp.post("/<app>/entity/<name>/redo")
def redo(app: str, name: str):
    """Redo the change undone last (Ctrl+Shift+Z)."""
    return _walk(app, name, "redo")


def _walk(app: str, name: str, direction: str):
    with design_work(app, name) as dc:
        before = dc.history.state(KIND, name).body
        after = dc.walk(KIND, name, direction)
        follow.follow_fields(dc, name, before, after.body, None)
        return _after(dc, name, request.form.get("field") or None)


def _restorable(dc: DesignContext, name: str) -> list[dict]:
    """The entity's trash entries that can be restored (none before its first publish)."""
    if dc.history.state(KIND, name).published_version is None:
        return []
    return [
        t
        for t in list_trash(dc.ctx.session, dc.workspace.app, name)
        if t["state"] == "restorable" and t["field"]
    ]


@bp.post("/<app>/entity/<name>/check-expression")
def check_expression(app: str, name: str):
    """The live check of a formula typed in a panel: what it reads, or why it cannot work (nothing saved)."""
    with design_work(app, name) as dc:
        expression = next((v for k, v in request.form.items() if k.endswith("/expression")), "")
        entities = dc.workspace.entities()
        fields = {f["name"]: f for f in (entities.get(name) or {}).get("fields") or ()}
        problems, names = formula_problems(expression, fields, entities)
        return render_template("designer/_expression_check.html", problems=problems, names=names)
