"""Who may design an app in the browser designer: platform administrators and holders of one of the app's
admin roles design all of it; holders of a ``configure`` grant design those entities (with their forms and
lists). A sandbox app is designed by those who may design its live app (the sandbox's role assignments are
not copied). Asked by the designer's views and by the pages' navigation (the "Design" link)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.permissions import PermissionService
from lowcode.core.definition_models import Sandbox
from lowcode.core.texts import Text
from lowcode.errors import PermissionDenied
from lowcode.runtime.context import WriteContext


def sandbox_of(session: Session, app: str) -> Sandbox | None:
    """The sandbox record of ``app`` when it is a sandbox, else None."""
    return session.scalar(sa.select(Sandbox).where(Sandbox.app == app))


def _holds_admin_role(permissions: PermissionService, ctx: WriteContext, app: str) -> bool:
    entities = [e for (a, _n), e in ctx.snapshot.entities.items() if a == app]
    return any(permissions.is_app_admin(ctx.actor, e) for e in entities[:1])


def may_design_app(permissions: PermissionService, ctx: WriteContext, app: str) -> bool:
    """Platform administrators, holders of one of the app's admin roles and, for a sandbox, of its live app's."""
    if ctx.actor.is_admin or _holds_admin_role(permissions, ctx, app):
        return True
    sandbox = sandbox_of(ctx.session, app)
    return sandbox is not None and _holds_admin_role(permissions, ctx, sandbox.live_app)


def may_design_entity(permissions: PermissionService, ctx: WriteContext, app: str, entity: str) -> bool:
    """App designers, and holders of a ``configure`` grant on the (published) entity."""
    if may_design_app(permissions, ctx, app):
        return True
    compiled = ctx.snapshot.entities.get((app, entity))
    return compiled is not None and permissions.may_configure(ctx.actor, compiled)


def require_design(
    permissions: PermissionService, ctx: WriteContext, app: str, entity: str | None = None
) -> None:
    """Refuse a user who may not design the app (or the entity). :raises PermissionDenied:"""
    allowed = (
        may_design_app(permissions, ctx, app)
        if entity is None
        else may_design_entity(permissions, ctx, app, entity)
    )
    if not allowed:
        raise PermissionDenied(
            Text(
                "{user} may not design app '{app}': it needs the app's configure grant",
                user=ctx.actor.username,
                app=app,
            )
        )


def design_scope(permissions: PermissionService, ctx: WriteContext, app: str) -> frozenset[str] | None:
    """What of the app the user may design: None for all of it (app designers), else the names of the
    published entities they hold a ``configure`` grant on (possibly none)."""
    if may_design_app(permissions, ctx, app):
        return None
    return frozenset(
        name
        for (a, name), entity in ctx.snapshot.entities.items()
        if a == app and permissions.may_configure(ctx.actor, entity)
    )
