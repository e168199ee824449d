"""Related lists of a record page: records of other entities whose link field names the record, declared in
the record's list view (``related``), read through the query service with the reader's record rules and
hidden fields, paged with keyset cursors ("load more" fetches the next page with htmx)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for

from lowcode.api.edge import services, unit_of_work
from lowcode.errors import NotFound
from lowcode.fields.base import normalise_label, pick_label
from lowcode.pages.access import allowed
from lowcode.pages.blueprint import bp
from lowcode.pages.display import Lookups, is_numeric, record_title
from lowcode.pages.i18n import current_language
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery, SortKey

PAGE_SIZE = 10
MAX_COLUMNS = 6


def declared(ctx: WriteContext, entity: CompiledEntity) -> list[dict[str, Any]]:
    """The related lists declared in the entity's list view."""
    view = ctx.snapshot.view_for(entity.app, entity.name) or {}
    return list(view.get("related", []))


def _columns(ctx: WriteContext, target: CompiledEntity, rel: dict[str, Any]):
    hidden = services().permissions.hidden_fields(ctx.actor, target)
    names = rel.get("columns")
    if not names:
        view = ctx.snapshot.view_for(target.app, target.name) or {}
        names = [n for n in view.get("columns", []) if n != rel["field"]][:MAX_COLUMNS]
    return [
        target.fields[n]
        for n in names
        if n in target.fields and n not in hidden and target.fields[n].has_column
    ]


def related_page(
    ctx: WriteContext,
    entity: CompiledEntity,
    record_id: int,
    rel: dict[str, Any],
    language: str,
    after: str | None = None,
) -> dict[str, Any] | None:
    """One page of a related list, or None when the reader may not read the related entity (or the link
    field is hidden from them). :raises BadRequest: for a malformed cursor."""
    target = ctx.snapshot.entities.get((entity.app, rel["entity"]))
    if target is None or target.is_child or not allowed(ctx, target, "read"):
        return None
    if rel["field"] in services().permissions.hidden_fields(ctx.actor, target):
        return None
    sort = tuple(
        SortKey(s["field"], s.get("direction") == "desc")
        for s in rel.get("sort", [])
        if s["field"] in target.kinds
    ) or (SortKey("id", True),)
    query = ListQuery(
        condition={"field": rel["field"], "op": "=", "value": record_id},
        sort=sort,
        limit=rel.get("page_size", PAGE_SIZE),
        after=after,
        with_total=after is None,
    )
    page = services().queries.list(ctx, target.app, target.name, query)
    columns = _columns(ctx, target, rel)
    lookups = Lookups(ctx, language)
    lookups.load_records(target, page.records)
    more = (
        url_for(
            "pages.related_more",
            app=entity.app,
            entity=entity.name,
            record_id=record_id,
            name=rel["name"],
            after=page.next_cursor,
        )
        if page.next_cursor
        else None
    )
    return {
        "name": rel["name"],
        "label": pick_label(normalise_label(rel["label"], rel["name"]), language, rel["name"])
        if rel.get("label")
        else target.label_for(language),
        "columns": [c.fdef.label_for(language) for c in columns],
        "numeric": [is_numeric(c) for c in columns],
        "rows": [
            {
                "title": record_title(target, r, language),
                "url": url_for("pages.detail", app=target.app, entity=target.name, record_id=r["id"]),
                "cells": [lookups.cell(target, c, r.get(c.name)) for c in columns],
            }
            for r in page.records
        ],
        "total": page.total,
        "more_url": more,
    }


def related_lists(ctx: WriteContext, entity: CompiledEntity, record_id: int, language: str) -> list[dict]:
    """The first page of each related list the reader may read."""
    pages = (related_page(ctx, entity, record_id, rel, language) for rel in declared(ctx, entity))
    return [p for p in pages if p is not None]


@bp.get("/a/<app>/<entity>/<int:record_id>/related/<name>")
def related_more(app: str, entity: str, record_id: int, name: str):
    """The next page of a related list (rows to append, htmx), for a record the reader may read."""
    after = request.args.get("after", "")
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        compiled = ctx.snapshot.entity(app, entity)
        services().queries.get(ctx, app, entity, record_id)  # 404 unless the reader may read the record
        rel = next((r for r in declared(ctx, compiled) if r["name"] == name), None)
        if rel is None or not after:
            raise NotFound(f"No related list '{name}' here")
        page = related_page(ctx, compiled, record_id, rel, lang, after=after)
        if page is None:
            raise NotFound(f"No related list '{name}' here")
    return render_template("pages/_related_rows.html", r=page)
