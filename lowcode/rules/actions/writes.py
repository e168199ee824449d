"""Actions that write other records, always through the record service: create, guarded update, upsert."""

from __future__ import annotations

import marshmallow as ma
from sqlalchemy.exc import IntegrityError

from lowcode.core.jsonutil import to_jsonable
from lowcode.definitions.names import ANY, field_shapes
from lowcode.errors import TooManyRows, ValidationFailed
from lowcode.fields.base import Doubt
from lowcode.rules.actions.base import MESSAGE, RuleAction, RuleRun, evaluate, evaluate_values, values_schema
from lowcode.rules.lockahead import UNKNOWN, LockTarget, known
from lowcode.rules.messages import Source, bind_source, refusal, with_source
from lowcode.runtime import row_buffer
from lowcode.runtime.atomic import AtomicResult

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
                    record[name] = _typed(target, name, value)
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
                yield cf.fdef.options["entity"], _typed(target, name, value)
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


def _check_guarded(options, check, target: str) -> None:
    """Names of a guarded update: ``set`` keys are writable fields of the target; in ``set`` and ``guard``
    a bare name may also be a column of the target row; ``refuse_message`` reads the row as ``target``."""
    check.fields("set", options["set"], check.writable(target), f"a writable field of {target}", target)
    row = {**check.scope, **field_shapes(target, check.docs.columns(target))}
    check.expressions("set", options["set"], row)
    check.expression("guard", options.get("guard"), row)
    check.template(
        "refuse_message", options.get("refuse_message"), check.row_scope("target", check.docs.record(target))
    )


def _with_target(scope, entity: str, row) -> dict:
    """The scope of a guard's refusal message: the refused row as ``target``."""
    return with_source(scope, "target", row, Source.of(entity, row))


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


class UpdateRecordsAction(RuleAction):
    """Guarded atomic update of matching records: ``set`` and ``guard`` run in SQL on the current row.

    ``expect``: "one" (exactly one record must match), "some" (at least one) or "any" (zero is fine).
    When the guard refuses a row, the write is refused with ``refuse_message`` (``target.x`` names the row).
    """

    type = "update_records"
    updates_matched = True
    starter_options = {"where": {"field": "id", "op": "is_empty"}, "set": {}}
    options_schema = {
        "type": "object",
        "required": ["entity", "where", "set"],
        "properties": {
            "entity": {"type": "string", "x-widget": "entity"},
            "where": {"type": "object", "x-widget": "condition"},
            "set": values_schema("fields"),
            "guard": {"type": "string", "x-widget": "expression"},
            "expect": {"enum": ["one", "some", "any"]},
            "refuse_message": MESSAGE,
            "missing_message": MESSAGE,
        },
    }

    def check_in_app(self, options, check):
        if options["entity"] not in check.docs.entities:
            return  # reported by check()
        check.condition("where", options["where"], options["entity"])
        _check_guarded(options, check, options["entity"])
        check.template("missing_message", options.get("missing_message"))

    def run(self, run: RuleRun, options, scope):
        variables = run.variables(scope)
        match, set_exprs, guard = options["where"], options["set"], options.get("guard")
        args = (run.ctx, run.rule.app, options["entity"], match, variables, set_exprs, scope, guard)
        result = _update_where(run, args)
        run.count_rows(result.matched)
        expect = options.get("expect", "some")
        if (expect == "one" and result.matched != 1) or (expect == "some" and result.matched == 0):
            message = options.get("missing_message") or f"No matching {options['entity']} record to update"
            raise refusal(run, message, scope)
        if result.refused:
            message = (
                options.get("refuse_message") or f"Refused: {options['entity']} {{target.id}} fails the guard"
            )
            raise refusal(run, message, _with_target(scope, options["entity"], result.refused[0]))
        run.done.append(f"updated {len(result.updated)} {options['entity']}")

    def locks(self, plan, options, scope):
        yield LockTarget(options["entity"], options["where"], plan.run.variables(scope))


class UpsertAction(RuleAction):
    """Update the record with the given key atomically, or create it first when there is none
    (e.g. the stock balance of a product in a warehouse)."""

    type = "upsert"
    updates_matched = True
    starter_options = {"key": {}, "set": {}}
    options_schema = {
        "type": "object",
        "required": ["entity", "key", "set"],
        "properties": {
            "entity": {"type": "string", "x-widget": "entity"},
            "key": values_schema("fields"),
            "insert": values_schema("fields"),
            "set": values_schema("fields"),
            "guard": {"type": "string", "x-widget": "expression"},
            "refuse_message": MESSAGE,
        },
    }

    def check_in_app(self, options, check):
        target = options["entity"]
        if target not in check.docs.entities:
            return  # reported by check()
        writable = check.writable(target)
        keys = writable & set(check.docs.kinds(target))
        check.fields("key", options["key"], keys, f"a writable field of {target} that can be a key", target)
        check.expressions("key", options["key"])
        check.fields("insert", options.get("insert", {}), writable, f"a writable field of {target}", target)
        check.expressions("insert", options.get("insert"))
        _check_guarded(options, check, target)

    def run(self, run: RuleRun, options, scope):
        target = run.ctx.snapshot.entity(run.rule.app, options["entity"])
        key = {name: _typed(target, name, evaluate(expr, scope)) for name, expr in options["key"].items()}
        variables = {**run.variables(scope), "key": key}
        args = (
            run.ctx,
            run.rule.app,
            options["entity"],
            _key_match(key),
            variables,
            options["set"],
            scope,
            options.get("guard"),
        )
        result = _update_where(run, args)
        if result.matched == 0:
            initial = {**evaluate_values(options.get("insert", {}), scope), **to_jsonable(key)}
            run.count_rows(1)
            _create_unless_raced(run, options["entity"], initial)
            result = _update_where(run, args)
        run.count_rows(result.matched)
        if result.refused:
            message = (
                options.get("refuse_message") or f"Refused: {options['entity']} {{target.id}} fails the guard"
            )
            raise refusal(run, message, _with_target(scope, options["entity"], result.refused[0]))
        run.done.append(f"upserted {options['entity']} {[r['id'] for r in result.updated]}")

    def locks(self, plan, options, scope):
        target = plan.run.ctx.snapshot.entity(plan.run.rule.app, options["entity"])
        key = {name: known(expr, scope) for name, expr in options["key"].items()}
        if UNKNOWN in key.values():
            return
        try:
            key = {name: _typed(target, name, value) for name, value in key.items()}
        except ma.ValidationError:
            return
        yield LockTarget(options["entity"], _key_match(key), {**plan.run.variables(scope), "key": key})


def _update_where(run: RuleRun, args: tuple) -> AtomicResult:
    """A guarded update within what is left of the write's row budget (more matching rows: refused)."""
    try:
        return run.records.update_where(*args, max_rows=run.rows_left)
    except TooManyRows:
        run.count_rows(run.rows_left + 1)  # raises RowBudgetExceeded, naming the rule and the budget
        raise


def _create_unless_raced(run: RuleRun, entity: str, initial: dict) -> None:
    """Create the keyed record in a savepoint; if a concurrent transaction created it first (unique key
    violated), carry on - the following guarded update then applies to that record."""
    try:
        with row_buffer.savepoint(run.ctx.session):
            run.records.create(run.ctx, run.rule.app, entity, initial)
    except (IntegrityError, ValidationFailed) as exc:
        if isinstance(exc, ValidationFailed) and not _only_unique_errors(exc):
            raise


def _only_unique_errors(exc: ValidationFailed) -> bool:
    return bool(exc.fields) and all("unique" in " ".join(map(str, m)).lower() for m in exc.fields.values())


def _typed(entity, name: str, value):
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


def _key_match(key: dict) -> dict:
    """The condition selecting the record with ``key`` (its values are the ``$key`` variable)."""
    return {"all": [{"field": name, "op": "=", "value": f"$key.{name}"} for name in key]}
