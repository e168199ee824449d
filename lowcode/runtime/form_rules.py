"""The conditional fields of the form that governs an entity (``Snapshot.form_for``), compiled per snapshot
onto ``entity.form_rules``: for each field entry with ``visible_when`` / ``required_when`` /
``read_only_when``, the parsed conditions. The record service enforces them (:mod:`lowcode.runtime.form_guard`)
and the form pages show their state; both ask :meth:`FormRules.states`, so there is one evaluator (the
in-memory condition evaluator), on the server.

Meaning, for one record state (a field without a condition: visible, as required as its definition says, not
read-only):

- ``visible`` - ``visible_when`` holds (no condition: always);
- ``required`` - visible and (the field is required, or ``required_when`` holds): a hidden field is never
  required;
- ``read_only`` - visible and ``read_only_when`` holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lowcode.conditions import Condition
from lowcode.definitions.form_checks import form_entries
from lowcode.errors import ConditionInvalid
from lowcode.runtime.compiler import CompiledEntity


@dataclass(frozen=True)
class FieldState:
    """What the form makes of one field for one record state."""

    visible: bool = True
    required: bool = False
    read_only: bool = False


@dataclass(frozen=True)
class ConditionalField:
    """A form entry with at least one condition."""

    name: str
    required: bool
    """The field definition's own ``required``."""
    visible_when: Condition | None = None
    required_when: Condition | None = None
    read_only_when: Condition | None = None

    def visible(self, record: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
        """Whether the field is shown for ``record``."""
        return self.visible_when is None or self.visible_when.matches(record, variables)

    def state(self, record: Mapping[str, Any], variables: Mapping[str, Any], ro_record=None) -> FieldState:
        """The field's state for ``record`` (``ro_record``: the record ``read_only_when`` is judged on,
        ``record`` when None)."""
        if not self.visible(record, variables):
            return FieldState(visible=False)
        required = self.required or (
            self.required_when is not None and self.required_when.matches(record, variables)
        )
        judged = record if ro_record is None else ro_record
        read_only = self.read_only_when is not None and self.read_only_when.matches(judged, variables)
        return FieldState(True, required, read_only)


@dataclass(frozen=True)
class FormRules:
    """The conditional fields of one entity's governing form, by field name."""

    fields: Mapping[str, ConditionalField]

    @property
    def relaxed(self) -> frozenset[str]:
        """Required fields whose requirement the form decides (they have ``visible_when``): the input
        schema does not demand them, :mod:`lowcode.runtime.form_guard` does while they are shown."""
        return frozenset(n for n, f in self.fields.items() if f.required and f.visible_when is not None)

    def states(self, record: Mapping[str, Any], variables: Mapping[str, Any], ro_record=None) -> dict:
        """``{name: FieldState}`` of every conditional field for ``record``."""
        return {n: f.state(record, variables, ro_record) for n, f in self.fields.items()}

    def settle(
        self,
        posted: Mapping[str, Any],
        kept: Mapping[str, Any],
        variables: Mapping[str, Any],
        ro_record: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, FieldState], dict[str, Any]]:
        """The states a form page shows for the values ``posted`` and the record it would save, where hidden
        and read-only fields are not sent (they keep their values ``kept``): those fields take their kept
        values and the states are judged again until they hold still (a field shown only while a hidden one
        has a value). ``ro_record`` as for :meth:`states`."""
        record = dict(posted)
        states = self.states(record, variables, ro_record)
        for _ in range(len(self.fields) + 1):
            fixed = {n for n, s in states.items() if not s.visible or s.read_only}
            record = {**posted, **{n: kept.get(n) for n in fixed}}
            again = self.states(record, variables, ro_record)
            if again == states:
                break
            states = again
        return states, record


def compile_form_rules(entity: CompiledEntity, form: Mapping[str, Any] | None) -> FormRules | None:
    """The conditional fields of ``form`` over ``entity`` (None when it has none). Entries naming a field
    the entity no longer has are left out (publishing checks references; a stale form does nothing)."""
    if form is None:
        return None
    fields: dict[str, ConditionalField] = {}
    for s, f, entry in form_entries(form):
        name = entry["field"]
        if name not in entity.fields or name in fields:
            continue
        parsed = {}
        for key in ("visible_when", "required_when", "read_only_when"):
            try:
                parsed[key] = (
                    entity.condition(entry[key], f"sections/{s}/fields/{f}/{key}") if key in entry else None
                )
            except ConditionInvalid:  # the entity changed under a published form: the condition does nothing
                parsed[key] = None
        if any(parsed.values()):
            fields[name] = ConditionalField(name, entity.fields[name].fdef.required, **parsed)
    return FormRules(fields) if fields else None


def attach_form_rules(entities: Mapping[tuple[str, str], CompiledEntity], form_for) -> None:
    """Set ``entity.form_rules`` of every entity from its governing form (``form_for(app, entity)``)."""
    for (app, name), entity in entities.items():
        entity.form_rules = compile_form_rules(entity, form_for(app, name))
