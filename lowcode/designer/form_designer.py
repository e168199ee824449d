"""The form designer: ``/design/<app>/form/<name>`` - tabs, sections of 1-3 columns, the fields of the entity
placed by drag and drop (or up/down buttons), and per field a help text, a placeholder and the conditions
that show it, require it or make it read-only, built with the visual condition builder. Every change is saved
to the draft at once (:mod:`lowcode.designer.history`); the server enforces the conditions on every write
(:mod:`lowcode.runtime.form_guard`)."""

from __future__ import annotations

import re
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from lowcode.core.numbers import digits_to_int
from lowcode.definitions.checks import AppDocuments
from lowcode.designer import form_edits as edits
from lowcode.designer.blueprint import DesignContext, bp, posted_base
from lowcode.designer.conditions import ConditionBuilder
from lowcode.designer.panels import read_label
from lowcode.designer.view_access import part_work
from lowcode.errors import BadRequest, DefinitionInvalid, NotFound

KIND = "form"
TAB_KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def _int(name: str) -> int:
    number = digits_to_int(request.form.get(name, ""))
    if number is None:
        raise BadRequest(f"'{name}' must be a whole number")
    return number


def _entity_of(dc: DesignContext, name: str) -> str:
    form = dc.workspace.docs.get(KIND, {}).get(name)
    if form is None:
        raise NotFound(f"No form '{name}' in app '{dc.workspace.app}'")
    return form["entity"]


def _builder(dc: DesignContext, entity: str) -> ConditionBuilder:
    return ConditionBuilder.for_entity(AppDocuments(dc.workspace.docs), entity, dc.workspace.language)


def render_form_designer(
    dc: DesignContext, name: str, selected: str | None = None, errors: dict | None = None, status: int = 200
):
    """The designer page of one form (``selected``: the field whose settings are open)."""
    state = dc.history.state(KIND, name)
    form = state.body
    ws = dc.workspace
    entity = form["entity"]
    fields = {f["name"]: f for f in (ws.entities().get(entity) or {}).get("fields") or ()}
    on_form = set(edits.placed(form))
    sections = [
        {
            "index": i,
            "label": s.get("label") or {},
            "columns": s.get("columns", 1),
            "tab": s.get("tab", ""),
            "help": s.get("help") or {},
            "entries": [
                {
                    "key": edits.entry_key(e),
                    "label": ws.label(fields.get(edits.entry_key(e), {}), edits.entry_key(e)),
                    "settings": sorted(k for k in edits.entry_of(e) if k != "field"),
                }
                for e in s.get("fields") or ()
            ],
        }
        for i, s in enumerate(form.get("sections") or ())
    ]
    entry = None
    if selected in on_form:
        si, pi = edits.find(form, selected)
        settings = edits.entry_of(form["sections"][si]["fields"][pi])
        builder = _builder(dc, entity)
        errors = errors or {}
        entry = {
            "key": selected,
            "label": ws.label(fields.get(selected, {}), selected),
            "settings": settings,
            "conditions": {
                c: builder.rows(settings.get(c), c, errors) if c in settings else None
                for c in edits.CONDITIONS
            },
        }
    page = {
        "app": ws.app,
        "name": name,
        "entity": entity,
        "label": ws.label(form, name),
        "state": state,
        "sections": sections,
        "tabs": form.get("tabs") or [],
        "entry": entry,
        "errors": errors or {},
        "unplaced": [(k, ws.label(f, k)) for k, f in fields.items() if k not in on_form],
    }
    return render_template("designer/form.html", p=page), status


@bp.get("/<app>/form/<name>")
def form(app: str, name: str):
    """The form designer."""
    with part_work(app, KIND, name) as dc:
        return render_form_designer(dc, name, request.args.get("field"))


def _change(app: str, name: str, change, selected: str | None = None):
    """Apply ``change(form) -> (new form, summary, selected)`` to the draft; a refusal shows the designer
    again with its errors, nothing saved."""
    with part_work(app, KIND, name) as dc:
        _entity_of(dc, name)
        base = posted_base()
        body = dc.history.state(KIND, name).body
        try:
            new_body, summary, selected = change(dc, body)
        except (KeyError, IndexError) as exc:
            raise NotFound(f"Form '{name}' has no {exc.args[0]!r}") from None
        except DefinitionInvalid as exc:
            return render_form_designer(dc, name, selected, exc.fields, 422)
        try:
            with dc.ctx.session.begin_nested():
                dc.history.edit(KIND, name, base, new_body, summary)
        except DefinitionInvalid as exc:
            return render_form_designer(dc, name, selected, exc.fields, 422)
        dc.audit(KIND, name, summary)
    return redirect(url_for("designer.form", app=app, name=name, field=selected), code=303)


@bp.post("/<app>/form/<name>/place")
def form_place(app: str, name: str):
    """Put a field in a section at a position (from the list of unplaced fields, or moved from elsewhere)."""

    def change(dc, body):
        key = request.form.get("field", "")
        if key not in {
            f["name"] for f in (dc.workspace.entities().get(body["entity"]) or {}).get("fields") or ()
        }:
            raise KeyError(key)
        position = digits_to_int(request.form.get("position", ""))
        return edits.place(body, key, _int("section"), position), f"placed {key}", key

    return _change(app, name, change)


@bp.post("/<app>/form/<name>/fields/<key>/move")
def form_move(app: str, name: str, key: str):
    """Move a field one place up or down within its section (``direction``)."""

    def change(dc, body):
        si, pi = edits.find(body, key)
        step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
        if step is None:
            raise BadRequest("Say where the field goes: 'direction' up or down")
        return edits.place(body, key, si, max(0, pi + step)), f"moved {key}", key

    return _change(app, name, change)


@bp.post("/<app>/form/<name>/fields/<key>/remove")
def form_remove(app: str, name: str, key: str):
    """Take a field off the form (it stays in the entity)."""
    return _change(app, name, lambda dc, body: (edits.unplace(body, key), f"took {key} off the form", None))


@bp.post("/<app>/form/<name>/fields/<key>")
def form_entry(app: str, name: str, key: str):
    """Save a field's help text, placeholder and conditions (the builder's add/remove buttons post here too)."""

    def change(dc, body):
        builder = _builder(dc, body["entity"])
        settings: dict[str, Any] = {
            "help": read_label(request.form, "help"),
            "placeholder": read_label(request.form, "placeholder"),
        }
        errors: dict[str, list[str]] = {}
        for condition in edits.CONDITIONS:
            if request.form.get(f"use:{condition}"):
                form = request.form
                if f"c:{condition}/mode" not in form:  # just ticked: start with one row
                    form = MultiDict([*form.items(multi=True), (f"cadd:{condition}", "row")])
                parsed = builder.parse(form, condition)
                errors.update(parsed.errors)
                settings[condition] = parsed.doc
        if errors:
            raise DefinitionInvalid("A condition is not valid", errors)
        return edits.set_entry(body, key, settings), f"changed the settings of {key}", key

    return _change(app, name, change, key)


@bp.post("/<app>/form/<name>/sections")
def form_add_section(app: str, name: str):
    """Add an empty section at the end."""
    return _change(
        app,
        name,
        lambda dc, body: (
            edits.add_section(body, read_label(request.form, "label")),
            "added a section",
            None,
        ),
    )


@bp.post("/<app>/form/<name>/sections/<int:index>")
def form_section(app: str, name: str, index: int):
    """Save a section's label, columns (1-3), tab and help; or move it (``direction``) or remove it."""

    def change(dc, body):
        if not 0 <= index < len(body["sections"]):
            raise IndexError(f"section {index}")
        action = request.form.get("action", "save")
        if action in ("up", "down"):
            return (
                edits.move_section(body, index, -1 if action == "up" else 1),
                f"moved section {index + 1}",
                None,
            )
        if action == "remove":
            return edits.remove_section(body, index), f"removed section {index + 1}", None
        columns = digits_to_int(request.form.get("columns", "")) or 1
        settings = {
            "label": read_label(request.form, "label"),
            "columns": columns,
            "tab": request.form.get("tab", "").strip(),
            "help": read_label(request.form, "help"),
        }
        return edits.set_section(body, index, settings), f"changed section {index + 1}", None

    return _change(app, name, change)


@bp.post("/<app>/form/<name>/tabs")
def form_tabs(app: str, name: str):
    """Add a tab (``name``, labels) or remove one (``remove``: its name)."""

    def change(dc, body):
        gone = request.form.get("remove", "").strip()
        if gone:
            return edits.remove_tab(body, gone), f"removed tab {gone}", None
        tab = request.form.get("tab", "").strip()
        if not TAB_KEY.match(tab):
            raise DefinitionInvalid("A tab's name is lower-case letters, digits and _", {"tab": [tab or "-"]})
        return (
            edits.add_tab(body, tab, read_label(request.form, "label") or {"en": tab}),
            f"added tab {tab}",
            None,
        )

    return _change(app, name, change)


@bp.post("/<app>/form/<name>/undo")
def form_undo(app: str, name: str):
    """Undo the last change of the form's draft."""
    return _walk(app, name, "undo")


@bp.post("/<app>/form/<name>/redo")
def form_redo(app: str, name: str):
    """Redo the change undone last."""
    return _walk(app, name, "redo")


def _walk(app: str, name: str, direction: str):
    with part_work(app, KIND, name) as dc:
        _entity_of(dc, name)
        dc.walk(KIND, name, direction)
    return redirect(
        url_for("designer.form", app=app, name=name, field=request.form.get("field") or None), code=303
    )
