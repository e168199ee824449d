"""What the pages show of a record's workflow: the state badge, the transitions the actor may take now (as
buttons), which fields a form may not offer (the state field, what the state locks), the state filter of a
list and the transitions a list can run on several records. The record service enforces all of it again."""

from __future__ import annotations

from typing import Any

from flask import url_for

from lowcode.api.edge import services
from lowcode.errors import PermissionDenied
from lowcode.fields.base import pick_label
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.workflows.model import Transition


def state_badge(entity: CompiledEntity, record: dict[str, Any], language: str) -> dict[str, str] | None:
    """``{"label", "color"}`` of the record's state (None without a workflow or a state)."""
    wf = entity.workflow
    state = wf.state(record.get(wf.state_field)) if wf is not None else None
    if state is None:
        return None
    return {"label": state.label_for(language), "color": state.color}


def confirm_text(step: Transition, language: str) -> str:
    """The transition's confirmation question in a language ("" when it asks none)."""
    return pick_label(step.confirm, language, "") if step.confirm else ""


def transition_buttons(
    ctx: WriteContext, entity: CompiledEntity, record: dict[str, Any], language: str
) -> list[dict[str, Any]]:
    """The transitions the actor may take on the record now: a button posting straight to the transition
    (with its confirmation question), or a link to the transition's page when it needs fields filled in."""
    out = []
    for step in services().records.workflow.offers(ctx, entity, record):
        url = url_for(
            "pages.transition", app=entity.app, entity=entity.name, record_id=record["id"], name=step.name
        )
        out.append(
            {
                "name": step.name,
                "label": step.label_for(language),
                "url": url,
                "confirm": confirm_text(step, language),
                "needs_form": bool(step.required_fields),
            }
        )
    return out


def record_locked(entity: CompiledEntity, record: dict[str, Any]) -> bool:
    """Whether the record's state locks the whole record (the pages offer no Edit then)."""
    wf = entity.workflow
    state = wf.state(record.get(wf.state_field)) if wf is not None else None
    return state is not None and state.lock is not None and state.lock.record


def may_delete(entity: CompiledEntity, record: dict[str, Any]) -> bool:
    """Whether the record's state allows deleting it."""
    wf = entity.workflow
    state = wf.state(record.get(wf.state_field)) if wf is not None else None
    return state is None or state.deletable


def frozen_fields(entity: CompiledEntity, stored: dict[str, Any] | None) -> frozenset[str]:
    """Fields a form shows read-only because of the workflow: on an existing record the state field and
    what its state locks; on a new one the state field when there is one initial state only."""
    wf = entity.workflow
    if wf is None:
        return frozenset()
    if stored is not None:
        return services().records.workflow.locked_fields(entity, stored)
    return frozenset([wf.state_field]) if len(wf.initial) == 1 else frozenset()


def state_choices(entity: CompiledEntity, language: str) -> list[tuple[str, str]] | None:
    """The choices of the state field on a new record's form: the initial states (None without a workflow)."""
    wf = entity.workflow
    return [(s, wf.state_label(s, language)) for s in wf.initial] if wf is not None else None


def state_filter(entity: CompiledEntity, language: str, current: str, link) -> list[dict[str, Any]]:
    """The list's state filter: one link per state (``link(value)`` gives its URL; "" for every state)."""
    wf = entity.workflow
    if wf is None:
        return []
    out = [{"label": None, "color": "", "url": link(""), "active": current == ""}]
    out += [
        {"label": s.label_for(language), "color": s.color, "url": link(s.name), "active": current == s.name}
        for s in wf.states.values()
    ]
    return out


def bulk_transitions(ctx: WriteContext, entity: CompiledEntity, language: str) -> list[dict[str, str]]:
    """Transitions the actor holds a grant for that need no fields: a list can run them on several records."""
    wf = entity.workflow
    if wf is None:
        return []
    out = []
    for step in wf.transitions.values():
        if step.required_fields:
            continue
        try:
            services().permissions.transition_grants(ctx.actor, entity, step.name)
        except PermissionDenied:
            continue
        out.append(
            {"name": step.name, "label": step.label_for(language), "confirm": confirm_text(step, language)}
        )
    return out
