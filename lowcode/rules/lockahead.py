"""Lock ahead, in key order: the rows a loop's actions will lock, for all its iterations, before the first one.

Two documents whose lines touch the same rows in opposite order (SKUs [A, B] and [B, A]) would otherwise each
lock their first line's row and then wait for the other's - a deadlock on PostgreSQL, answered as a 409.
Before ``for_each_child`` and ``for_each_record`` run their actions, :func:`lock_ahead` predicts from each
iteration's scope the rows the actions will lock - guarded updates and upserts, ``lock: true`` lookups, and
the same in the rules that a record created by the loop triggers - and locks them with one
``SELECT ... ORDER BY id FOR UPDATE`` per entity, entities in table-name order. A row that cannot be
predicted before the loop (its key is computed by an earlier action of the same iteration) is still locked
where its action runs. SQLite write transactions hold the whole database: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lowcode.errors import LowcodeError
from lowcode.rules.actions.base import RuleRun, evaluate, rule_actions
from lowcode.rules.hooks import WriteEvent
from lowcode.runtime.links import prefetch_live
from lowcode.runtime.row_cache import equalities, prefetched

UNKNOWN = object()
"""The value of an expression that cannot be evaluated before the loop."""
MAX_DEPTH = 4
"""How many levels of rules triggered by created records are followed."""


@dataclass(frozen=True)
class LockTarget:
    """The rows of ``entity`` (in the rule's app) matching the condition ``where`` with ``variables``."""

    entity: str
    where: Mapping[str, Any]
    variables: Mapping[str, Any]


@dataclass(frozen=True)
class LockPlan:
    """Predicts the rows actions will lock; ``event`` is the write the actions see (the trigger, or a record
    the loop will create), ``rules`` the rules followed so far (a rule is not followed into itself)."""

    run: RuleRun
    event: WriteEvent
    depth: int = 0
    rules: tuple[str, ...] = ()

    def targets(self, actions: Iterable[Mapping[str, Any]], scope: Mapping[str, Any]) -> Iterator[LockTarget]:
        """The rows ``actions`` will lock when run in ``scope`` (an action whose ``when`` is false is skipped)."""
        for action in actions:
            if action.get("when") and known(action["when"], scope) is False:
                continue
            yield from rule_actions.get(action["type"]).locks(self, action, scope)

    def created(self, entity: str, record: dict[str, Any]) -> Iterator[LockTarget]:
        """The rows the create-rules of ``entity`` will lock for a record created with (at least) ``record``."""
        rulebook = getattr(self.run.ctx.snapshot, "rulebook", None)
        if rulebook is None or self.depth >= MAX_DEPTH:
            return
        app = self.run.rule.app
        event = WriteEvent(app, entity, "create", None, None, record)
        for phase in ("before", "after"):
            for rule in rulebook.for_event(app, entity, "create", phase):
                if rule.name in self.rules or not _may_trigger(rule, event, self.run.ctx.variables):
                    continue
                nested = LockPlan(self.run, event, self.depth + 1, (*self.rules, rule.name))
                yield from nested.targets(rule.actions, self.run.engine.scope(self.run.ctx, event))


def lock_ahead(run: RuleRun, actions: list[Mapping[str, Any]], scopes: Iterable[Mapping[str, Any]]) -> None:
    """Lock, in key order, the rows ``actions`` will lock when run once in each of ``scopes`` (PostgreSQL)."""
    if run.ctx.session.get_bind().dialect.name != "postgresql":
        return
    plan = LockPlan(run, run.event)
    clauses: dict[str, list[Any]] = {}
    for scope in scopes:
        for target in plan.targets(actions, scope):
            clause = _clause(run, target)
            if clause is not None:
                clauses.setdefault(target.entity, []).append(clause)
    if sum(map(len, clauses.values())) < 2:
        return  # one condition's rows are locked by its own action, in one statement, in id order already
    entities = sorted((run.ctx.snapshot.entity(run.rule.app, n) for n in clauses), key=lambda e: e.table.name)
    for entity in entities:
        t = entity.table
        query = sa.select(t.c.id).where(t.c.deleted_at.is_(None), sa.or_(*clauses[entity.name]))
        run.ctx.session.execute(query.order_by(t.c.id).with_for_update())


def prefetch_links(run: RuleRun, actions: list[Mapping[str, Any]], scopes: list[Mapping[str, Any]]) -> None:
    """Check in one query per target the link values the records ``actions`` create when run once in each
    of ``scopes`` will hold (:func:`lowcode.runtime.links.prefetch_live`), where the rule's identity may
    point at every record of the target."""
    wanted: dict[str, set[Any]] = {}
    for action in actions:
        if action.get("when"):
            continue  # run or not per line: its values need not be checked
        handler = rule_actions.get(action["type"])
        for scope in scopes:
            for target, value in handler.link_values(run, action, scope):
                wanted.setdefault(target, set()).add(value)
    permissions = run.engine.records.permissions
    for name, ids in wanted.items():
        target = run.ctx.snapshot.entity(run.rule.app, name)
        if permissions.read_filter(run.ctx.actor, target, run.ctx.variables) is None:
            prefetch_live(run.ctx, target, ids)


def loop_rows(run: RuleRun, actions: list[Mapping[str, Any]], scopes: list[Mapping[str, Any]]) -> ExitStack:
    """Read in one statement per entity the rows the guarded updates and upserts of ``actions`` will match
    when run once in each of ``scopes`` - and the records their ``for_each_record`` loops look up, unlocked,
    where no update of the loop touches that entity - where their conditions are ``=`` on integer fields
    (:mod:`lowcode.runtime.row_cache`); the returned stack forgets them when the loop is done."""
    plan = LockPlan(run, run.event, MAX_DEPTH)  # the actions' own rows, not those of records they create
    wanted: dict[tuple[str, bool], tuple[tuple[str, ...], set[tuple]]] = {}
    unsure: set[tuple[str, bool]] = (
        set()
    )  # with a condition that is not such an equality (or of other columns)
    for scope in scopes:
        for updates, target in loop_targets(plan, actions, scope):
            kind = (target.entity, updates)
            if kind in unsure:
                continue
            entity = run.ctx.snapshot.entity(run.rule.app, target.entity)
            found = equalities(entity.condition(dict(target.where), "where"), target.variables)
            if found is None or wanted.setdefault(kind, (found[0], set()))[0] != found[0]:
                unsure.add(kind)
            else:
                wanted[kind][1].add(found[1])
    updated = {name for name, updates in wanted.keys() | unsure if updates}
    stack = ExitStack()
    try:
        for (name, updates), (columns, keys) in wanted.items():
            if (name, updates) not in unsure and (updates or name not in updated):
                entity = run.ctx.snapshot.entity(run.rule.app, name)
                stack.enter_context(prefetched(run.ctx, entity, columns, keys, lock=updates))
    except BaseException:
        stack.close()
        raise
    return stack


def loop_targets(
    plan: LockPlan, actions: Iterable[Mapping[str, Any]], scope: Mapping[str, Any]
) -> Iterator[tuple[bool, LockTarget]]:
    """The ``(updates, target)`` rows ``actions`` (those without ``when``) will read or update by their own
    conditions in ``scope`` (:meth:`lowcode.rules.actions.base.RuleAction.loop_reads`)."""
    for action in actions:
        if not action.get("when"):
            yield from rule_actions.get(action["type"]).loop_reads(plan, action, scope)


def known(expression: Any, scope: Mapping[str, Any]) -> Any:
    """The value of an expression in ``scope``, or :data:`UNKNOWN` when it names something not there yet."""
    try:
        return evaluate(expression, scope)
    except LowcodeError:
        return UNKNOWN


def _may_trigger(rule, event: WriteEvent, variables: Mapping[str, Any]) -> bool:
    try:
        return rule.triggered_by(event, variables)
    except LowcodeError:
        return True  # not decidable from the values known before the loop: lock (more) rather than miss


def _clause(run: RuleRun, target: LockTarget) -> Any:
    """The SQL condition of a target, or None when it depends on values not known before the loop."""
    try:
        entity = run.ctx.snapshot.entity(run.rule.app, target.entity)
        columns = {n: entity.table.c[n] for n in entity.kinds}
        return entity.condition(dict(target.where), "where").to_sql(columns, target.variables)
    except LowcodeError:
        return None
