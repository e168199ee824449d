"""The actions that change existing records through the record service: update_records (a guarded UPDATE
of the matching rows) and upsert (that update, or a create when no row matches)."""

from __future__ import annotations

import marshmallow as ma
from sqlalchemy.exc import IntegrityError

from lowcode.core.jsonutil import to_jsonable
from lowcode.definitions.names import field_shapes
from lowcode.errors import TooManyRows, ValidationFailed
from lowcode.rules.actions.base import MESSAGE, RuleAction, RuleRun, evaluate, evaluate_values, values_schema
from lowcode.rules.actions.writes import typed_value
from lowcode.rules.lockahead import UNKNOWN, LockTarget, known
from lowcode.rules.messages import Source, refusal, with_source
from lowcode.runtime import row_buffer
from lowcode.runtime.atomic import AtomicResult


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
        key = {
            name: typed_value(target, name, evaluate(expr, scope)) for name, expr in options["key"].items()
        }
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
            key = {name: typed_value(target, name, value) for name, value in key.items()}
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


def _key_match(key: dict) -> dict:
    """The condition selecting the record with ``key`` (its values are the ``$key`` variable)."""
    return {"all": [{"field": name, "op": "=", "value": f"$key.{name}"} for name in key]}
