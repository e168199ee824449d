"""Dry run: what a write would do with some rules enabled - computed for real, then rolled back.

:func:`dry_run` performs the write (``RecordService.update`` of a real record, or ``create`` with no record)
as the caller, inside a savepoint of the caller's transaction, with only the chosen rules of the entity
enabled: one rule by name (even a disabled one), or every enabled rule of the entity. Rules of other entities
that the chosen rules' writes trigger run as published (``cascade=False`` turns them off). A scheduled rule
named here runs its actions for the record (after the changes, if any, are applied with no rule of the
entity enabled). Everything the write put in the transaction is captured - the audit entries (the diff of
every record touched), the outbox events, the rule runs, and any other platform rows (e.g. notifications) -
then the savepoint is rolled back: nothing is committed, nothing is logged, nothing is sent.

A refusal is the would-be outcome (``"refused"`` and the rule's message), as is a rule or a change producing
invalid values (``"invalid"`` with the per-field messages); the caller's own lack of permission, a missing
record or a stale ``version`` are errors as usual.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from lowcode.core.jsonutil import to_jsonable
from lowcode.errors import BadRequest, LowcodeError, NotFound, RuleRefused, ValidationFailed
from lowcode.rules.model import CompiledRule, Rulebook
from lowcode.runtime.context import WriteContext
from lowcode.runtime.serialize import record_to_json

CAPTURED = {"lc_audit": "changes", "lc_outbox": "events", "lc_rule_run": "runs"}
"""Platform tables whose rows a dry run reports under their own key; rows of other ``lc_`` tables go
under ``"other"`` (except the counters behind naming series)."""
IGNORED = frozenset({"lc_counter"})


class _Skipped(LowcodeError):
    """The named scheduled rule would not run for the record."""


class Capture:
    """Collects the rows inserted through one session while installed (``with Capture(session):``)."""

    def __init__(self, session) -> None:
        self.session = session
        self.rows: dict[str, list[dict[str, Any]]] = {"changes": [], "events": [], "runs": [], "other": []}

    def __enter__(self) -> Capture:
        sa_event.listen(self.session, "do_orm_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        sa_event.remove(self.session, "do_orm_execute", self._seen)

    def _seen(self, state) -> None:
        self.add(state.statement, state.parameters)

    def add(self, statement, parameters=None) -> None:
        """Record the rows of an INSERT into a platform table (other statements are ignored)."""
        name = getattr(getattr(statement, "table", None), "name", "")
        if not isinstance(statement, sa.Insert) or not name.startswith("lc_") or name in IGNORED:
            return
        if parameters is None:
            params = [{k: v for k, v in statement.compile().params.items() if v is not None}]
        else:
            params = parameters if isinstance(parameters, list) else [parameters]
        key = CAPTURED.get(name, "other")
        for row in params:
            self.rows[key].append(to_jsonable(row if key != "other" else {"table": name, **row}))

    def execute(self, statement, parameters=None) -> None:
        """Stand-in session for the work a refusal leaves for after the rollback (its run-log entry)."""
        self.add(statement, parameters)


def dry_run(
    services,
    ctx: WriteContext,
    app: str,
    entity_name: str,
    record_id: int | None,
    changes: dict[str, Any],
    *,
    version: int | None = None,
    rule: str | None = None,
    cascade: bool = True,
) -> dict[str, Any]:
    """Run the write and the chosen rules in a savepoint, report what happened, roll it back."""
    permissions = services.permissions
    entity = ctx.snapshot.entity(app, entity_name)
    if entity.is_child:
        raise BadRequest(f"'{entity_name}' rows are written through their parent record")
    permissions.authorize(ctx.actor, entity, "update" if record_id is not None else "create")
    chosen = _chosen_rules(ctx.snapshot.rulebook, app, entity_name, rule)
    scheduled = [r for r in chosen if r.phase is None]
    book = _rulebook(ctx.snapshot.rulebook, app, entity_name, [r for r in chosen if r.phase], cascade)
    trial = dataclasses.replace(ctx, snapshot=dataclasses.replace(ctx.snapshot, rulebook=book))
    outcome, message, fields, record = "ok", "", {}, None
    savepoint = ctx.session.begin_nested()
    try:
        with Capture(ctx.session) as capture:
            try:
                record = _write(
                    services, trial, app, entity_name, record_id, changes, version, bool(scheduled)
                )
                for r in scheduled:
                    _run_scheduled(services, trial, r, record)
            except (RuleRefused, ValidationFailed, _Skipped) as exc:
                outcome = (
                    "refused"
                    if isinstance(exc, RuleRefused)
                    else "invalid"
                    if isinstance(exc, ValidationFailed)
                    else "skipped"
                )
                message, fields = exc.message, to_jsonable(exc.fields)
                for pending in getattr(exc, "after_rollback", []):
                    pending(capture)  # the refused run's log entry, captured instead of written
        # which touched records the caller may read, decided while the trial's rows still exist
        readable = _readable(services, ctx, app, entity.name, capture.rows, record, record_id)
    finally:
        savepoint.rollback()
    return {
        "outcome": outcome,
        "message": message,
        "fields": fields,
        "rules": [r.name for r in chosen],
        "record": None if record is None else _record_json(services, ctx, app, entity_name, record),
        **_visible(services, ctx, app, capture.rows, readable),
    }


def _chosen_rules(book: Rulebook, app: str, entity: str, name: str | None) -> list[CompiledRule]:
    if name is None:  # every enabled rule of the entity's writes (not its schedules)
        found = {
            r.name: r
            for (a, e, _, _), rules in book.by_trigger.items()
            if (a, e) == (app, entity)
            for r in rules
        }
        return [found[n] for n in sorted(found)]
    rule = book.all.get((app, name))
    if rule is None:
        raise NotFound(f"No published rule '{name}' in app '{app}'")
    if rule.entity != entity:
        raise BadRequest(f"Rule '{name}' is a rule of '{rule.entity}', not of '{entity}'")
    return [rule]


def _rulebook(book: Rulebook, app: str, entity: str, chosen: list[CompiledRule], cascade: bool) -> Rulebook:
    """The published rulebook with only ``chosen`` enabled on the entity (and other entities' rules only
    with ``cascade``)."""
    trial = Rulebook(all=book.all)
    if cascade:
        trial.by_trigger = {k: v for k, v in book.by_trigger.items() if (k[0], k[1]) != (app, entity)}
    for r in chosen:
        for kind in r.events:
            trial.by_trigger.setdefault((app, entity, kind, r.phase), []).append(r)
    for rules in trial.by_trigger.values():
        rules.sort(key=lambda r: (r.order, r.name))
    return trial


def _write(services, ctx, app, entity_name, record_id, changes, version, scheduled) -> dict[str, Any] | None:
    """The write being tried; a scheduled rule without changes needs none (only the current record)."""
    if scheduled and not changes:
        return None if record_id is None else services.queries.get(ctx, app, entity_name, record_id)
    if record_id is None:
        return services.records.create(ctx, app, entity_name, changes)
    if version is None:
        version = services.queries.get(ctx, app, entity_name, record_id)["version"]
    return services.records.update(ctx, app, entity_name, record_id, changes, version)


def _run_scheduled(services, ctx: WriteContext, rule: CompiledRule, record: dict[str, Any] | None) -> None:
    from lowcode.rules.scheduled import schedule_event

    if rule.schedule_condition is not None and record is None:
        raise BadRequest(f"Rule '{rule.name}' runs for records matching its condition: name a record_id")
    event = schedule_event(ctx, rule, None if rule.schedule_condition is None else record["id"])
    if event is None:
        raise _Skipped(f"Record {record['id']} does not match the schedule condition of rule '{rule.name}'")
    services.records.rules.run_rule(ctx, rule, event, trigger="dry-run")


def _record_json(services, ctx: WriteContext, app: str, entity_name: str, record: dict) -> dict[str, Any]:
    entity = ctx.snapshot.entity(app, entity_name)
    hidden = services.permissions.hidden_fields(ctx.actor, entity)
    children = {cf.name: ctx.snapshot.entity(app, cf.fdef.options["entity"]) for cf in entity.child_fields}
    rows = {name: record[name] for name in children if name in record}
    return to_jsonable(record_to_json(entity, record, hidden, rows, children))


def _readable(
    services,
    ctx: WriteContext,
    app: str,
    entity_name: str,
    rows: dict[str, list[dict]],
    record: dict | None,
    record_id: int | None,
) -> set[tuple[str, int]]:
    """The (entity, id) pairs of the records the trial touched that the caller may read under their record
    rules (one query per entity), and the record they wrote."""
    touched: dict[str, set[int]] = {}
    for row in rows["changes"] + rows["events"] + rows["runs"]:
        if isinstance(row.get("record_id"), int) and row.get("entity"):
            touched.setdefault(row["entity"], set()).add(row["record_id"])
    own = record_id if record_id is not None else (record or {}).get("id")
    readable: set[tuple[str, int]] = set()
    for name, ids in touched.items():
        entity = ctx.snapshot.entities.get((app, name))
        if entity is None:
            continue
        where = services.permissions.read_filter(ctx.actor, entity, ctx.variables)
        t = entity.table
        query = sa.select(t.c.id).where(t.c.id.in_(ids))
        readable |= {(name, i) for i in ctx.session.scalars(query if where is None else query.where(where))}
    return readable | ({(entity_name, own)} if own is not None else set())


def _visible(services, ctx: WriteContext, app: str, rows: dict[str, list[dict]], readable: set) -> dict:
    """The captured rows as the caller may see them: the fields they may not see left out (per entity), and
    for records outside their record rules only the entity and what happened - no id, no values."""
    hidden_of: Callable[[str], frozenset[str]] = _hidden_lookup(services, ctx, app)

    def seen(row: dict) -> bool:
        return (row.get("entity"), row.get("record_id")) in readable or row.get("record_id") is None

    changes = [
        {
            "entity": c["entity"],
            "record_id": c["record_id"],
            "version": c.get("version"),
            "action": c["action"],
            "actor": c.get("actor_name", ""),
            "source": c.get("source", ""),
            "diff": {k: v for k, v in (c.get("diff") or {}).items() if k not in hidden_of(c["entity"])},
        }
        if seen(c)
        else {"entity": c["entity"], "action": c["action"], "hidden": True}
        for c in rows["changes"]
    ]
    events = []
    for e in rows["events"]:
        if not seen(e):
            events.append({"entity": e["entity"], "kind": e["kind"], "hidden": True})
            continue
        payload = dict(e.get("payload") or {})
        if isinstance(payload.get("changes"), dict):
            payload["changes"] = {
                k: v for k, v in payload["changes"].items() if k not in hidden_of(e["entity"])
            }
        events.append(
            {"entity": e["entity"], "record_id": e["record_id"], "kind": e["kind"], "payload": payload}
        )
    keys = (
        "rule",
        "rule_version",
        "entity",
        "record_id",
        "trigger",
        "phase",
        "outcome",
        "message",
        "duration_ms",
        "actions",
    )
    runs = [
        {k: r.get(k) for k in keys} | ({} if seen(r) else {"record_id": None, "actions": [], "hidden": True})
        for r in rows["runs"]
    ]
    return {
        "changes": changes,
        "events": events,
        "runs": runs,
        "other": rows["other"] if ctx.actor.is_admin else [],
    }


def _hidden_lookup(services, ctx: WriteContext, app: str) -> Callable[[str], frozenset[str]]:
    cache: dict[str, frozenset[str]] = {}

    def hidden(entity_name: str) -> frozenset[str]:
        if entity_name not in cache:
            entity = ctx.snapshot.entities.get((app, entity_name))
            cache[entity_name] = (
                frozenset() if entity is None else services.permissions.hidden_fields(ctx.actor, entity)
            )
        return cache[entity_name]

    return hidden
