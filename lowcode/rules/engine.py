"""The rule engine: runs the rules a write triggers, inside the writing transaction.

Before-rules may change the record or refuse; after-rules may change other records (through the record
service, as the system identity ``system:rule:<name>``) or refuse. A refusal rolls the whole write back.
Cascades are depth-limited, and a rule that would run again on a record it is already changing (a cycle)
is refused with the chain that formed it. The rules one write sets off, cascades included, share a row
budget: the rows their loops go over and the rows they write (``RuleRun.count_rows``); over it, the write is
refused whole. Every run is logged (refusals after the rollback).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from lowcode.core.db import Database
from lowcode.errors import ExpressionEvaluationError, LowcodeError, RuleRefused
from lowcode.expressions import compile_expression
from lowcode.rules.actions.base import RuleRun, rule_actions
from lowcode.rules.hooks import WriteEvent
from lowcode.rules.messages import SOURCES, trigger_sources
from lowcode.rules.model import CompiledRule
from lowcode.rules.runlog import log_run
from lowcode.runtime import row_buffer
from lowcode.runtime.children import ChildRows
from lowcode.runtime.context import Actor, WriteContext


class RuleEngine:
    """Implements the record service's rule hooks with the published rules of the snapshot."""

    def __init__(self, db: Database | None = None, max_depth: int = 8, row_budget: int = 10000):
        self.db = db
        self.max_depth = max_depth
        self.row_budget = row_budget
        """Rows the rules set off by one write may loop over or write (``RULE_ROW_BUDGET``)."""
        self.records = None
        """The record service; set once both exist (they refer to each other)."""

    # -- hooks -----------------------------------------------------------------------------------
    def before_write(self, ctx: WriteContext, entity, event: WriteEvent) -> None:
        """Run the before-rules of this write."""
        self._fire(ctx, event, "before")

    def after_write(self, ctx: WriteContext, entity, event: WriteEvent) -> bool:
        """Run the after-rules of this write; True when any ran."""
        return self._fire(ctx, event, "after")

    def has_rules(self, ctx: WriteContext, entity, kind: str) -> bool:
        """Whether a published before- or after-rule listens to ``kind`` writes of ``entity``."""
        rulebook = getattr(ctx.snapshot, "rulebook", None)
        if rulebook is None:
            return False
        return any(rulebook.for_event(entity.app, entity.name, kind, phase) for phase in ("before", "after"))

    def _fire(self, ctx: WriteContext, event: WriteEvent, phase: str) -> bool:
        rulebook = getattr(ctx.snapshot, "rulebook", None)
        if rulebook is None:
            return False
        ran = False
        for rule in rulebook.for_event(event.app, event.entity, event.kind, phase):
            if rule.triggered_by(event, ctx.variables):
                self.run_rule(ctx, rule, event)
                ran = True
        return ran

    # -- running ---------------------------------------------------------------------------------
    def run_rule(
        self, ctx: WriteContext, rule: CompiledRule, event: WriteEvent, trigger: str = ""
    ) -> RuleRun:
        """Run one rule's actions for one event; log the outcome. :raises RuleRefused:"""
        link = f"{rule.name}({event.entity} {event.record_id or 'new'})"
        if link in ctx.chain:
            raise RuleRefused(f"Refused: rule cycle {' -> '.join((*ctx.chain, link))}", rule=rule.name)
        if ctx.depth >= self.max_depth:
            raise RuleRefused(
                f"Refused: rule cascade deeper than {self.max_depth}: {' -> '.join((*ctx.chain, link))}",
                rule=rule.name,
            )
        rows = ctx.rows if ctx.rows is not None else event.rows  # a caller's write starts a tally
        system = replace(
            ctx,
            actor=Actor.system(f"rule:{rule.name}"),
            depth=ctx.depth + 1,
            chain=(*ctx.chain, link),
            source=f"rule:{rule.name}",
            rows=rows,
            reader=ctx.reader or ctx.actor,
        )
        run = RuleRun(system, self, rule, event)
        started = time.perf_counter()
        try:
            with row_buffer.collecting(ctx.session):  # the run's audit, outbox and log rows written together
                self.run_actions(run, list(rule.actions), self.scope(ctx, event))
                log_run(
                    ctx.session, **_entry(rule, event, trigger or event.kind, "ok", "", started, run.done)
                )
        except LowcodeError as exc:
            refused = (
                exc
                if isinstance(exc, RuleRefused)
                else RuleRefused(f"Rule '{rule.name}': {exc.message}", fields=exc.fields, rule=rule.name)
            )
            entry = _entry(rule, event, trigger or event.kind, "refused", refused.message, started, run.done)
            pending = list(getattr(exc, "after_rollback", []))
            refused.after_rollback = [*pending, lambda s: log_run(s, **entry)]
            if refused is exc:
                raise
            raise refused from exc
        return run

    def run_actions(self, run: RuleRun, actions: list[dict[str, Any]], scope: dict[str, Any]) -> None:
        """Run actions in order in ``scope`` (used by loops for nested actions)."""
        for action in actions:
            when = action.get("when")
            if when and not _truthy(compile_expression(when).evaluate(scope), when):
                continue
            rule_actions.get(action["type"]).run(run, action, scope)

    def scope(self, ctx: WriteContext, event: WriteEvent) -> dict[str, Any]:
        """Names for expressions: the record's fields bare, ``record``, ``old``, child rows, ``user``, ``now``."""
        record = {**event.after, "id": event.record_id, **event.children}
        sources = trigger_sources(
            event.entity, record, own=ctx.depth == 0
        )  # where messages' values come from
        return {
            **record,
            "record": record,
            "old": event.before,
            "user": ctx.actor.variables,
            "now": ctx.now,
            "today": ctx.now.date(),
            SOURCES: sources,
        }

    def child_rows(self, ctx: WriteContext, app: str, entity: str, record_id: int) -> dict[str, list]:
        """Stored child rows of a record (for rules on events that did not send them)."""
        return ChildRows(ctx, ctx.snapshot.entity(app, entity)).fetch(record_id)


def _truthy(value: Any, source: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise ExpressionEvaluationError(f"'when' must be true or false: '{source}' gave {value!r}")


def _entry(
    rule: CompiledRule,
    event: WriteEvent,
    trigger: str,
    outcome: str,
    message: str,
    started: float,
    done: list[str],
) -> dict[str, Any]:
    return {
        "app": rule.app,
        "rule": rule.name,
        "rule_version": rule.version,
        "entity": event.entity,
        "record_id": event.record_id,
        "trigger": trigger,
        "phase": rule.phase or "schedule",
        "outcome": outcome,
        "message": message,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "actions": list(done),
    }
