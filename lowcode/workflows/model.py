"""Workflow definitions compiled once per snapshot and attached to their entity (``entity.workflow``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode.conditions import Condition, parse_condition
from lowcode.fields.base import normalise_label, pick_label
from lowcode.runtime.compiler import CompiledEntity

COLORS = ("grey", "blue", "green", "amber", "red", "purple", "teal")


def as_list(value: Any) -> list[str]:
    """A state name or a list of them, as a list."""
    return [value] if isinstance(value, str) else list(value or [])


@dataclass(frozen=True)
class Lock:
    """What a state locks: the whole record and its child rows but ``fields`` (``record``), or ``fields``."""

    record: bool = False
    fields: frozenset[str] = frozenset()

    def covers(self, name: str) -> bool:
        """Whether the field (or child-table field) ``name`` is locked."""
        return name not in self.fields if self.record else name in self.fields


@dataclass(frozen=True)
class State:
    """One state: its label, badge colour, lock and whether its records may be deleted."""

    name: str
    label: dict[str, str]
    color: str = "grey"
    lock: Lock | None = None
    deletable: bool = True

    def label_for(self, language: str) -> str:
        """The state's label in a language."""
        return pick_label(self.label, language, self.name)


@dataclass(frozen=True)
class Transition:
    """A named move from one of ``sources`` to ``target``."""

    name: str
    label: dict[str, str]
    sources: frozenset[str]
    target: str
    condition: Condition | None = None
    condition_message: dict[str, str] = field(default_factory=dict)
    required_fields: tuple[str, ...] = ()
    confirm: dict[str, str] | None = None
    automatic: bool = False
    """taken only by the platform (rules, imports), never by a person"""

    def label_for(self, language: str) -> str:
        """The transition's label (its button) in a language."""
        return pick_label(self.label, language, self.name)


@dataclass(frozen=True)
class CompiledWorkflow:
    """One published workflow: the state field of its entity, states, initial states and transitions."""

    app: str
    name: str
    entity: str
    state_field: str
    initial: tuple[str, ...]
    states: Mapping[str, State]
    transitions: Mapping[str, Transition]
    """by name, in declared order"""
    automatic_initial: tuple[str, ...] = ()
    """states only the platform itself may also create a record in"""

    def state(self, name: Any) -> State | None:
        """A declared state (None for an undeclared value, e.g. an empty state field)."""
        return self.states.get(name) if isinstance(name, str) else None

    def state_label(self, name: Any, language: str) -> str:
        """The label of a state value (the value itself when undeclared)."""
        state = self.state(name)
        return state.label_for(language) if state is not None else str(name)

    def leaving(self, state: Any) -> list[Transition]:
        """The transitions that start in ``state``, in declared order."""
        return [t for t in self.transitions.values() if state in t.sources]

    def between(self, old: Any, new: Any) -> list[Transition]:
        """The transitions from ``old`` to ``new``, in declared order."""
        return [t for t in self.leaving(old) if t.target == new]


def compile_workflow(app: str, body: Mapping[str, Any], entity: CompiledEntity) -> CompiledWorkflow:
    """Compile a validated workflow definition against its entity."""
    choices = {c["value"]: c for c in entity.fields[body["state_field"]].fdef.options.get("choices", [])}
    states = {}
    for doc in body["states"]:
        choice = choices.get(doc["name"], {})
        color = doc.get("color") or (choice.get("color") if choice.get("color") in COLORS else "grey")
        lock = None
        if "lock" in doc:
            lock_doc = doc["lock"]
            lock = Lock(
                bool(lock_doc.get("record")), frozenset(lock_doc.get("except", lock_doc.get("fields", [])))
            )
        label = normalise_label(doc.get("label") or choice.get("label"), doc["name"])
        states[doc["name"]] = State(doc["name"], label, color, lock, doc.get("delete", True))
    transitions = {}
    for i, doc in enumerate(body["transitions"]):
        condition = doc.get("condition")
        transitions[doc["name"]] = Transition(
            name=doc["name"],
            label=normalise_label(doc.get("label"), doc["name"]),
            sources=frozenset(as_list(doc["from"])),
            target=doc["to"],
            condition=parse_condition(condition, entity.kinds, path=f"transitions/{i}/condition")
            if condition
            else None,
            condition_message=normalise_label(doc.get("condition_message"), ""),
            required_fields=tuple(doc.get("required_fields", [])),
            confirm=normalise_label(doc["confirm"], "") if doc.get("confirm") else None,
            automatic=bool(doc.get("automatic", False)),
        )
    return CompiledWorkflow(
        app,
        body["name"],
        body["entity"],
        body["state_field"],
        tuple(as_list(body["initial"])),
        states,
        transitions,
        tuple(body.get("automatic_initial", ())),
    )


def attach_workflows(
    entities: Mapping[tuple[str, str], CompiledEntity], workflows: Mapping[tuple[str, str], Mapping[str, Any]]
) -> None:
    """Compile every published workflow onto ``entity.workflow`` (None for entities without one)."""
    for entity in entities.values():
        entity.workflow = None
    for (app, _name), body in sorted(workflows.items()):
        entity = entities.get((app, body["entity"]))
        if entity is None or body["state_field"] not in entity.fields or entity.workflow is not None:
            continue  # publishing checks references; a stale workflow simply does nothing
        entity.workflow = compile_workflow(app, body, entity)
