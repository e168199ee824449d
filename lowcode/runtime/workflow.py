"""Workflows on the write path: the record service asks :class:`WorkflowGuard` on every create, update,
transition, delete and guarded atomic update, whoever the caller is.

- A record is created in an initial state (an empty state field gets the first one); the platform itself
  may also create one in an ``automatic_initial`` state (a voucher a posting books already posted).
- The state field changes only along a declared transition the caller may take: a role grant names it
  (administrators and the system identity of rules need none; an ``automatic`` one is taken only by the
  system identity, never by a person), its condition holds on the new record and its required fields are
  filled.
- A state's lock refuses changes of the locked fields (the whole record with its child rows but the
  ``except`` fields, or the named fields), except the state field itself and the fields the transition
  being taken requires.
- A state may forbid deleting.

Status codes: what the record's current state forbids is a 409 ``workflow_refused`` naming the state;
input that is wrong whatever the state (a new record in a non-initial state, a required field left
empty, a field the transition does not take) is a 422; a transition no role of the caller grants is a 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lowcode.auth.permissions import PermissionService
from lowcode.core.texts import Text
from lowcode.errors import (
    BadRequest,
    LowcodeError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    WorkflowRefused,
)
from lowcode.fields.base import pick_label
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.workflows.model import CompiledWorkflow, Transition


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _labels(entity: CompiledEntity, names: Iterable[str], language: str) -> str:
    """Field names as their labels in a language, comma-separated."""
    return ", ".join(
        pick_label(entity.fields[n].fdef.label, language, n) if n in entity.fields else n for n in names
    )


class WorkflowGuard:
    """The workflow checks of the record service (stateless; the actor comes with each call's context)."""

    def __init__(self, permissions: PermissionService):
        self.permissions = permissions

    # -- create and delete ------------------------------------------------------------------------
    def on_create(self, ctx: WriteContext, entity: CompiledEntity, record: dict[str, Any]) -> None:
        """Put an empty state field in the first initial state; refuse any other state (422)."""
        wf = entity.workflow
        if wf is None:
            return
        state = record.get(wf.state_field)
        if state is None:
            record[wf.state_field] = wf.initial[0]
        elif state not in wf.initial and not (ctx.actor.is_system and state in wf.automatic_initial):
            starts = ", ".join(f"'{wf.state_label(s, ctx.actor.language)}'" for s in wf.initial)
            message = Text(
                "A new {entity} starts in {starts}; '{state}' is reached by a transition",
                entity=entity.label_for(ctx.actor.language),
                starts=starts,
                state=wf.state_label(state, ctx.actor.language),
            )
            raise ValidationFailed(message, fields={wf.state_field: [message]})

    def check_delete(self, ctx: WriteContext, entity: CompiledEntity, current: dict[str, Any]) -> None:
        """Refuse deleting a record whose state forbids it (409)."""
        wf = entity.workflow
        state = wf.state(current.get(wf.state_field)) if wf is not None else None
        if state is not None and not state.deletable:
            raise WorkflowRefused(
                Text(
                    "{entity} {id} is '{state}': it cannot be deleted in this state",
                    entity=entity.label_for(ctx.actor.language),
                    id=current["id"],
                    state=state.label_for(ctx.actor.language),
                )
            )

    # -- transitions ------------------------------------------------------------------------------
    def requested(
        self, ctx: WriteContext, entity: CompiledEntity, current: dict[str, Any], name: str
    ) -> Transition:
        """The transition ``name`` asked for by the transition endpoint, if the caller may take it from the
        record's state. :raises NotFound: unknown transition; :raises PermissionDenied:; :raises WorkflowRefused:"""
        wf = entity.workflow
        if wf is None or name not in wf.transitions:
            raise NotFound(
                Text(
                    "{entity} has no workflow transition '{name}'",
                    entity=entity.label_for(ctx.actor.language),
                    name=name,
                )
            )
        step = wf.transitions[name]
        self._authorize(ctx, entity, step, current)
        state = current.get(wf.state_field)
        if state not in step.sources:
            raise WorkflowRefused(
                Text(
                    "{entity} {id} is '{state}': '{transition}' is not possible in this state",
                    entity=entity.label_for(ctx.actor.language),
                    id=current["id"],
                    state=wf.state_label(state, ctx.actor.language),
                    transition=step.label_for(ctx.actor.language),
                ),
                fields={
                    wf.state_field: [
                        Text(
                            "'{name}' starts from {sources}",
                            name=name,
                            sources=", ".join(sorted(step.sources)),
                        )
                    ]
                },
            )
        return step

    def _authorize(
        self, ctx: WriteContext, entity: CompiledEntity, step: Transition, record: dict[str, Any]
    ) -> None:
        """The caller may take ``step`` on ``record``: an automatic one only as the platform itself, any
        other by a role grant. :raises PermissionDenied:"""
        if step.automatic:
            if not ctx.actor.is_system:
                raise PermissionDenied(
                    Text(
                        "'{transition}' is taken by the app itself, not by hand",
                        transition=step.label_for(ctx.actor.language),
                    )
                )
            return
        self.permissions.authorize_transition(ctx.actor, entity, step.name, record)

    def transition_input(self, entity: CompiledEntity, step: Transition, data: Any) -> dict[str, Any]:
        """The body of a transition request as an update: its required fields (and ``version``) only,
        plus the target state. :raises ValidationFailed: for any other field."""
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise BadRequest("The transition body must be a JSON object of the fields it requires")
        allowed = {*step.required_fields, "version"}
        extra = sorted(k for k in data if k not in allowed)
        if extra:
            raise ValidationFailed(
                Text(
                    "The transition '{name}' takes only {fields}",
                    name=step.name,
                    fields=", ".join(step.required_fields) or Text("no fields"),
                ),
                fields={k: [Text("Not a field of the transition '{name}'.", name=step.name)] for k in extra},
            )
        return {**data, entity.workflow.state_field: step.target}

    def resolve(
        self,
        ctx: WriteContext,
        entity: CompiledEntity,
        before: dict[str, Any],
        after: dict[str, Any],
        requested: str | None = None,
    ) -> Transition | None:
        """The transition a write takes (None when the state field does not change): the one requested,
        else the first declared from the old to the new state that the caller may take.

        :raises WorkflowRefused:, PermissionDenied or ValidationFailed: for the first candidate's reason.
        """
        wf = entity.workflow
        if wf is None:
            return None
        old, new = before.get(wf.state_field), after.get(wf.state_field)
        if requested is None and old == new:
            return None
        candidates = [wf.transitions[requested]] if requested else wf.between(old, new)
        if not candidates or any(t.target != new for t in candidates):
            lang = ctx.actor.language
            message = Text(
                "{entity} {id} is '{state}': no transition leads to '{target}'",
                entity=entity.label_for(ctx.actor.language),
                id=before.get("id"),
                state=wf.state_label(old, lang),
                target=wf.state_label(new, lang),
            )
            raise WorkflowRefused(message, fields={wf.state_field: [message]})
        failure: LowcodeError | None = None
        for step in candidates:
            why = self._refusal(ctx, entity, wf, step, before, after)
            if why is None:
                return step
            failure = failure or why
        raise failure

    def _refusal(
        self,
        ctx: WriteContext,
        entity: CompiledEntity,
        wf: CompiledWorkflow,
        step: Transition,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> LowcodeError | None:
        """Why the caller may not take ``step`` here (None when they may)."""
        lang = ctx.actor.language
        try:
            self._authorize(ctx, entity, step, before)
        except PermissionDenied as exc:
            return exc
        missing = [name for name in step.required_fields if _empty(after.get(name))]
        if missing:
            label = step.label_for(lang)
            return ValidationFailed(
                Text(
                    "'{transition}' needs {fields} filled in",
                    transition=label,
                    fields=_labels(entity, missing, lang),
                ),
                fields={
                    name: [Text("Required to take '{transition}'.", transition=label)] for name in missing
                },
            )
        if step.condition is not None and not step.condition.matches(after, ctx.variables):
            reason = step.condition_message and (
                step.condition_message.get(lang.replace("_", "-")) or step.condition_message.get("en")
            )
            return WorkflowRefused(
                Text(
                    "{entity} {id} is '{state}': '{transition}' is refused: {reason}",
                    entity=entity.label_for(ctx.actor.language),
                    id=before.get("id"),
                    state=wf.state_label(before.get(wf.state_field), lang),
                    transition=step.label_for(lang),
                    reason=reason or Text("its condition does not hold"),
                )
            )
        return None

    # -- locks ------------------------------------------------------------------------------------
    def check_locks(
        self,
        ctx: WriteContext,
        entity: CompiledEntity,
        before: dict[str, Any],
        after: dict[str, Any],
        children_changed: Iterable[str],
        taken: Transition | None,
    ) -> None:
        """Refuse (409) changes of what the record's current state locks."""
        wf = entity.workflow
        state = wf.state(before.get(wf.state_field)) if wf is not None else None
        if state is None or state.lock is None:
            return
        free = {wf.state_field, *(taken.required_fields if taken is not None else ())}
        changed = [cf.name for cf in entity.writable if before.get(cf.name) != after.get(cf.name)]
        locked = [n for n in [*changed, *sorted(children_changed)] if n not in free and state.lock.covers(n)]
        if locked:
            label = state.label_for(ctx.actor.language)
            raise WorkflowRefused(
                Text(
                    "{entity} {id} is '{state}': {fields} cannot be changed in this state",
                    entity=entity.label_for(ctx.actor.language),
                    id=before.get("id"),
                    state=label,
                    fields=_labels(entity, locked, ctx.actor.language),
                ),
                fields={
                    name: [Text("Locked while the record is '{state}'.", state=label)] for name in locked
                },
            )

    def settle(
        self,
        ctx: WriteContext,
        entity: CompiledEntity,
        before: dict[str, Any],
        after: dict[str, Any],
        taken: Transition | None,
        children_changed: Iterable[str],
        requested: str | None = None,
    ) -> Transition | None:
        """After the before-rules: resolve the transition again if they changed the state, then the locks.
        Returns the transition the write takes."""
        wf = entity.workflow
        if wf is None:
            return None
        if (taken.target if taken is not None else before.get(wf.state_field)) != after.get(wf.state_field):
            taken = self.resolve(ctx, entity, before, after, requested)
        self.check_locks(ctx, entity, before, after, children_changed, taken)
        return taken

    # -- what the caller may do now -------------------------------------------------------------
    def offers(self, ctx: WriteContext, entity: CompiledEntity, record: dict[str, Any]) -> list[Transition]:
        """The transitions the caller may take on ``record`` now (granted, condition true); a transition
        whose required fields are empty is offered - the request fills them in."""
        wf = entity.workflow
        if wf is None or record.get("deleted_at") is not None:
            return []
        out = []
        for step in wf.leaving(record.get(wf.state_field)):
            try:
                self._authorize(ctx, entity, step, record)
            except PermissionDenied:
                continue
            if step.condition is None or step.condition.matches(record, ctx.variables):
                out.append(step)
        return out

    def locked_fields(self, entity: CompiledEntity, record: dict[str, Any]) -> frozenset[str]:
        """The fields (child-table fields included) the record's state locks; the state field always
        (it changes by transitions)."""
        wf = entity.workflow
        if wf is None:
            return frozenset()
        state = wf.state(record.get(wf.state_field))
        lock = state.lock if state is not None else None
        names = [n for n in entity.fields if lock is not None and lock.covers(n)]
        return frozenset([*names, wf.state_field])
