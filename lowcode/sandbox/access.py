"""Who may work with sandboxes: users who may design the whole app - platform administrators and holders of
one of the app's admin roles. A sandbox app is designed by those who may design its live app (the sandbox's
role assignments are not copied)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.permissions import PermissionService
from lowcode.auth.security_log import log_event
from lowcode.core.models import Sandbox
from lowcode.core.texts import Text
from lowcode.errors import PermissionDenied
from lowcode.runtime.context import WriteContext


def sandbox_of(session: Session, app: str) -> Sandbox | None:
    """The sandbox record of ``app`` when it is a sandbox, else None."""
    return session.scalar(sa.select(Sandbox).where(Sandbox.app == app))


def sandboxes_of(session: Session, live_app: str) -> list[Sandbox]:
    """The sandboxes made of a live app, oldest first."""
    return list(session.scalars(sa.select(Sandbox).where(Sandbox.live_app == live_app).order_by(Sandbox.id)))


def _holds_admin_role(permissions: PermissionService, ctx: WriteContext, app: str) -> bool:
    entities = [e for (a, _n), e in ctx.snapshot.entities.items() if a == app]
    return any(permissions.is_app_admin(ctx.actor, e) for e in entities[:1])


def may_design_whole_app(permissions: PermissionService, ctx: WriteContext, app: str) -> bool:
    """Platform administrators, holders of one of the app's admin roles and, for a sandbox, of its live app's."""
    if ctx.actor.is_admin or _holds_admin_role(permissions, ctx, app):
        return True
    sandbox = sandbox_of(ctx.session, app)
    return sandbox is not None and _holds_admin_role(permissions, ctx, sandbox.live_app)


def require_whole_app_designer(permissions: PermissionService, ctx: WriteContext, app: str) -> None:
    """Refuse a user who may not design the whole app. :raises PermissionDenied:"""
    if not may_design_whole_app(permissions, ctx, app):
        raise PermissionDenied(
            Text(
                "{user} may not design app '{app}': it needs the app's configure grant",
                user=ctx.actor.username,
                app=app,
            )
        )


def audit(ctx: WriteContext, app: str, action: str, **detail) -> None:
    """Record a sandbox action (made, published to live, thrown away) as a ``definition_edited`` event."""
    actor = ctx.actor
    log_event(
        ctx.session,
        "definition_edited",
        username=actor.username,
        user_id=actor.user_id,
        ip=actor.ip,
        app=app,
        definition_kind="app",
        name=app,
        action=action,
        **detail,
    )
