"""Saved list views: a name and a list's parameters, personal or shared. Everyone who may read an entity
sees their own views and the shared ones; only users who may configure the entity share, or change or
delete a shared view."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lowcode.auth.permissions import PermissionService
from lowcode.core.models import SavedView, utcnow
from lowcode.errors import BadRequest, NotFound, PermissionDenied
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext

MAX_NAME = 100
MAX_VIEWS = 200
"""Views one user may keep per entity."""


def may_configure(permissions: PermissionService, ctx: WriteContext, entity: CompiledEntity) -> bool:
    """Whether the actor may configure the entity (and so share views of it)."""
    try:
        permissions.grants(ctx.actor, entity, "configure")
    except PermissionDenied:
        return False
    return True


class SavedViews:
    """Reads and writes ``lc_saved_view`` rows of one entity for the actor of ``ctx``."""

    def __init__(self, permissions: PermissionService, ctx: WriteContext, entity: CompiledEntity):
        self.permissions = permissions
        self.ctx = ctx
        self.entity = entity
        permissions.read_condition(ctx.actor, entity)  # may not read the entity: a 403

    def visible(self) -> list[SavedView]:
        """The actor's own views and the shared ones, shared first, by name."""
        t = SavedView
        query = (
            sa.select(t)
            .where(t.app == self.entity.app, t.entity == self.entity.name)
            .where(sa.or_(t.shared.is_(True), t.owner_id == self.ctx.actor.user_id))
            .order_by(t.shared.desc(), t.name, t.id)
        )
        return list(self.ctx.session.scalars(query))

    def get(self, view_id: int) -> SavedView:
        """One view the actor may see. :raises NotFound:"""
        found = next((v for v in self.visible() if v.id == view_id), None)
        if found is None:
            raise NotFound(f"No saved view {view_id} of {self.entity.name}")
        return found

    def save(self, name: str, params: dict[str, Any], shared: bool) -> SavedView:
        """Save (or replace, by name and owner) a view. :raises BadRequest: for a missing or long name;
        :raises PermissionDenied: for sharing without the right to configure."""
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise BadRequest(f"A view needs a name of 1 to {MAX_NAME} characters")
        if shared and not may_configure(self.permissions, self.ctx, self.entity):
            raise PermissionDenied("Only users who may configure the app share views")
        mine = [v for v in self.visible() if v.owner_id == self.ctx.actor.user_id]
        view = next((v for v in mine if v.name == name), None)
        if view is None:
            if len(mine) >= MAX_VIEWS:
                raise BadRequest(f"At most {MAX_VIEWS} saved views per list")
            view = SavedView(
                app=self.entity.app,
                entity=self.entity.name,
                name=name,
                owner_id=self.ctx.actor.user_id,
                params={},
            )
            self.ctx.session.add(view)
        view.params, view.shared, view.updated_at = params, shared, utcnow()
        self.ctx.session.flush()
        return view

    def delete(self, view_id: int) -> None:
        """Delete a view: one's own, or a shared one when one may configure the app."""
        view = self.get(view_id)
        if view.owner_id != self.ctx.actor.user_id and not may_configure(
            self.permissions, self.ctx, self.entity
        ):
            raise PermissionDenied("Only its owner or users who may configure the app delete a shared view")
        self.ctx.session.delete(view)
        self.ctx.session.flush()
