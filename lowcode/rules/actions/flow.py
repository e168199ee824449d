"""Actions that shape the run: set fields, refuse, and loops over child rows or matching records."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from lowcode.core.jsonutil import to_jsonable
from lowcode.definitions.names import ANY
from lowcode.errors import RowBudgetExceeded, RuleRefused, ValidationFailed
from lowcode.rules.actions.base import (
    MESSAGE,
    RuleAction,
    RuleRun,
    evaluate,
    expression_schema,
    values_schema,
)
from lowcode.rules.lockahead import LockTarget, lock_ahead, loop_rows, loop_targets, prefetch_links
from lowcode.rules.messages import SOURCES, Source, bind_source, refusal, with_source
from lowcode.runtime import row_cache
from lowcode.runtime.matching import matching_select
from lowcode.runtime.serialize import row_to_record

NESTED = {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["type"]}}


class SetFieldsAction(RuleAction):
    """Before-rules only: set fields of the record being written, e.g. ``{"total": "subtotal * 1.13"}``."""

    type = "set_fields"
    starter_options = {"values": {}}
    phases = frozenset({"before"})
    options_schema = {
        "type": "object",
        "required": ["values"],
        "properties": {"values": values_schema("fields")},
    }

    def check_in_app(self, options, check):
        entity = check.entity
        check.fields(
            "values", options["values"], check.writable(entity), f"a writable field of {entity}", entity
        )
        check.expressions("values", options["values"])

    def run(self, run: RuleRun, options, scope):
        entity = run.ctx.snapshot.entity(run.rule.app, run.rule.entity)
        errors: dict[str, list[str]] = {}
        for name, expr in options["values"].items():
            cf = entity.fields.get(name)
            if cf is None or not cf.has_column:
                errors[name] = [f"rule '{run.rule.name}' sets unknown field '{name}'"]
                continue
            raw = to_jsonable(evaluate(expr, scope))
            try:
                run.event.after[name] = (
                    None if raw is None else cf.ftype.marshmallow_field(cf.fdef).deserialize(raw)
                )
            except ma.ValidationError as exc:
                errors[name] = [f"rule '{run.rule.name}': {m}" for m in exc.messages]
        if errors:
            raise ValidationFailed(f"Rule '{run.rule.name}' produced invalid values", fields=errors)
        run.done.append(f"set {', '.join(options['values'])}")


class RefuseAction(RuleAction):
    """Refuse the whole write with a message (use ``when`` for the condition). ``field`` names the field the
    refusal is about (of the row, inside ``for_each_child``), so forms show it next to that field."""

    type = "refuse"
    starter_options = {"message": {"en": "Not allowed"}}
    options_schema = {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": MESSAGE,
            "field": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        },
    }

    def check_in_app(self, options, check):
        check.template("message", options["message"])

    def run(self, run: RuleRun, options, scope):
        refused = refusal(run, options["message"], scope)
        if options.get("field") and run.ctx.depth == 1:
            refused.fields = {options["field"]: [refused.message]}
        raise refused


class ForEachChildAction(RuleAction):
    """Run nested actions once per child row of the record (``as`` names the row, default ``line``)."""

    type = "for_each_child"
    starter_options = {"actions": []}
    options_schema = {
        "type": "object",
        "required": ["child", "actions"],
        "properties": {
            "child": {"type": "string", "x-widget": "child_table"},
            "as": {"type": "string", "pattern": "^[a-z_]+$"},
            "actions": NESTED,
        },
    }

    def check_in_app(self, options, check):
        check.names_field("child", check.entity, options["child"])
        child = check.docs.children(check.entity).get(options["child"])
        if child is None:
            check.add("child", f"'{options['child']}' is not a child table of {check.entity}")
            return
        row = check.row_scope(
            options.get("as", "line"), check.docs.record(child), parent=check.scope["record"]
        )
        check.actions("actions", options["actions"], row)

    def run(self, run: RuleRun, options, scope):
        rows = run.event.children.get(options["child"])
        if rows is None and run.event.record_id is not None:
            rows = run.engine.child_rows(run.ctx, run.rule.app, run.rule.entity, run.event.record_id).get(
                options["child"], []
            )
        run.count_rows(len(rows or []))
        scopes = [_line_scope(options, scope, row) for row in rows or []]
        lock_ahead(run, options["actions"], scopes)
        prefetch_links(run, options["actions"], scopes)
        with loop_rows(run, options["actions"], scopes):
            for i, line_scope in enumerate(scopes):
                try:
                    run.engine.run_actions(run, options["actions"], line_scope)
                except RuleRefused as exc:
                    raise place_refusal(run, exc, f"{options['child']}.{i}") from None

    def locks(self, plan, options, scope):
        for row in plan.event.children.get(options["child"]) or []:
            yield from plan.targets(options["actions"], _line_scope(options, scope, row))


def place_refusal(run: RuleRun, refused: RuleRefused, row_path: str) -> RuleRefused:
    """The refusal with the path of the child row it happened on (``lines.2``, ``lines.2.qty`` when the
    refusal names a field): set where the rule runs on the caller's own write (a cascade's rows belong to
    another record), by the innermost loop only, never on a row-budget refusal (it is about the write)."""
    if run.ctx.depth != 1 or getattr(refused, "placed", False) or isinstance(refused, RowBudgetExceeded):
        return refused
    if refused.fields:
        refused.fields = {f"{row_path}.{k}": v for k, v in refused.fields.items()}
    else:
        refused.fields = {row_path: [refused.message]}
    refused.placed = True
    return refused


def _line_scope(options, scope, row) -> dict[str, Any]:
    """The scope of one child row: the row by its ``as`` name, and the trigger record also as ``parent``
    (for messages both come from the trigger record)."""
    trigger = scope.get(SOURCES, {}).get("record")
    line_scope = {**scope, "parent": scope.get("record"), options.get("as", "line"): row}
    if trigger is not None:
        line_scope[SOURCES] = {**scope[SOURCES], "parent": trigger, options.get("as", "line"): trigger}
    return line_scope


class ForEachRecordAction(RuleAction):
    """Run nested actions for each record of an entity matching a condition (variables: ``$record.x``...).

    ``lock: true`` locks the matched rows until the transaction ends (``SELECT ... FOR UPDATE`` on
    PostgreSQL; SQLite write transactions already hold the database), so values computed in memory from
    them - a moving average, a running balance - stay exact under concurrent writers.
    ``expect``: "any" (default, zero is fine), "one" (exactly one must match) or "some" (at least one);
    otherwise the write is refused with ``missing_message``.
    """

    type = "for_each_record"
    starter_options = {"actions": []}
    options_schema = {
        "type": "object",
        "required": ["entity", "actions"],
        "properties": {
            "entity": {"type": "string", "x-widget": "entity"},
            "where": {"type": "object", "x-widget": "condition"},
            "as": {"type": "string", "pattern": "^[a-z_]+$"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
            "lock": {"type": "boolean"},
            "expect": {"enum": ["one", "some", "any"]},
            "missing_message": MESSAGE,
            "actions": NESTED,
        },
    }

    def check_in_app(self, options, check):
        if options["entity"] not in check.docs.entities:
            return  # reported by check()
        if options.get("where"):
            check.condition("where", options["where"], options["entity"])
        check.template("missing_message", options.get("missing_message"))
        row = check.row_scope(options.get("as", "item"), check.docs.record(options["entity"]))
        check.actions("actions", options["actions"], row)

    def run(self, run: RuleRun, options, scope):
        rows = matching_rows(run, options, scope)
        expect = options.get("expect", "any")
        if (expect == "one" and len(rows) != 1) or (expect == "some" and not rows):
            message = options.get("missing_message") or (
                f"Expected {'exactly one' if expect == 'one' else 'a'} matching {options['entity']} record, "
                f"found {len(rows)}"
            )
            raise refusal(run, message, scope)
        name = options.get("as", "item")
        scopes = [with_source(scope, name, row, Source.of(options["entity"], row)) for row in rows]
        lock_ahead(run, options["actions"], scopes)
        target = run.ctx.snapshot.entity(run.rule.app, options["entity"])
        locked = bool(options.get("lock")) and run.ctx.session.get_bind().dialect.name == "postgresql"
        with row_cache.known_rows(run.ctx, target, rows, locked):  # its actions' lookups of them by id
            for row_scope in scopes:
                run.engine.run_actions(run, options["actions"], row_scope)

    def locks(self, plan, options, scope):
        if options.get("lock") and options.get("where"):
            yield LockTarget(options["entity"], options["where"], plan.run.variables(scope))
        # the matched rows are not known yet: what the nested actions lock through them is left to this
        # loop's own lock-ahead, and the name the rows would have is not taken from an outer scope
        name = options.get("as", "item")
        yield from plan.targets(options["actions"], {k: v for k, v in scope.items() if k != name})

    def loop_reads(self, plan, options, scope):
        lock = options.get("lock") and plan.run.ctx.session.get_bind().dialect.name == "postgresql"
        if options.get("where") and not lock:  # rows it must lock are left to its own SELECT
            yield False, LockTarget(options["entity"], options["where"], plan.run.variables(scope))
        name = options.get("as", "item")  # its rows are not known before the loop
        yield from loop_targets(plan, options["actions"], {k: v for k, v in scope.items() if k != name})


def matching_rows(run: RuleRun, options, scope) -> list[dict[str, Any]]:
    """The live records of ``options["entity"]`` matching ``where`` (by id, at most ``limit``, default 1000),
    locked on PostgreSQL when ``lock`` is true; counted against the write's row budget. Taken from the rows
    an enclosing loop read for all its lines (:mod:`lowcode.runtime.row_cache`) when it has them."""
    target = run.ctx.snapshot.entity(run.rule.app, options["entity"])
    # one row more than the write's row budget has left is enough to refuse it
    limit = min(options.get("limit", 1000), run.rows_left + 1)
    lock = bool(options.get("lock")) and run.ctx.session.get_bind().dialect.name == "postgresql"
    if options.get("where"):
        condition = target.condition(options["where"], "where")
        variables = run.variables(scope)
        rows = row_cache.matching(run.ctx, target, condition, variables, limit, lock)
        if rows is None:
            query, params = matching_select(target, condition, variables, limit, lock)
            rows = [row_to_record(target, r) for r in run.ctx.session.execute(query, params).mappings()]
    else:
        t = target.table
        query = sa.select(t).where(t.c.deleted_at.is_(None)).order_by(t.c.id).limit(limit)
        query = query.with_for_update() if lock else query
        rows = [row_to_record(target, r) for r in run.ctx.session.execute(query).mappings()]
    run.count_rows(len(rows))
    return rows


class CollectAction(RuleAction):
    """Append one value per matching record to a list that later actions of the rule read, e.g. the numbers
    of the drafts dated in a period from several entities: ``{"type": "collect", "entity": "delivery",
    "where": {...}, "value": "item.number", "into": "drafts"}``, then ``len(drafts)`` and
    ``join(drafts, ', ', 10)`` in a ``refuse``. The list is started empty when ``into`` is not yet named."""

    type = "collect"
    starter_options = {"value": "item.id", "into": "collected"}
    options_schema = {
        "type": "object",
        "required": ["entity", "value", "into"],
        "properties": {
            "entity": {"type": "string", "x-widget": "entity"},
            "where": {"type": "object", "x-widget": "condition"},
            "as": {"type": "string", "pattern": "^[a-z_]+$"},
            "value": expression_schema("The value collected from each record (the record is `item`)"),
            "into": {"type": "string", "pattern": "^[a-z_]+$"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
        },
    }

    def check_in_app(self, options, check):
        if options["entity"] not in check.docs.entities:
            return  # reported by check()
        if options.get("where"):
            check.condition("where", options["where"], options["entity"])
        row = check.row_scope(options.get("as", "item"), check.docs.record(options["entity"]))
        check.expression("value", options["value"], row)
        check.bind(options["into"], ANY)

    def run(self, run: RuleRun, options, scope):
        collected = scope.setdefault(options["into"], [])
        if not isinstance(collected, list):
            raise ValidationFailed(
                f"Rule '{run.rule.name}': '{options['into']}' already names something that is not a list"
            )
        name = options.get("as", "item")
        rows = matching_rows(run, options, scope)
        collected += [evaluate(options["value"], {**scope, name: row}) for row in rows]
        bind_source(scope, options["into"], Source.of(options["entity"], *rows), extend=True)
        run.done.append(f"collected {len(collected)} into {options['into']}")
