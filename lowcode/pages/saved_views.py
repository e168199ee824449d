"""Saved views on the list page: a dropdown of the user's own and the shared views, "save this view"
(the list's columns, filter, search and sort, personal or - for users who may configure the app - shared)
and deleting one. Stored in ``lc_saved_view`` through :class:`lowcode.runtime.saved_views.SavedViews`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import abort, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from lowcode.api.edge import services, unit_of_work
from lowcode.pages.blueprint import bp
from lowcode.pages.listing import ListParams, build_query
from lowcode.pages.viewmodels import top_entity
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.saved_views import SavedViews, may_configure


def views_model(ctx: WriteContext, entity: CompiledEntity, params: ListParams) -> dict[str, Any]:
    """The dropdown's views (the one matching the list's parameters marked current) and the save form."""
    store = SavedViews(services().permissions, ctx, entity)
    current = params.args(after="")
    app, name = entity.app, entity.name
    configure = may_configure(services().permissions, ctx, entity)
    views = [
        {
            "id": v.id,
            "name": v.name,
            "shared": v.shared,
            "current": v.params == current,
            "delete_url": url_for("pages.delete_saved_view", app=app, entity=name, view_id=v.id)
            if v.owner_id == ctx.actor.user_id or configure
            else None,
        }
        for v in store.visible()
    ]
    return {
        "views": views,
        "open_url": url_for("pages.open_saved_view", app=app, entity=name),
        "save_url": url_for("pages.save_view", app=app, entity=name),
        "may_share": configure,
        "query": urlencode(current, doseq=True),
        "current": next((v for v in views if v["current"]), None),
    }


@bp.get("/a/<app>/<entity>/views/open")
def open_saved_view(app: str, entity: str):
    """The list with a saved view's parameters (``id``; none: the plain list)."""
    raw = request.args.get("id", "")
    if raw and not (raw.isascii() and raw.isdigit() and int(raw) < 2**31):
        abort(400, description="id must be a saved view's number")
    with unit_of_work(write=False, source="page") as ctx:
        store = SavedViews(services().permissions, ctx, top_entity(ctx, app, entity))  # may not read: a 403
        params = dict(store.get(int(raw)).params) if raw else {}
    return redirect(url_for("pages.list_view", app=app, entity=entity, **params), 303)


@bp.post("/a/<app>/<entity>/views")
def save_view(app: str, entity: str):
    """Save the list's current parameters (``query``) under ``name``; ``shared`` for everyone."""
    query = MultiDict(parse_qsl(request.form.get("query", "")[:25000]))
    params = ListParams.from_args(query, services().settings["MAX_PAGE_SIZE"])
    with unit_of_work(write=True, source="page") as ctx:
        compiled = top_entity(ctx, app, entity)
        view = ctx.snapshot.view_for(app, entity)
        build_query(compiled, view, params, services().settings)  # a malformed filter or sort: a 400
        SavedViews(services().permissions, ctx, compiled).save(
            request.form.get("name", "")[:200], params.args(after=""), request.form.get("shared") == "1"
        )
    return redirect(url_for("pages.list_view", app=app, entity=entity, **params.args(after="")), 303)


@bp.post("/a/<app>/<entity>/views/<int:view_id>/delete")
def delete_saved_view(app: str, entity: str, view_id: int):
    """Delete a saved view (one's own; a shared one also by users who may configure the app)."""
    with unit_of_work(write=True, source="page") as ctx:
        SavedViews(services().permissions, ctx, top_entity(ctx, app, entity)).delete(view_id)
    return redirect(url_for("pages.list_view", app=app, entity=entity), 303)
