"""The one permission service: every page, API route, list query and write asks it.

This first version knows two kinds of actor: administrators (and the system), who may do anything, and
everyone else, who may do nothing (least privilege) until roles grant them actions. Roles, record rules and
field rules plug in here without changing any caller.
"""

from __future__ import annotations

from typing import Any

from lowcode.errors import PermissionDenied
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import Actor

ACTIONS = ("read", "create", "update", "delete", "export", "import", "approve", "configure")


class PermissionService:
    """Answers "may this actor do this action on this entity (and record)?"."""

    def authorize(
        self, actor: Actor, entity: CompiledEntity, action: str, record: dict[str, Any] | None = None
    ) -> None:
        """Return if allowed. :raises PermissionDenied: with a plain reason otherwise."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        if actor.is_admin:
            return
        raise PermissionDenied(
            f"{actor.username} has no role that grants '{action}' on {entity.app}.{entity.name}"
        )

    def authorize_platform(self, actor: Actor, action: str) -> None:
        """Platform-level actions (edit definitions, import templates): administrators only for now."""
        if not actor.is_admin:
            raise PermissionDenied(f"{actor.username} may not {action}: administrators only")

    def read_condition(self, actor: Actor, entity: CompiledEntity) -> dict[str, Any] | None:
        """A condition every row the actor reads must satisfy (None: no restriction)."""
        return None

    def hidden_fields(self, actor: Actor, entity: CompiledEntity) -> frozenset[str]:
        """Fields the actor may not see (removed from output) nor write (refused on input)."""
        return frozenset()
