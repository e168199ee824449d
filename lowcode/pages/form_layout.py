"""The layout of a form page from the entity's form definition - tabs, sections with their columns and help,
each field's help text and placeholder - and the state of its conditional fields (shown, required, read-only)
as the server judges it (:mod:`lowcode.runtime.form_rules`). The browser only applies that state
(``static/js/form_state.js``); the compute round trip answers it again as the form changes.

Hidden and read-only fields are not sent: a save or a preview drops them from the bound form (:func:`drop_fixed`),
so the record keeps their stored values (a new record: their defaults) - what the record service expects.
"""

from __future__ import annotations

from typing import Any

from lowcode.definitions.form_checks import entry_of
from lowcode.fields.base import normalise_label, pick_label
from lowcode.pages.access import FieldRules
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.form_rules import FieldState
from lowcode.runtime.preview import read_values

COLUMN_CLASSES = {
    1: "col-12",
    2: "col-12 col-md-6",
    3: "col-12 col-md-6 col-lg-4",
    4: "col-12 col-md-6 col-lg-3",
}
"""Bootstrap grid classes of a field in a section of n columns: one column at phone width."""


def _label(value: Any, language: str) -> str:
    return pick_label(normalise_label(value, ""), language, "") if value else ""


def form_fields(ctx: WriteContext, entity: CompiledEntity, rules: FieldRules) -> list[dict[str, Any]]:
    """Sections ``[{"label", "columns", "tab", "help", "fields": [CompiledField], "entries": {name: entry}}]``
    from the form definition, else one section with every field; fields the actor may not see are left out."""
    hidden = rules.hidden(entity)
    form = ctx.snapshot.form_for(entity.app, entity.name)
    if form is None:
        fields = [cf for cf in entity.fields.values() if cf.name not in hidden]
        return [{"label": None, "columns": 2, "tab": None, "help": None, "fields": fields, "entries": {}}]
    sections = []
    for section in form["sections"]:
        entries = [entry_of(item) for item in section["fields"]]
        entries = [e for e in entries if e["field"] in entity.fields and e["field"] not in hidden]
        sections.append(
            {
                "label": section.get("label"),
                "columns": section.get("columns", 1),
                "tab": section.get("tab"),
                "help": section.get("help"),
                "fields": [entity.fields[e["field"]] for e in entries],
                "entries": {e["field"]: e for e in entries},
            }
        )
    return sections


def laid_out_fields(sections: list[dict[str, Any]]) -> list:
    """Every field placed on the form, in order."""
    return [cf for section in sections for cf in section["fields"]]


def _as_posted(entity: CompiledEntity, values: dict[str, Any]) -> dict[str, Any]:
    """Values (stored Python values or posted text) as a form posts them."""
    out = {}
    for cf in entity.writable:
        value = values.get(cf.name)
        out[cf.name] = value if value is None or isinstance(value, str) else cf.ftype.dump(cf.fdef, value)
    return out


def form_states(
    ctx: WriteContext, entity: CompiledEntity, values: dict[str, Any], stored: dict[str, Any] | None
) -> tuple[dict[str, FieldState], set[str]]:
    """The state of each conditional field for the form showing ``values`` (``stored``: the record edited,
    None for a new one), and the fields the form does not send (hidden or read-only)."""
    rules = entity.form_rules
    if rules is None:
        return {}, set()
    base = stored or read_values(entity, {cf.name: cf.fdef.default for cf in entity.writable})
    typed = read_values(entity, _as_posted(entity, values))
    posted = {**base, **{k: v for k, v in typed.items() if k in values}}
    states, _record = rules.settle(posted, base, ctx.variables, stored or None)
    return states, {n for n, s in states.items() if not s.visible or s.read_only}


def drop_fixed(data: dict[str, Any], fixed: set[str]) -> dict[str, Any]:
    """The bound form without the fields it does not send (:func:`form_states`)."""
    return {k: v for k, v in data.items() if k not in fixed}


def dress(widget: dict[str, Any], entry: dict[str, Any] | None, state: FieldState | None, language: str):
    """Add the form entry's help and placeholder and the field's conditional state to a widget model."""
    entry = entry or {}
    if entry.get("help"):
        widget["help"] = _label(entry["help"], language)
    widget["placeholder"] = _label(entry.get("placeholder"), language)
    widget["conditional"] = state is not None
    if state is not None:
        editable = widget["widget"] not in ("readonly", "attachment")
        widget["visible"] = state.visible
        widget["required"] = state.required and editable
        widget["read_only"] = state.read_only and editable
    return widget


def layout_model(
    ctx: WriteContext,
    entity: CompiledEntity,
    form_sections: list[dict[str, Any]],
    sections: list,
    language: str,
) -> dict[str, Any]:
    """The section models (``sections``, built from ``form_sections``) placed: ``top`` - those without a tab,
    shown above the tabs - and ``tabs`` in the form's order with their sections; the active tab is the first
    holding a message, else the first."""
    form = ctx.snapshot.form_for(entity.app, entity.name) or {}
    tabs = [
        {"name": t["name"], "label": _label(t["label"], language), "sections": []}
        for t in form.get("tabs", [])
    ]
    by_name = {t["name"]: t for t in tabs}
    top = []
    for source, model in zip(form_sections, sections, strict=True):
        model["help"] = _label(source.get("help"), language)
        model["column_class"] = COLUMN_CLASSES.get(model["columns"], "col-12")
        tab = by_name.get(source.get("tab") or "")
        (tab["sections"] if tab is not None else top).append(model)
    tabs = [t for t in tabs if t["sections"]]
    for tab in tabs:
        tab["errors"] = any(_has_errors(w) for s in tab["sections"] for w in s["fields"])
    active = next((t for t in tabs if t["errors"]), tabs[0] if tabs else None)
    for tab in tabs:
        tab["active"] = tab is active
    return {"top": top, "tabs": tabs}


def _has_errors(widget: dict[str, Any]) -> bool:
    rows = widget.get("rows") or []
    return bool(widget.get("errors")) or any(
        r["errors"] or any(c["errors"] for c in r["cells"]) for r in rows
    )


def state_model(states: dict[str, FieldState], shown: set[str]) -> list[dict[str, Any]]:
    """The state element's items (``_form_state.html``) of the conditional fields on the page (``shown``)."""
    return [
        {"name": n, "visible": s.visible, "required": s.required, "read_only": s.read_only}
        for n, s in states.items()
        if n in shown
    ]
