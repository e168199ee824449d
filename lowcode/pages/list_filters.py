"""The list's simple filter in the user's terms: a select or state field offers its option labels, a link
field takes the linked record's title (or ``#id``), and a typed label ("Draft", "草稿") means its value.

:func:`filter_widget` describes the value input for a field (``pages/_filter_value.html`` draws it; a link
picker can replace the ``link`` kind later), :func:`filter_parts` turns the chosen field, operator and value
into a condition leaf and/or a title filter for the query service.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from lowcode.api.edge import services, unit_of_work
from lowcode.conditions import OPERATORS
from lowcode.core.numbers import digits_to_int
from lowcode.errors import ConditionInvalid
from lowcode.pages.blueprint import bp
from lowcode.pages.i18n import current_language
from lowcode.pages.viewmodels import top_entity
from lowcode.runtime.compiler import CompiledEntity, CompiledField
from lowcode.runtime.search import TitleMatch, choice_values_labelled, is_link_field, is_select_field

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on", "是"})
LINK_MODES = {
    "=": ("equals", False),
    "!=": ("equals", True),
    "contains": ("contains", False),
    "starts_with": ("starts_with", False),
}
CHOICE_OPS = frozenset({"=", "!=", "contains", "is_empty", "is_not_empty"})


def choice_options(entity: CompiledEntity, cf: CompiledField, language: str) -> list[tuple[str, str]]:
    """``[(value, label)]`` of a select field (a workflow's state labels for its state field)."""
    wf = entity.workflow
    values = [c["value"] for c in cf.fdef.options.get("choices", [])]
    if wf is not None and wf.state_field == cf.name:
        return [(v, wf.state_label(v, language)) for v in values]
    return [(v, cf.ftype.format(cf.fdef, v, language)) for v in values]


def filter_widget(entity: CompiledEntity, field: str, value: str, language: str) -> dict[str, Any]:
    """The value input for filtering by ``field``: ``{"kind": "choices" | "link" | "boolean" | "date" |
    "text", "value", "options"}`` (options only for choices)."""
    cf = entity.fields.get(field)
    if cf is None:
        return {"kind": "text", "value": value}
    if is_select_field(cf):
        return {"kind": "choices", "value": value, "options": choice_options(entity, cf, language)}
    if is_link_field(cf):
        return {"kind": "link", "value": value, "target": cf.fdef.options["entity"]}
    kind = entity.kinds.get(field)
    if kind == "boolean":
        return {"kind": "boolean", "value": value}
    if kind == "date":
        return {"kind": "date", "value": value}
    return {"kind": "text", "value": value}


def filter_parts(
    entity: CompiledEntity, field: str, op: str, value: str
) -> tuple[dict[str, Any] | None, tuple[TitleMatch, ...]]:
    """The filter as (condition leaf or None, title filters). :raises ConditionInvalid: for an unknown
    operator, an operator the field cannot take, or a label that is no option of a select field."""
    if not field:
        return None, ()
    if op not in OPERATORS:
        raise ConditionInvalid(f"Unknown operator '{op}'")
    leaf: dict[str, Any] = {"field": field, "op": op}
    if OPERATORS.get(op).arity == "none":
        return leaf, ()
    cf = entity.fields.get(field)
    if cf is not None and is_link_field(cf):
        return _link_parts(entity, cf, op, value)
    if cf is not None and is_select_field(cf):
        return _choice_leaf(cf, op, value), ()
    if entity.kinds.get(field) == "boolean":
        leaf["value"] = value.strip().lower() in TRUE_WORDS
    elif op in ("contains", "starts_with") or entity.kinds.get(field) == "text":
        leaf["value"] = value.replace("$", "$$", 1) if value.startswith("$") else value
    else:
        leaf["value"] = value
    return leaf, ()


def _link_parts(entity: CompiledEntity, cf: CompiledField, op: str, value: str):
    text = value.strip()
    if text.startswith("#") and digits_to_int(text[1:]) is not None and op in ("=", "!="):
        return {"field": cf.name, "op": op, "value": int(text[1:])}, ()
    if op not in LINK_MODES:
        raise ConditionInvalid(
            _(
                "%(field)s is filtered by the linked record's title: use equals, does not equal, contains or "
                "starts with",
                field=cf.fdef.label_for(current_language()),
            )
        )
    mode, negate = LINK_MODES[op]
    return None, (TitleMatch(cf.name, text, mode, negate),)


def _choice_leaf(cf: CompiledField, op: str, value: str) -> dict[str, Any]:
    label = cf.fdef.label_for(current_language())
    if op not in CHOICE_OPS:
        raise ConditionInvalid(_("%(field)s takes: equals, does not equal, contains", field=label))
    known = [c["value"] for c in cf.fdef.options.get("choices", [])]
    if op == "contains":
        return {"field": cf.name, "op": "in", "value": choice_values_labelled(cf, value) or [""]}
    values = [value] if value in known else choice_values_labelled(cf, value, "equals")
    if not values:
        raise ConditionInvalid(_("'%(value)s' is not an option of %(field)s", value=value, field=label))
    return {"field": cf.name, "op": "in" if op == "=" else "not_in", "value": values}


@bp.get("/a/<app>/<entity>/filter-input")
def filter_input(app: str, entity: str):
    """The value input for the field chosen in the list's filter (htmx swaps it in on change)."""
    lang = current_language()
    field = request.args.get("field", "")[:64]
    with unit_of_work(write=False, source="page") as ctx:
        compiled = top_entity(ctx, app, entity)
        services().permissions.read_condition(ctx.actor, compiled)  # may not read: a 403
        hidden = services().permissions.hidden_fields(ctx.actor, compiled)
        widget = filter_widget(compiled, "" if field in hidden else field, "", lang)
    return render_template("pages/_filter_value.html", w=widget)
