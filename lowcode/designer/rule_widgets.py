"""The rule panel's own widgets, for the options of rule actions that the generic panel
(:mod:`lowcode.designer.panels`) would edit as JSON: a condition over the action's target entity (``where``:
the condition builder, values may be the scope's variables such as ``$record.warehouse``, with the JSON
beneath as the advanced way), notify's recipients (users by expression, roles, a user field of the record)
and create_record's lines (child table <- rows of the trigger record's list, values per field).

Each widget is a :class:`RuleWidget` in the ``rule_widgets`` registry, keyed by the ``x-widget`` annotation of
the action's options schema: ``model`` gives what ``templates/designer/_rule_widgets.html`` draws, ``read``
the option back from the posted panel (``ABSENT``: leave it out) with its problems by path. Nothing here
judges the result beyond reading it: the draft's checks do (:mod:`lowcode.designer.rule_checks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.core.numbers import int_from_text
from lowcode.definitions.checks import AppDocuments
from lowcode.designer.conditions import ConditionBuilder
from lowcode.designer.labels import rule_property_label
from lowcode.designer.panels import Input, build_inputs
from lowcode.designer.workspace import Workspace
from lowcode.errors import LowcodeError
from lowcode.registry import Registry
from lowcode.rules.scopes import action_scope, scope_variables

ABSENT = object()
"""``read``: the option is left out of the action."""
MAX_ROWS = 50
"""Most rows (recipients, lines, values of a line) one post is read for."""
Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Place:
    """An action's panel in its rule: the workspace, the rule draft, the action's place and the action (as
    posted, when read back: its target entity may just have changed)."""

    ws: Workspace
    rule: dict
    at: str
    action: dict

    @cached_property
    def docs(self) -> AppDocuments:
        """The app's documents as the designer has them."""
        return AppDocuments(self.ws.docs)

    @property
    def target(self) -> str:
        """The entity the action works on: its ``entity`` option, else the rule's."""
        entity = self.action.get("entity")
        return entity if isinstance(entity, str) and entity else self.rule["entity"]

    def fields(self, entity: str, names) -> list[tuple[str, str]]:
        """``names`` of ``entity`` as (name, "label (name)"), in the entity's order."""
        body = self.ws.entities().get(entity) or {}
        return [
            (f["name"], f"{self.ws.label(f, f['name'])} ({f['name']})")
            for f in body.get("fields") or ()
            if f.get("name") in names
        ]

    def choices(self, widget: str) -> list[tuple[str, str]]:
        """The panel's choices: ``fields`` (a map's keys: writable fields of the target), else the
        workspace's (of the rule's entity)."""
        if widget == "fields":
            return self.fields(self.target, self.docs.writable(self.target))
        return self.ws.choices_for(self.rule["entity"])(widget)


class RuleWidget:
    """A widget of the rule panel: drawn from ``model``, read back by ``read``."""

    def model(self, place: Place, key: str, value: Any, errors: Errors) -> dict[str, Any]:
        """What the template draws for option ``key`` holding ``value`` (``errors``: the panel's, relative
        to the action)."""
        raise NotImplementedError

    def read(self, place: Place, key: str, form) -> tuple[Any, Errors]:
        """The option posted (or ``ABSENT``) and its problems by path relative to the action."""
        raise NotImplementedError


rule_widgets: Registry[RuleWidget] = Registry("rule panel widget")


def _count(form, name: str) -> int:
    """A posted row count (``n:<path>``), at most :data:`MAX_ROWS`; not a number: none."""
    raw = form.get(name) or "0"
    if not raw.isdigit():
        return 0
    return MAX_ROWS if len(raw) > 6 else min(int_from_text(raw), MAX_ROWS)


def _own(errors: Errors, key: str) -> list[str]:
    """Every message at ``key`` or below it, prefixed by the rest of its path."""
    return [
        f"{path[len(key) + 1 :]}: {m}" if path != key else m
        for path, messages in errors.items()
        if path == key or path.startswith(key + "/")
        for m in messages
    ]


class ConditionWidget(RuleWidget):
    """A condition over the action's target entity: the condition builder (its rows posted as
    ``c:<key>/...``; values may be variables of the action's scope, offered in a list), and the document as
    JSON (``j:<key>``, with ``jbase:<key>`` as drawn): an edited JSON wins over the rows."""

    def builder(self, place: Place, key: str) -> ConditionBuilder:
        """The builder over the target's fields, variables checked against the action's scope."""
        scope = action_scope(place.rule, place.docs, place.at)
        return ConditionBuilder.for_entity(
            place.docs, place.target, place.ws.language, scope, suggest=f"vars-{key}"
        )

    def model(self, place, key, value, errors):
        builder = self.builder(place, key)
        rows = {k: v for k, v in errors.items() if k == key or k.startswith(key + "/")}
        text = dumps(value) if value else ""
        return {
            "node": builder.rows(value, key, rows),
            "row_url": url_for("designer.condition_row", app=place.ws.app, name=place.target),
            "variables": scope_variables(builder.scope),
            "list_id": f"vars-{key}",
            "json": text,
            "open": bool(value) and not isinstance(value, Mapping),
            "problems": [
                m for k, v in errors.items() if k.startswith(key + "/") and k not in rows for m in v
            ],
        }

    def read(self, place, key, form):
        text, drawn = (form.get(f"j:{key}") or "").strip(), (form.get(f"jbase:{key}") or "").strip()
        if text != drawn:  # the JSON was edited: it is the condition
            if not text:
                return ABSENT, {}
            try:
                return loads_exact(text, 32), {}
            except LowcodeError as exc:
                return text, {key: [exc.message]}
        parsed = self.builder(place, key).parse(form, key)
        return (ABSENT if parsed.doc is None else parsed.doc), parsed.errors


RECIPIENT_KINDS = {
    "role": _l("Everyone with the role"),
    "field": _l("The user in a field of the record"),
    "user": _l("A user (expression giving an id)"),
}


class RecipientsWidget(RuleWidget):
    """notify's ``to``: rows of (kind, value) - a role of the app, a user field of the rule's record, or an
    expression giving user ids - posted as ``p:<key>/<i>/kind`` and ``p:<key>/<i>/<kind>``, a blank row to
    add one; one recipient is stored as an object, several as a list."""

    def model(self, place, key, value, errors):
        items = value if isinstance(value, list) else [value] if isinstance(value, Mapping) else []
        rows = []
        for spec in items:
            kind = next(iter(spec), "") if isinstance(spec, Mapping) and len(spec) == 1 else ""
            rows.append({"kind": kind, "value": str(spec.get(kind, "")) if kind else dumps(spec)})
        roles = [(n, f"{place.ws.label(b, n)} ({n})") for n, b in sorted(place.docs.of("role").items())]
        return {
            "rows": [*rows, {"kind": "", "value": ""}],
            "kinds": [(k, str(t)) for k, t in RECIPIENT_KINDS.items()],
            "roles": roles,
            "user_fields": place.fields(place.rule["entity"], place.docs.user_fields(place.rule["entity"])),
            "problems": _own(errors, key),
        }

    def read(self, place, key, form):
        found: list[dict[str, str]] = []
        errors: Errors = {}
        for i in range(_count(form, f"n:{key}")):
            kind = form.get(f"p:{key}/{i}/kind") or ""
            value = (form.get(f"p:{key}/{i}/{kind}") or "").strip() if kind in RECIPIENT_KINDS else ""
            if f"del:{key}/{i}" in form or not kind:
                continue
            if kind not in RECIPIENT_KINDS:
                errors.setdefault(f"{key}/{i}", []).append(f"unknown kind of recipient {kind!r}")
            elif value:
                found.append({kind: value})
        if not found:
            return ABSENT, errors
        return (found[0] if len(found) == 1 else found), errors


class LinesWidget(RuleWidget):
    """create_record's ``children``: one row per item - the new record's child table, the trigger record's
    list its rows come from (none: one fixed row), the row's name, a ``when`` and the values by field of the
    child table's rows. Posted as ``p:<key>/<i>/table|from|as|when`` and ``p:<key>/<i>/values/<j>/key|value``
    (``n:`` counts, ``del:`` drops); a table with one item from a list keeps the object form it had."""

    def model(self, place, key, value, errors):
        tables = place.docs.children(place.target)
        rows = []
        for table, specs in (value or {}).items() if isinstance(value, Mapping) else ():
            for spec in specs if isinstance(specs, list) else [specs]:
                spec = spec if isinstance(spec, Mapping) else {}
                child = tables.get(table, "")
                rows.append(
                    {
                        "table": table,
                        "from": spec.get("from", ""),
                        "as": spec.get("as", ""),
                        "when": spec.get("when", ""),
                        "values": dict(spec.get("values") or {}),
                        "fields": place.fields(child, place.docs.writable(child)) if child else [],
                    }
                )
        rows.append({"table": "", "from": "", "as": "", "when": "", "values": {}, "fields": []})
        own_children = place.docs.children(place.rule["entity"])
        return {
            "rows": rows,
            "tables": place.fields(place.target, tables),
            "sources": place.fields(place.rule["entity"], own_children),
            "problems": _own(errors, key),
        }

    def read(self, place, key, form):
        old = place.action.get(key) if isinstance(place.action.get(key), Mapping) else {}
        result: dict[str, list[dict[str, Any]]] = {}
        for i in range(_count(form, f"n:{key}")):
            row = f"{key}/{i}"
            table = (form.get(f"p:{row}/table") or "").strip()
            if not table or f"del:{row}" in form:
                continue
            item: dict[str, Any] = {}
            for part in ("from", "as", "when"):
                text = (form.get(f"p:{row}/{part}") or "").strip()
                if text:
                    item[part] = text
            item["values"] = _values(form, f"{row}/values")
            result.setdefault(table, []).append(item)
        if not result:
            return ABSENT, {}
        return {
            table: items[0]
            if len(items) == 1 and "from" in items[0] and isinstance(old.get(table), Mapping)
            else items
            for table, items in result.items()
        }, {}


def _values(form, path: str) -> dict[str, str]:
    """A ``{field: expression}`` map posted as rows (a blank key or a ``del:`` drops the row)."""
    values = {}
    for j in range(_count(form, f"n:{path}")):
        name = (form.get(f"p:{path}/{j}/key") or "").strip()
        if name and f"del:{path}/{j}" not in form:
            values[name] = (form.get(f"p:{path}/{j}/value") or "").strip()
    return values


rule_widgets.register("condition", ConditionWidget())
rule_widgets.register("recipients", RecipientsWidget())
rule_widgets.register("children", LinesWidget())


def panel_inputs(place: Place, action_type: str, schema: Mapping[str, Any], errors: Errors) -> list[Input]:
    """The inputs of an action's panel: the generic ones of its schema with the rule's labels, and the
    rule widgets' models where the schema names one."""
    inputs = build_inputs(schema, place.action, place.choices)
    for item in inputs:
        item.label = rule_property_label(action_type, item.key)
        if item.widget in rule_widgets:
            item.model = rule_widgets.get(item.widget).model(
                place, item.key, place.action.get(item.key), errors
            )
    return inputs


def read_widgets(place: Place, schema: Mapping[str, Any], form) -> tuple[dict[str, Any], Errors]:
    """The options the rule widgets of an action's panel posted (``None``: left out) and their problems by
    path relative to the action."""
    values: dict[str, Any] = {}
    errors: Errors = {}
    for key, sub in (schema.get("properties") or {}).items():
        widget = sub.get("x-widget", "")
        if widget in rule_widgets:
            value, problems = rule_widgets.get(widget).read(place, key, form)
            values[key] = None if value is ABSENT else value
            errors |= problems
    return values, errors
