"""The designer's blueprint (``/design/...``) and the unit of work every designer view opens.

:func:`design_work` asks the permission service before anything else (only users who may configure the app
reach the designer), checks the CSRF token of every post, and records each change as a
``definition_edited`` security event - every designer action is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Blueprint, request

from lowcode.api.edge import services, unit_of_work
from lowcode.auth.security_log import log_event
from lowcode.core.numbers import digits_to_int
from lowcode.designer.history import DraftHistory, DraftState
from lowcode.designer.labels import change_label, kind_label, property_label
from lowcode.designer.workspace import Workspace, design_scope, in_scope, require_design
from lowcode.errors import BadRequest
from lowcode.pages.i18n import current_language
from lowcode.pages.security import guard_signed_in, refuse_undecodable_form, require_csrf
from lowcode.runtime.context import WriteContext

bp = Blueprint("designer", __name__, url_prefix="/design")
bp.before_request(refuse_undecodable_form)
bp.before_request(guard_signed_in)


@bp.context_processor
def _designer_globals() -> dict:
    return {"property_label": property_label, "change_label": change_label, "kind_label": kind_label}


@dataclass
class DesignContext:
    """A designer view's unit of work: the request's context, the app's workspace and its draft history."""

    ctx: WriteContext
    workspace: Workspace
    history: DraftHistory
    scope: frozenset[str] | None = None
    """The entities this user may design (None: the whole app)."""

    def shows(self, kind: str, name: str) -> bool:
        """Whether a definition of the workspace lies within this user's design scope."""
        body = self.workspace.docs.get(kind, {}).get(name)
        return body is not None and in_scope(self.scope, kind, body)

    def walk(self, kind: str, name: str, direction: str) -> DraftState:
        """Undo or redo (``direction``) the draft of a definition from the posted step, audited."""
        state = (
            self.history.undo(kind, name, posted_base())
            if direction == "undo"
            else self.history.redo(kind, name, posted_base())
        )
        self.audit(kind, name, direction)
        return state

    def audit(self, kind: str, name: str, action: str, **detail) -> None:
        """Record a designer action (who, which definition, what) as a security event."""
        actor = self.ctx.actor
        log_event(
            self.ctx.session,
            "definition_edited",
            username=actor.username,
            user_id=actor.user_id,
            ip=actor.ip,
            app=self.workspace.app,
            definition_kind=kind,
            name=name,
            action=action,
            **detail,
        )


def posted_base() -> int:
    """The draft step a posted change was made on (its conflict token). :raises BadRequest:"""
    number = digits_to_int(request.form.get("base", ""))
    if number is None:
        raise BadRequest("The change names no draft step ('base'): reload the designer")
    return number


@contextmanager
def design_work(app: str, entity: str | None = None) -> Iterator[DesignContext]:
    """A designer unit of work on ``app`` (or one of its entities). Reads write too: a draft changed
    outside the designer is recorded as a step of its history when the designer opens it.

    :raises PermissionDenied: a post without the session's CSRF token, or a user who may not design.
    """
    if request.method not in ("GET", "HEAD"):
        require_csrf()
    with unit_of_work(write=True, source="page") as ctx:
        require_design(services().permissions, ctx, app, entity)
        yield DesignContext(
            ctx,
            Workspace.load(ctx, app, current_language()),
            DraftHistory(ctx.session, app, ctx.actor.username),
        )


@contextmanager
def scoped_design_work(app: str) -> Iterator[DesignContext]:
    """A designer unit of work on the parts of ``app`` the user may design: the whole app for app designers,
    else the entities they may configure, with their forms and lists (the app page, its publish).

    :raises PermissionDenied: a post without the CSRF token, or a user who may design nothing of the app.
    """
    if request.method not in ("GET", "HEAD"):
        require_csrf()
    with unit_of_work(write=True, source="page") as ctx:
        scope = design_scope(services().permissions, ctx, app)
        if scope is not None and not scope:
            require_design(services().permissions, ctx, app)  # refuses, with the reason
        workspace = Workspace.load(ctx, app, current_language())
        yield DesignContext(ctx, workspace, DraftHistory(ctx.session, app, ctx.actor.username), scope)
