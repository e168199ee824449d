"""The create_record action: a record (and its child rows) written through the record service; guarded
updates and upserts are in :mod:`lowcode.rules.actions.guarded_writes`."""

from __future__ import annotations

import marshmallow as ma

from lowcode.core.jsonutil import to_jsonable
from lowcode.definitions.names import ANY
from lowcode.errors import ValidationFailed
from lowcode.fields.base import Doubt
from lowcode.rules.actions.base import RuleAction, RuleRun, evaluate, evaluate_values, values_schema
from lowcode.rules.lockahead import UNKNOWN, known
from lowcode.rules.messages import Source, bind_source

ROWS_FROM = {
    "type": "object",
    "required": ["from", "values"],
    "properties": {
        "from": {"type": "string"},
        "as": {"type": "string"},
        "when": {"type": "string"},
        "values": values_schema(),
    },
    "additionalProperties": False,
}
"""One row per row of the trigger record's child list ``from`` (``$none``: no rows); ``when`` filters them."""
ONE_ROW = {
    "type": "object",
    "required": ["values"],
    "properties": {"when": {"type": "string"}, "values": values_schema()},
    "additionalProperties": False,
}
"""One fixed row (e.g. the credit line of a voucher), left out when ``when`` is false."""
CHILD_ROWS = {
    "type": "object",
    "x-widget": "children",
    "additionalProperties": {
        "oneOf": [ROWS_FROM, {"type": "array", "maxItems": 100, "items": {"oneOf": [ROWS_FROM, ONE_ROW]}}]
    },
}


class CreateRecordAction(RuleAction):
    """Create a record (with child rows built from the trigger record's rows), e.g. a ledger entry."""

    type = "create_record"
    starter_options = {"values": {}}
    options_schema = {
        "type": "object",
        "required": ["entity", "values"],
        "properties": {
            "entity": {"type": "string", "x-widget": "entity"},
            "values": values_schema("fields"),
            "children": CHILD_ROWS,
            "as": {
                "type": "string",
                "pattern": "^[a-z_]+$",
                "description": "Name the created record for later actions",
            },
        },
    }

    def check_in_app(self, options, check):
        target = options["entity"]
        if target not in check.docs.entities:
            return  # reported by check()
        children = check.docs.children(target)
        check.fields(
            "values",
            options["values"],
            check.writable(target) | set(children),
            f"a writable field of {target}",
            target,
        )
        check.expressions("values", options["values"])
        for child_field, specs in (options.get("children") or {}).items():
            check.fields("children", [child_field], set(children), f"a child table of {target}", target)
            if child_field not in children:
                continue
            items = specs if isinstance(specs, list) else [specs]
            for j, spec in enumerate(items):
                where = f"children/{child_field}" + (f"/{j}" if isinstance(specs, list) else "")
                _check_rows(check, where, spec, children[child_field])
        if options.get("as"):
            check.bind(options["as"], check.docs.record(target))

    def run(self, run: RuleRun, options, scope):
        data = evaluate_values(options["values"], scope)
        for child_field, specs in (options.get("children") or {}).items():
            data[child_field] = [
                row
                for spec in (specs if isinstance(specs, list) else [specs])
                for row in _rows(run, spec, scope)
            ]
        run.count_rows(1 + sum(len(data[name]) for name in options.get("children") or {}))
        created = run.records.create(run.ctx, run.rule.app, options["entity"], data)
        run.done.append(f"created {options['entity']} {created['id']}")
        if options.get("as"):
            scope[options["as"]] = created
            bind_source(scope, options["as"], Source.of(options["entity"], created))

    def locks(self, plan, options, scope):
        # what the created record's own rules will lock, from the values known before the loop
        target = plan.run.ctx.snapshot.entity(plan.run.rule.app, options["entity"])
        record = {}
        for name, expr in options["values"].items():
            value = known(expr, scope)
            if value is not UNKNOWN:
                try:
                    record[name] = typed_value(target, name, value)
                except ma.ValidationError:
                    continue
        yield from plan.created(options["entity"], record)

    def link_values(self, run, options, scope):
        target = run.ctx.snapshot.entity(run.rule.app, options["entity"])
        for name, expr in options["values"].items():
            cf = target.fields.get(name)
            if cf is None or not getattr(cf.ftype, "references_entity", False):
                continue
            value = known(expr, scope)
            if value is UNKNOWN or value is None:
                continue
            try:
                yield cf.fdef.options["entity"], typed_value(target, name, value)
            except ma.ValidationError:
                continue  # the write itself reports it


def _check_rows(check, where: str, spec, row_entity: str) -> None:
    """Names of one ``children`` item: ``from`` is a child table of the trigger record, whose rows the
    values read (as ``line`` or the item's ``as``); the keys are fields of the created rows."""
    scope = check.scope
    if "from" in spec:
        source = check.docs.children(check.entity).get(spec["from"])
        if spec["from"] != "$none":
            check.names_field(f"{where}/from", check.entity, spec["from"])
        if source is None and spec["from"] != "$none":
            check.add(f"{where}/from", f"'{spec['from']}' is not a child table of {check.entity}")
        scope = check.row_scope(spec.get("as", "line"), check.docs.record(source) if source else ANY)
    check.expression(f"{where}/when", spec.get("when"), scope)
    check.fields(
        f"{where}/values",
        spec["values"],
        check.writable(row_entity),
        f"a writable field of {row_entity}",
        row_entity,
    )
    check.expressions(f"{where}/values", spec["values"], scope)


def _rows(run: RuleRun, spec, scope) -> list[dict]:
    """Child rows of one ``children`` item: a fixed row, or one per row of a child list of the trigger."""
    if "from" not in spec:
        return [evaluate_values(spec["values"], scope)] if _wanted(spec, scope) else []
    source = run.event.children.get(spec["from"], []) if spec["from"] != "$none" else []
    scopes = [{**scope, spec.get("as", "line"): row} for row in source]
    return [evaluate_values(spec["values"], s) for s in scopes if _wanted(spec, s)]


def _wanted(spec, scope) -> bool:
    if not spec.get("when"):
        return True
    value = evaluate(spec["when"], scope)
    if value is not None and not isinstance(value, bool):
        raise ValidationFailed(f"'when' must be true or false: '{spec['when']}' gave {value!r}")
    return bool(value)


def typed_value(entity, name: str, value):
    """A key value converted the way the field converts input (``Decimal('1')`` -> ``1`` for a link)."""
    cf = entity.fields.get(name)
    if cf is None or value is None:
        return value
    value = to_jsonable(value)
    converter = entity.input_loader(partial=True).converters.get(name)  # built once per entity
    if converter is not None:
        try:  # the fast path takes only what the marshmallow field takes, to the same value
            return converter[0](value)
        except Doubt:
            pass
    mfield = entity.input_schema(partial=True).fields.get(name)
    if mfield is None:  # not an input field: its type's own converter
        mfield = cf.ftype.marshmallow_field(cf.fdef)
    return mfield.deserialize(value)
