"""Forms compute as you type: the form is posted to ``.../compute`` (htmx, on input and change), bound like
a save, and previewed by the server (:mod:`lowcode.runtime.preview`: fetched values, each row's formulas,
rollups, the record's formulas - the field types' own evaluator). The answer is out-of-band swaps of the
computed outputs, of the inputs whose values were fetched and of the state of the conditional fields
(shown, required, read-only: :mod:`lowcode.pages.form_layout`); nothing is written.

The links changed since the last answer (``_changed``: their input names joined by commas, kept by
``static/js/picker.js`` until an answer to a request carrying them came back) fetch their values again:
the fields fetched through them are taken as empty."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from werkzeug.datastructures import MultiDict

from lowcode.api.edge import services, unit_of_work
from lowcode.core.numbers import digits_to_int
from lowcode.errors import NotFound, PermissionDenied
from lowcode.fields.fetch import fetch_spec
from lowcode.pages.access import FieldRules
from lowcode.pages.binding import ROW_KEY, bind_value, row_keys
from lowcode.pages.blueprint import bp
from lowcode.pages.form_layout import form_fields, form_states, laid_out_fields, state_model
from lowcode.pages.forms import ErrorBag, FormBuilder
from lowcode.pages.i18n import current_language
from lowcode.pages.link_values import load_posted_links
from lowcode.pages.viewmodels import top_entity
from lowcode.pages.workflow import frozen_fields
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.preview import preview

MAX_CHANGED = 100
"""How many changed links one compute request fetches through again (the rest are ignored)."""
SWAPPABLE = frozenset({"decimal", "money", "percent"})
"""Input widgets a fetched value is swapped into (the others keep what the user typed)."""


def _dumped(entity: CompiledEntity, record: dict[str, Any]) -> dict[str, Any]:
    """A stored record's writable values as JSON values (what a form would post)."""
    return {cf.name: cf.ftype.dump(cf.fdef, record.get(cf.name)) for cf in entity.writable}


def _blank_fetched(entity: CompiledEntity, row: dict[str, Any], link: str) -> None:
    """Empty the fields of ``row`` fetched through the link field ``link`` (so they are fetched again)."""
    for cf in entity.fields.values():
        spec = fetch_spec(cf.fdef.options)
        if spec is not None and spec[0] == link:
            row[cf.name] = None


class ComputedForm:
    """The posted form bound for a preview: the record and its rows with the key each row has on the page."""

    def __init__(self, ctx, entity: CompiledEntity, stored: dict[str, Any] | None, form: MultiDict):
        self.ctx = ctx
        self.entity = entity
        self.rules = FieldRules(ctx)
        self.rules.freeze(entity, frozen_fields(entity, stored))
        self.fields = laid_out_fields(form_fields(ctx, entity, self.rules))
        plain, children = self.rules.bindable(entity, self.fields)
        base = _dumped(entity, stored) if stored else {}
        self.data: dict[str, Any] = {**base, **{cf.name: bind_value(cf, form, cf.name) for cf in plain}}
        self.states, fixed = form_states(ctx, entity, self.data, stored)
        for name in fixed - set(children):  # not sent: the record keeps its value
            self.data[name] = base.get(name)
        self.keys: dict[str, list[str]] = {}
        self.children = children
        stored_rows = {n: {r["id"]: r for r in (stored or {}).get(n, [])} for n in children}
        for name, (child, columns) in children.items():
            self.keys[name] = row_keys(form, name)
            rows = []
            for key in self.keys[name]:
                raw_id = form.get(f"{name}-{key}-id", "").strip()
                row_id = digits_to_int(raw_id)
                base = stored_rows[name].get(row_id) if row_id is not None else None
                row = _dumped(child, base) if base else {}
                row.update({c.name: bind_value(c, form, f"{name}-{key}-{c.name}") for c in columns})
                rows.append(row)
            self.data[name] = rows
        for changed in form.get("_changed", "").split(",")[:MAX_CHANGED]:
            self._refetch(changed.strip())

    def _refetch(self, changed: str) -> None:
        match = ROW_KEY.match(changed)
        if match and match["field"] in self.children and match["row"] in self.keys[match["field"]]:
            child = self.children[match["field"]][0]
            row = self.data[match["field"]][self.keys[match["field"]].index(match["row"])]
            _blank_fetched(child, row, match["col"])
        elif changed in self.entity.fields:
            _blank_fetched(self.entity, self.data, changed)

    def outputs(self, language: str) -> list[dict[str, Any]]:
        """Widget models (marked ``oob``) of the computed fields and the fetched inputs, with new values."""
        result = preview(self.ctx, services().permissions, self.entity, self.data)
        builder = FormBuilder(self.ctx, self.entity, language, ErrorBag({}))
        load_posted_links(self.ctx, builder.lookups, self.entity, {**result.values, **result.children})
        out = []
        for cf in self.fields:
            if cf.ftype.computed:
                out.append(
                    builder.widget(self.entity, cf, cf.name, None, result.values.get(cf.name), "", False)
                )
            elif cf.name in result.fetched and cf.ftype.widget in SWAPPABLE:
                out.append(builder.widget(self.entity, cf, cf.name, result.values.get(cf.name), None, ""))
        for name, (child, _columns) in self.children.items():
            for i, key in enumerate(self.keys[name]):
                row = result.children[name][i]
                for c in builder.rules.columns(child):
                    input_name = f"{name}-{key}-{c.name}"
                    if c.ftype.computed:
                        out.append(builder.widget(child, c, input_name, None, row.get(c.name), "", False))
                    elif f"{name}.{i}.{c.name}" in result.fetched and c.ftype.widget in SWAPPABLE:
                        out.append(builder.widget(child, c, input_name, row.get(c.name), None, ""))
        return [{**w, "oob": True} for w in out]


def _compute(app: str, entity_name: str, record_id: int | None):
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        entity = top_entity(ctx, app, entity_name)
        stored = None
        if record_id is None:
            services().permissions.authorize(ctx.actor, entity, "create")
        else:
            try:
                stored = services().queries.get(ctx, app, entity_name, record_id)
            except NotFound:  # like the save it previews: a record out of reach is refused, missing or not
                raise PermissionDenied(
                    f"record {record_id} of {entity_name} is outside what your roles allow"
                ) from None
            services().permissions.authorize(ctx.actor, entity, "update", stored)
        computed = ComputedForm(ctx, entity, stored, request.form)
        outputs = computed.outputs(lang)
        state = state_model(computed.states, {cf.name for cf in computed.fields})
    return render_template("pages/_computed.html", outputs=outputs, state=state)


@bp.post("/a/<app>/<entity>/compute")
def compute_new(app: str, entity: str):
    """The computed values of a new record's form as it is now (out-of-band swaps); nothing is saved."""
    return _compute(app, entity, None)


@bp.post("/a/<app>/<entity>/<int:record_id>/compute")
def compute_existing(app: str, entity: str, record_id: int):
    """The computed values of an edit form as it is now (out-of-band swaps); nothing is saved."""
    return _compute(app, entity, record_id)
