"""Scheduled (cron) rules, run by the worker job ``scheduled_rules`` once a minute.

For each enabled rule with a ``schedule`` (``Rulebook.scheduled``) that is due - a minute of its cron
expression, in its time zone, has come since its last run - :func:`run_due_rules` runs the rule's actions
once per record of its entity matching ``schedule.condition`` (or once, with no record, when there is no
condition), as the system actor ``system:schedule:<rule>``, each record in its own transaction: a refusal
or an error on one record is logged in the rule-run log (trigger ``schedule``) and the others go on.

The last minute run is kept per rule in ``lc_counter`` (key ``schedule:<app>.<rule>``, value = minutes since
1970-01-01 UTC) and advanced with a compare-and-set ``UPDATE``, committed before any record is touched: of
several workers (``lowcode worker`` processes, ``lowcode serve`` threads) that find the same rule due, exactly
one runs it. A minute missed while no worker ran (or between two ticks) is caught up once, on the next
tick; a run cut short by a crash is not repeated (at most once per due minute).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from lowcode.core.models import Counter
from lowcode.errors import RuleRefused
from lowcode.rules.cron import CronInvalid, CronSchedule
from lowcode.rules.engine import RuleEngine
from lowcode.rules.hooks import WriteEvent
from lowcode.rules.model import CompiledRule
from lowcode.rules.runlog import log_run
from lowcode.runtime.context import Actor, WriteContext
from lowcode.runtime.serialize import row_to_record

log = logging.getLogger(__name__)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_RECORDS = 10_000
"""At most this many records per run of one rule (the oldest first)."""
TRIGGER = "schedule"


def counter_key(rule: CompiledRule) -> str:
    """The ``lc_counter`` key holding the last minute the rule ran."""
    return f"schedule:{rule.app}.{rule.name}"


def minute_of(instant: dt.datetime) -> int:
    """Whole minutes since 1970-01-01 UTC of an aware instant."""
    return int((instant - EPOCH).total_seconds() // 60)


def run_due_rules(services, now: dt.datetime) -> dict[str, dict[str, Any]]:
    """Run every scheduled rule due at the aware instant ``now`` (claimed by this worker only).

    Returns ``{"<app>.<rule>": {"minute", "records", "ok", "refused", "error", "skipped"}}`` for the rules run.
    """
    engine = services.records.rules
    if not isinstance(engine, RuleEngine):
        return {}
    now = now.astimezone(dt.UTC)
    with services.db.read() as session:
        rules = list(services.snapshots.get(session).rulebook.scheduled)
    results: dict[str, dict[str, Any]] = {}
    for rule in rules:
        try:
            schedule = CronSchedule.from_schedule(rule.schedule or {})
        except CronInvalid as exc:  # published before the publish-time check existed
            log.error("scheduled rule %s.%s: %s", rule.app, rule.name, exc.message)
            continue
        if claim(services.db, counter_key(rule), schedule, now):
            results[f"{rule.app}.{rule.name}"] = run_scheduled_rule(services, engine, rule, now)
    return results


def claim(db, key: str, schedule: CronSchedule, now: dt.datetime) -> bool:
    """Whether ``schedule`` is due at ``now`` since the minute stored under ``key`` - and this caller won the
    compare-and-set that moves the stored minute to ``now``'s (committed when this returns)."""
    minute = minute_of(now)
    with db.read() as session:
        last = session.scalar(sa.select(Counter.value).where(Counter.key == key))
    if last is not None and not _due(schedule, last, minute, now):
        return False
    with db.write() as session:
        if last is None:  # first sight of the rule: only the current minute can be due
            insert = (postgresql.insert if db.dialect == "postgresql" else sqlite.insert)(Counter)
            session.execute(
                insert.values(key=key, value=minute - 1).on_conflict_do_nothing(index_elements=["key"])
            )
            last = session.scalar(sa.select(Counter.value).where(Counter.key == key))
            if not _due(schedule, last, minute, now):
                return False
        won = session.execute(
            sa.update(Counter).where(Counter.key == key, Counter.value == last).values(value=minute)
        )
        return won.rowcount == 1


def _due(schedule: CronSchedule, last: int, minute: int, now: dt.datetime) -> bool:
    if last >= minute:
        return False
    due = schedule.next_after(EPOCH + dt.timedelta(minutes=last))
    return due is not None and due <= now


def run_scheduled_rule(services, engine: RuleEngine, rule: CompiledRule, now: dt.datetime) -> dict[str, Any]:
    """Run ``rule`` once per matching record (or once without a record); returns the counts."""
    at = now.astimezone(dt.UTC).replace(tzinfo=None)
    actor = Actor.system(f"{TRIGGER}:{rule.name}")
    variables = {"user": actor.variables, "now": at, "today": at.date()}
    record_ids: list[int | None] = [None]
    if rule.schedule_condition is not None:
        with services.db.read() as session:
            entity = services.snapshots.get(session).entity(rule.app, rule.entity)
            t = entity.table
            where = rule.schedule_condition.to_sql({n: t.c[n] for n in entity.kinds}, variables)
            query = sa.select(t.c.id).where(t.c.deleted_at.is_(None), where).order_by(t.c.id)
            record_ids = list(session.scalars(query.limit(MAX_RECORDS)))
    summary = {
        "minute": at.isoformat(timespec="minutes"),
        "records": len(record_ids),
        "ok": 0,
        "refused": 0,
        "error": 0,
        "skipped": 0,
    }
    for record_id in record_ids:
        summary[run_for_record(services, engine, rule, record_id, actor, at)] += 1
    return summary


def run_for_record(
    services, engine: RuleEngine, rule: CompiledRule, record_id: int | None, actor: Actor, at: dt.datetime
) -> str:
    """Run the rule's actions for one record in a transaction of its own: "ok", "refused" (logged by the
    engine after the rollback), "error" (logged here) or "skipped" (the record is gone or no longer matches)."""
    started = time.perf_counter()
    try:
        with services.db.write() as session:
            ctx = WriteContext(session, actor, services.snapshots.get(session), source=TRIGGER, now=at)
            event = schedule_event(ctx, rule, record_id)
            if event is None:
                return "skipped"
            engine.run_rule(ctx, rule, event, trigger=TRIGGER)
        return "ok"
    except RuleRefused:
        return "refused"
    except Exception as exc:  # noqa: BLE001 - one record's failure must not stop the others
        log.exception("scheduled rule %s.%s failed on record %s", rule.app, rule.name, record_id)
        with services.db.write() as session:
            log_run(
                session,
                app=rule.app,
                rule=rule.name,
                rule_version=rule.version,
                entity=rule.entity,
                record_id=record_id,
                trigger=TRIGGER,
                phase=TRIGGER,
                outcome="error",
                message=f"{type(exc).__name__}: {exc}"[:2000],
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                actions=[],
            )
        return "error"


def schedule_event(ctx: WriteContext, rule: CompiledRule, record_id: int | None) -> WriteEvent | None:
    """The event a scheduled run sees: the record as it is now (None if it is gone or no longer matches
    the schedule's condition), or no record at all."""
    if record_id is None:
        return WriteEvent(rule.app, rule.entity, TRIGGER, None, None, {})
    entity = ctx.snapshot.entity(rule.app, rule.entity)
    t = entity.table
    row = (
        ctx.session.execute(sa.select(t).where(t.c.id == record_id, t.c.deleted_at.is_(None)))
        .mappings()
        .first()
    )
    if row is None:
        return None
    record = row_to_record(entity, row)
    if rule.schedule_condition is not None and not rule.schedule_condition.matches(record, ctx.variables):
        return None
    return WriteEvent(rule.app, rule.entity, TRIGGER, record_id, dict(record), record)
