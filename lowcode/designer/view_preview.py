"""The live preview of a list view: the runtime's own list page (:func:`lowcode.pages.listing.list_model`,
``pages/list.html``) rendered on real data with the view's DRAFT in place of the published views of its entity,
for this request only - a copy of the snapshot whose ``views`` hold the draft. Nothing else renders a list.

The designer frames it twice (desktop and phone width), so this response, unlike every other, may be framed
by our own pages. Names the draft uses that the published entity does not have yet (a field added but not
published) are left out of the preview and listed by :func:`unpublished_fields`; an entity never published
shows a note instead of a list."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from flask import make_response, render_template, request

from lowcode.api.edge import services
from lowcode.designer.blueprint import bp
from lowcode.designer.view_access import KIND, view_work
from lowcode.pages.i18n import current_language
from lowcode.pages.listing import ListParams, list_model
from lowcode.pages.saved_views import views_model
from lowcode.pages.viewmodels import app_nav
from lowcode.query_costs import costly_query
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.snapshot import Snapshot
from lowcode.security_headers import allow_own_frames


def _condition_fields(doc: Any) -> Iterator[str]:
    if isinstance(doc, Mapping):
        if isinstance(doc.get("field"), str):
            yield doc["field"]
        for key in ("all", "any"):
            for item in doc.get(key) or ():
                yield from _condition_fields(item)
        if "not" in doc:
            yield from _condition_fields(doc["not"])


def referenced_fields(view: Mapping[str, Any]) -> set[str]:
    """Every field of its entity a view names (columns, sort, filter, search, board, calendar)."""
    board = view.get("kanban") or {}
    return {
        *view.get("columns", ()),
        *(k["field"] for k in view.get("sort", ())),
        *_condition_fields(view.get("filter")),
        *view.get("search_fields", ()),
        *([board["group_by"]] if board.get("group_by") else []),
        *board.get("card_fields", ()),
        *([view["calendar"]["date_field"]] if view.get("calendar") else []),
    }


def unpublished_fields(view: Mapping[str, Any], entity: CompiledEntity | None) -> list[str]:
    """The fields a (draft) view names that the published entity does not have yet."""
    if entity is None:
        return []
    return sorted(n for n in referenced_fields(view) if n not in entity.fields and n not in entity.kinds)


def preview_view(view: Mapping[str, Any], entity: CompiledEntity) -> dict[str, Any]:
    """The draft without what the published entity cannot show yet: unknown columns, sort keys and search
    fields dropped, and a filter, board or calendar naming an unpublished field left out whole."""
    missing = set(unpublished_fields(view, entity))
    shown = dict(view)
    shown["columns"] = [n for n in view.get("columns", ()) if n not in missing]
    shown["sort"] = [k for k in view.get("sort", ()) if k["field"] not in missing]
    shown["search_fields"] = [n for n in view.get("search_fields", ()) if n not in missing]
    if missing & set(_condition_fields(view.get("filter"))):
        shown.pop("filter", None)
    board = view.get("kanban")
    if board and (board["group_by"] in missing):
        shown.pop("kanban", None)
    elif board:
        shown["kanban"] = {
            **board,
            "card_fields": [n for n in board.get("card_fields", ()) if n not in missing],
        }
    if view.get("calendar") and view["calendar"]["date_field"] in missing:
        shown.pop("calendar", None)
    return shown


def with_draft_view(snapshot: Snapshot, app: str, name: str, view: dict[str, Any]) -> Snapshot:
    """A copy of ``snapshot`` whose only view of the draft's entity is the draft (this request only)."""
    views = {
        key: body
        for key, body in snapshot.views.items()
        if not (key[0] == app and body.get("entity") == view["entity"])
    }
    views[(app, name)] = view
    return dataclasses.replace(snapshot, views=views)


@bp.get("/<app>/view/<name>/preview")
@costly_query
def view_preview(app: str, name: str):
    """The runtime list page of the view's entity, rendered from the view's draft on real data."""
    language = current_language()
    params = ListParams.from_args(request.args, services().settings["MAX_PAGE_SIZE"])
    with view_work(app, name) as dc:
        draft = dc.history.state(KIND, name).body
        snapshot = dc.ctx.snapshot
        entity = snapshot.entities.get((app, draft["entity"]))
        if entity is None or entity.is_child or app not in snapshot.apps:
            page = render_template("designer/preview_note.html", entity=draft["entity"])
            return allow_own_frames(make_response(page, 200))
        ctx = dataclasses.replace(
            dc.ctx, snapshot=with_draft_view(snapshot, app, name, preview_view(draft, entity))
        )
        model = list_model(ctx, app, draft["entity"], params, language)
        nav = app_nav(ctx, app, language)
        saved = views_model(ctx, model["entity"], params)
        page = render_template("pages/list.html", m=model, nav=nav, sv=saved)
        return allow_own_frames(make_response(page, 400 if model["error"] else 200))
