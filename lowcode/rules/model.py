"""Rule definitions compiled once per snapshot: triggers parsed, conditions compiled, actions checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode.conditions import Condition, parse_condition
from lowcode.rules.hooks import WriteEvent
from lowcode.runtime.compiler import CompiledEntity


@dataclass(frozen=True)
class Transition:
    """``status`` moving from one of ``sources`` to one of ``targets`` (empty = any)."""

    field: str
    sources: frozenset[str] = frozenset()
    targets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CompiledRule:
    """One published rule, ready to be matched against write events."""

    app: str
    name: str
    entity: str
    version: int
    order: int
    phase: str | None
    """"before" / "after" for record triggers; None for scheduled rules."""
    events: frozenset[str]
    actions: tuple[dict[str, Any], ...]
    fields_changed: frozenset[str] = frozenset()
    transition: Transition | None = None
    transitions_taken: frozenset[str] = frozenset()
    """Workflow transitions (by name) that fire the rule; empty = not limited to transitions."""
    condition: Condition | None = None
    old_condition: Condition | None = None
    schedule: Mapping[str, Any] | None = None
    schedule_condition: Condition | None = None
    definition: Mapping[str, Any] = field(default_factory=dict)

    def triggered_by(self, event: WriteEvent, variables: Mapping[str, Any]) -> bool:
        """Does this write event fire the rule (event kind, changed fields, transition, conditions)?"""
        if event.kind not in self.events:
            return False
        before, after = event.before or {}, event.after
        if self.fields_changed and not any(before.get(f) != after.get(f) for f in self.fields_changed):
            return False
        if self.transitions_taken and event.transition not in self.transitions_taken:
            return False
        if self.transition is not None:
            old, new = before.get(self.transition.field), after.get(self.transition.field)
            if old == new or (self.transition.sources and old not in self.transition.sources):
                return False
            if self.transition.targets and new not in self.transition.targets:
                return False
        if self.condition is not None and not self.condition.matches(after, variables):
            return False
        return self.old_condition is None or (
            event.before is not None and self.old_condition.matches(before, variables)
        )


def compile_rule(app: str, body: Mapping[str, Any], entity: CompiledEntity, version: int) -> CompiledRule:
    """Compile a validated rule definition against its entity."""
    trigger = body.get("trigger") or {}
    transition, taken = None, trigger.get("transition")
    if isinstance(taken, dict):
        transition = Transition(
            taken["field"], frozenset(taken.get("from", [])), frozenset(taken.get("to", []))
        )
        taken = None
    schedule = body.get("schedule")

    def cond(doc, path):
        return parse_condition(doc, entity.kinds, path=path) if doc else None

    return CompiledRule(
        app=app,
        name=body["name"],
        entity=body["entity"],
        version=version,
        order=int(body.get("order", 100)),
        phase=None if schedule else trigger.get("phase", "after"),
        events=frozenset(trigger.get("events", [])),
        actions=tuple(body["actions"]),
        fields_changed=frozenset(trigger.get("fields_changed", [])),
        transition=transition,
        transitions_taken=frozenset([taken] if isinstance(taken, str) else taken or []),
        condition=cond(trigger.get("condition"), "trigger/condition"),
        old_condition=cond(trigger.get("old_condition"), "trigger/old_condition"),
        schedule=schedule,
        schedule_condition=cond((schedule or {}).get("condition"), "schedule/condition"),
        definition=dict(body),
    )


@dataclass
class Rulebook:
    """Every enabled rule of a snapshot, indexed for the write path."""

    by_trigger: dict[tuple[str, str, str, str], list[CompiledRule]] = field(default_factory=dict)
    scheduled: list[CompiledRule] = field(default_factory=list)
    all: dict[tuple[str, str], CompiledRule] = field(default_factory=dict)

    def for_event(self, app: str, entity: str, kind: str, phase: str) -> list[CompiledRule]:
        """Rules of one entity, event kind and phase, in their explicit order (then by name)."""
        return self.by_trigger.get((app, entity, kind, phase), [])


def build_rulebook(
    entities: Mapping[tuple[str, str], CompiledEntity],
    rules: Mapping[tuple[str, str], Mapping[str, Any]],
    version: int,
) -> Rulebook:
    """Compile every enabled rule whose entity is published."""
    book = Rulebook()
    for (app, name), body in sorted(rules.items()):
        entity = entities.get((app, body["entity"]))
        if entity is None:
            continue
        rule = compile_rule(app, body, entity, version)
        book.all[(app, name)] = rule
        if body.get("enabled", True) is False:
            continue
        if rule.phase is None:
            book.scheduled.append(rule)
            continue
        for kind in rule.events:
            book.by_trigger.setdefault((app, rule.entity, kind, rule.phase), []).append(rule)
    for rules_list in book.by_trigger.values():
        rules_list.sort(key=lambda r: (r.order, r.name))
    return book
