"""Entities the system maintains: no role may create their records, and rules do (stock balances, ledgers,
progress rows). Pages offer no "New" for them - to anyone, administrators included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lowcode.api.edge import services
from lowcode.pages.access import allowed
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext

CREATING_ACTIONS = frozenset({"create_record", "upsert"})


def _created_by(actions: Any) -> Iterator[str]:
    """Entities that the actions (nested loops included) create records of."""
    if isinstance(actions, dict):
        if actions.get("type") in CREATING_ACTIONS and isinstance(actions.get("entity"), str):
            yield actions["entity"]
        for value in actions.values():
            yield from _created_by(value)
    elif isinstance(actions, list):
        for item in actions:
            yield from _created_by(item)


def rule_created(ctx: WriteContext, app: str) -> frozenset[str]:
    """Entities of ``app`` whose records some published rule creates."""
    return frozenset(
        name
        for (rule_app, _name), rule in ctx.snapshot.rulebook.all.items()
        if rule_app == app
        for name in _created_by(rule.definition.get("actions", []))
    )


def system_maintained(ctx: WriteContext, entity: CompiledEntity, created: frozenset[str]) -> bool:
    """No role may create the entity's records and rules create them (``created``: :func:`rule_created`)."""
    return entity.name in created and not services().permissions.granted_to_any_role(entity, "create")


def may_offer_new(ctx: WriteContext, entity: CompiledEntity, created: frozenset[str]) -> bool:
    """Whether a page offers "New" for the entity: the reader may create and the system does not maintain it."""
    return allowed(ctx, entity, "create") and not system_maintained(ctx, entity, created)
