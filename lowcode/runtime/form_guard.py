"""The record service's step for the conditional fields of the entity's form (:mod:`lowcode.runtime.form_rules`):
run on every create and update by a person (API, pages, imports as a user), after the values are read and the
formulas computed, before the before-rules. The platform itself (rules, template installs: ``Actor.is_system``)
is not bound by a form.

Judged on the record as the write would leave it (``after``; ``read_only_when`` of an update on the stored
record), each refusal a 422 naming the field:

- a hidden field (``visible_when`` false) takes no new value: a non-empty value sent for it is refused,
  unless it equals the stored one (an update resending the form's old values is fine); an empty value clears
  it. A hidden field is never required.
- a required field (its definition, or ``required_when``) that is shown must not be left empty;
- a read-only field (``read_only_when``) must not be changed.

A stored value of a field that becomes hidden is kept, not cleared: hiding is about what the form asks, and
the value shows again with the field (the pages do not send hidden fields, so saving the form keeps it).
"""

from __future__ import annotations

from typing import Any

from lowcode.core.texts import Text
from lowcode.errors import ValidationFailed
from lowcode.runtime.children import ChildRows
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext


def is_empty(value: Any) -> bool:
    """Whether a value counts as not filled in (None, blank text, no items)."""
    return value is None or (isinstance(value, str) and value.strip() == "") or value == []


def check_form(
    ctx: WriteContext,
    entity: CompiledEntity,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    sent: frozenset[str],
    children: ChildRows,
) -> None:
    """Refuse what the form's conditions forbid for this write (``before``: the stored record, None for a
    create; ``after``: the record as written; ``sent``: the names the client sent; ``children``: the child
    rows as written - a child table changes when its rows do).

    :raises ValidationFailed: with a message per refused field.
    """
    rules = entity.form_rules
    if rules is None or ctx.actor.is_system:
        return
    rows, changed_rows = children.current(), children.changed()
    errors: dict[str, list[str]] = {}
    for name, state in rules.states(after, ctx.variables, before).items():
        if name in rows:
            value, changes = rows[name], name in changed_rows
        else:
            value = after.get(name)
            changes = name in sent and (before.get(name) if before is not None else None) != value
        if not state.visible:
            if changes and not is_empty(value):
                errors[name] = [Text("Not shown in this form: leave it empty.")]
        elif state.required and is_empty(value):
            errors[name] = [Text("Missing data for required field.")]
        elif state.read_only and changes:
            errors[name] = [Text("Read-only in this form now: it cannot be changed.")]
    if errors:
        raise ValidationFailed(Text("Some fields are not valid"), fields=errors)
