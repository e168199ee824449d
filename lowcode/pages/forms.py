"""The form page's model: sections laid out by the entity's form definition (else every field), one
widget per field type, child tables as editable rows, and the messages of a failed save next to
the fields they are about."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from lowcode.core.texts import localize
from lowcode.fields.base import normalise_label, pick_label
from lowcode.fields.choice import choice_label, choice_values
from lowcode.pages.access import FieldRules
from lowcode.pages.binding import is_child_table, to_input
from lowcode.pages.display import Lookups, choices_for, is_link, is_user
from lowcode.pages.form_layout import (
    dress,
    form_fields,
    form_states,
    laid_out_fields,
    layout_model,
    state_model,
)
from lowcode.pages.link_values import linked_choice, load_posted_links
from lowcode.pages.picker import picker_url
from lowcode.pages.workflow import frozen_fields, state_choices
from lowcode.runtime.compiler import CompiledEntity, CompiledField
from lowcode.runtime.context import WriteContext

TEMPLATE_ROW_KEY = "__row__"


class ErrorBag:
    """Per-field messages of a failed save (``customer``, ``lines.2.qty``); each is taken once."""

    def __init__(self, fields: dict[str, Any] | None):
        self.fields = {str(k): v if isinstance(v, list) else [v] for k, v in (fields or {}).items()}

    def take(self, path: str) -> list[str]:
        """Messages for ``path`` and the paths under it, removed from the bag."""
        keys = [k for k in self.fields if k == path or k.startswith(path + ".")]
        return [str(localize(m)) for k in keys for m in self.fields.pop(k)]

    def rest(self) -> list[str]:
        """Messages no field on the form took, as ``path: message``."""
        return [
            f"{k}: {localize(m)}" if k != "_schema" else str(localize(m))
            for k, ms in self.fields.items()
            for m in ms
        ]


class FormBuilder:
    """Builds widget models for one entity's form in one language."""

    def __init__(self, ctx: WriteContext, entity: CompiledEntity, language: str, errors: ErrorBag):
        self.ctx = ctx
        self.entity = entity
        self.language = language
        self.errors = errors
        self.lookups = Lookups(ctx, language)
        self.rules = FieldRules(ctx)
        self._choices: dict[tuple[str, str], list | None] = {}

    def choices(self, entity: CompiledEntity, cf: CompiledField) -> list[tuple[str, str]] | None:
        """Options of a select-like field (cached per field for child rows)."""
        key = (entity.name, cf.name)
        if key not in self._choices:
            if entity.workflow is not None and cf.name == entity.workflow.state_field:
                self._choices[key] = state_choices(entity, self.language)
            elif cf.ftype.widget in ("select", "multi_select"):
                self._choices[key] = [
                    (v, choice_label(cf.fdef, v, self.language)) for v in choice_values(cf.fdef)
                ]
            elif is_user(cf):
                self._choices[key] = choices_for(self.ctx, entity, cf, self.language)
            else:
                self._choices[key] = None
        return self._choices[key]

    def widget(
        self,
        entity: CompiledEntity,
        cf: CompiledField,
        input_name: str,
        raw: Any,
        stored: Any,
        error_path: str,
        editable: bool = True,
        path: str | None = None,
    ) -> dict[str, Any]:
        """One field's widget model; ``raw`` is the value to put in the input, ``stored`` the record's.
        Fields the actor may not write (or ``editable=False``) show their stored value read-only. A link
        is a picker (``path``: the field's path from the top entity, ``lines.product``) showing the title
        of the record it names."""
        widget = cf.ftype.widget
        editable = editable and self.rules.editable(entity, cf)
        if not editable:
            widget = "attachment" if widget == "attachment" else "readonly"
        choices = self.choices(entity, cf) if editable else None
        picker = ""
        if editable and is_link(cf):
            picker = picker_url(self.entity, path or cf.name)
            choices = linked_choice(self.lookups, entity, cf, raw)
        elif widget == "user" and choices is None:
            widget = "number"
        text = self.lookups.format(entity, cf, stored) if not editable and stored is not None else ""
        return {
            "name": cf.name,
            "input_name": input_name,
            "id": "f-" + input_name,
            "widget": widget,
            "label": cf.fdef.label_for(self.language),
            "help": pick_label(cf.fdef.help, self.language, ""),
            "required": cf.fdef.required and editable,
            "value": to_input(cf, raw) if editable else "",
            "text": text,
            "choices": choices or [],
            "picker": picker,
            "errors": self.errors.take(error_path) if error_path else [],
        }

    def child_table(
        self,
        cf: CompiledField,
        child: CompiledEntity,
        rows: list[dict[str, Any]],
        stored_rows: dict[Any, dict[str, Any]],
    ) -> dict[str, Any]:
        """The editable table of a child-table field (read-only when the actor may not change it)."""
        columns = self.rules.columns(child)
        editable = self.rules.editable(self.entity, cf)
        self.lookups.load_records(child, stored_rows.values())
        row_models = []
        for i, row in enumerate(rows):
            stored = stored_rows.get(row.get("id"), {})
            cells = [
                self.widget(
                    child,
                    c,
                    f"{cf.name}-{i}-{c.name}",
                    row.get(c.name),
                    stored.get(c.name),
                    f"{cf.name}.{i}.{c.name}",
                    editable,
                    f"{cf.name}.{c.name}",
                )
                for c in columns
            ]
            row_errors = self.errors.take(f"{cf.name}.{i}")
            row_models.append(
                {
                    "key": str(i),
                    "id": "" if row.get("id") is None else row["id"],
                    "cells": cells,
                    "errors": row_errors,
                }
            )
        template_cells = [
            self.widget(
                child, c, f"{cf.name}-{TEMPLATE_ROW_KEY}-{c.name}", None, None, "", path=f"{cf.name}.{c.name}"
            )
            for c in columns
        ]
        return {
            "name": cf.name,
            "widget": "child_table",
            "label": cf.fdef.label_for(self.language),
            "columns": [
                {
                    "label": c.fdef.label_for(self.language),
                    "required": c.fdef.required and editable and self.rules.editable(child, c),
                }
                for c in columns
            ],
            "rows": row_models,
            "template": {"key": TEMPLATE_ROW_KEY, "id": "", "cells": template_cells, "errors": []},
            "errors": self.errors.take(cf.name),
            "id": "f-" + cf.name,
            "readonly": not editable,
        }


def entity_defaults(entity: CompiledEntity) -> dict[str, Any]:
    """What a new record's form starts with: each field's declared default."""
    return {cf.name: cf.fdef.default for cf in entity.fields.values() if cf.fdef.default is not None}


def form_model(
    ctx: WriteContext,
    entity: CompiledEntity,
    language: str,
    values: dict[str, Any],
    stored: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The sections of the form with their widgets.

    :param values: what the inputs show (a stored record, or the values just posted).
    :param stored: the stored record, for computed and read-only fields (None for a new record).
    :param errors: per-field messages of a failed save.
    """
    bag = ErrorBag(errors)
    builder = FormBuilder(ctx, entity, language, bag)
    builder.rules.freeze(entity, frozen_fields(entity, stored))
    stored = stored or {}
    builder.lookups.load_records(entity, [stored] if stored else [])
    load_posted_links(ctx, builder.lookups, entity, values)
    layout = form_fields(ctx, entity, builder.rules)
    states, _fixed = form_states(ctx, entity, values, stored or None)
    sections = []
    for section in layout:
        widgets = []
        for cf in section["fields"]:
            if is_child_table(cf):
                stored_rows = {r["id"]: r for r in stored.get(cf.name, [])}
                child = ctx.snapshot.entity(entity.app, cf.fdef.options["entity"])
                widget = builder.child_table(cf, child, values.get(cf.name) or [], stored_rows)
            else:
                widget = builder.widget(
                    entity, cf, cf.name, values.get(cf.name), stored.get(cf.name), cf.name
                )
            widgets.append(dress(widget, section["entries"].get(cf.name), states.get(cf.name), language))
        label = section["label"]
        label = pick_label(normalise_label(label, ""), language, "") if label else ""
        if len(widgets) == 1 and widgets[0].get("label") == label:
            widgets[0]["titled_by_section"] = True  # the section's legend already names it: say it once
        sections.append(
            {
                "label": label,
                "columns": section["columns"],
                "fields": widgets,
            }
        )
    shown = {cf.name for cf in laid_out_fields(layout)}
    return {
        **layout_model(ctx, entity, layout, sections, language),
        "state": state_model(states, shown),
        "other_errors": bag.rest(),
    }


def conflict_summary(
    ctx: WriteContext, entity: CompiledEntity, changed: dict[str, Any], language: str
) -> list[dict]:
    """``[{"label", "value"}]`` of the fields someone else changed, with their current values."""
    lookups = Lookups(ctx, language)
    wanted = {
        name: {value} for name, value in changed.items() if name in entity.fields and isinstance(value, int)
    }
    lookups.load(entity, wanted)
    out = []
    for name, value in changed.items():
        cf = entity.fields.get(name)
        label = cf.fdef.label_for(language) if cf else name
        text = lookups.format_json(entity, cf, value) if cf else str(value)
        out.append({"label": label, "value": text if text != "" else _("(empty)")})
    return out
