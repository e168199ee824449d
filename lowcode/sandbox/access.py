"""A live app's sandboxes, and the audit of sandbox actions. Who may work with a sandbox: those who may design
the whole app (:func:`lowcode.auth.design_access.may_design_app`, which lets the live app's designers design
its sandboxes)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.security_log import log_event
from lowcode.core.definition_models import Sandbox
from lowcode.runtime.context import WriteContext


def sandboxes_of(session: Session, live_app: str) -> list[Sandbox]:
    """The sandboxes made of a live app, oldest first."""
    return list(session.scalars(sa.select(Sandbox).where(Sandbox.live_app == live_app).order_by(Sandbox.id)))


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
