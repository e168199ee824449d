"""The list page's model: request parameters -> ListQuery (search, filter, sort, keyset paging) -> rows.

The simple filter (a field, an operator and a value) becomes one leaf of the condition language and
is combined with the view's own filter and an optional raw ``filter`` JSON parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from lowcode.api.edge import services
from lowcode.api.params import int_arg
from lowcode.core.jsonutil import loads_exact
from lowcode.errors import BadRequest, ConditionInvalid
from lowcode.fields.base import normalise_label, pick_label
from lowcode.pages.access import allowed
from lowcode.pages.display import Lookups
from lowcode.pages.list_actions import list_actions
from lowcode.pages.list_filters import filter_parts, filter_widget
from lowcode.pages.list_totals import totals_row
from lowcode.pages.viewmodels import top_entity
from lowcode.pages.workflow import state_filter
from lowcode.runtime.compiler import CompiledEntity, CompiledField
from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery, SortKey, parse_sort

DEFAULT_COLUMNS = 6
OPERATOR_LABELS = {
    "=": _l("equals"),
    "!=": _l("does not equal"),
    "<": _l("less than"),
    "<=": _l("at most"),
    ">": _l("greater than"),
    ">=": _l("at least"),
    "contains": _l("contains"),
    "starts_with": _l("starts with"),
    "is_empty": _l("is empty"),
    "is_not_empty": _l("is not empty"),
}


@dataclass(frozen=True)
class ListParams:
    """What the list page was asked for (all from the query string)."""

    q: str = ""
    sort: str = ""
    after: str = ""
    deleted: bool = False
    limit: int = 0
    field: str = ""
    op: str = "="
    value: str = ""
    filter: str = ""
    cols: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args, max_limit: int) -> ListParams:
        """Read ``q, sort, after, deleted, limit, field, op, value, filter`` from a query string."""
        limit = int_arg(args, "limit", 0, 1, max_limit)
        return cls(
            q=args.get("q", "")[:200].strip(),
            sort=args.get("sort", "")[:300],
            after=args.get("after", "")[:2000],
            deleted=args.get("deleted") == "1",
            limit=limit,
            field=args.get("field", "")[:64],
            op=args.get("op", "=")[:16],
            value=args.get("value", "")[:500],
            filter=args.get("filter", "")[:20000],
            cols=tuple(c[:64] for c in args.getlist("cols")[:100] if c),
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """The non-default parameters as query-string arguments (``changes`` applied)."""
        params = replace(self, **changes)
        out = {
            "q": params.q,
            "sort": params.sort,
            "after": params.after,
            "deleted": "1" if params.deleted else "",
            "limit": params.limit or "",
            "field": params.field,
            "op": params.op if params.field else "",
            "value": params.value if params.field else "",
            "filter": params.filter,
            "cols": list(params.cols),
        }
        return {k: v for k, v in out.items() if v not in ("", None, [])}


def list_columns(
    entity: CompiledEntity, view: dict | None, hidden: frozenset[str], chosen: tuple[str, ...] = ()
) -> list[CompiledField]:
    """Columns of the list: those chosen (a saved view), else the view's, else the first few fields that
    have a column (never the fields hidden from the actor)."""
    if chosen:
        picked = [entity.fields[n] for n in chosen if n in entity.fields and n not in hidden]
        picked = [cf for cf in picked if cf.has_column]
        if picked:
            return picked
    if view:
        return [entity.fields[n] for n in view.get("columns", []) if n in entity.fields and n not in hidden]
    return [cf for cf in entity.fields.values() if cf.has_column and cf.name not in hidden][:DEFAULT_COLUMNS]


def filter_fields(entity: CompiledEntity, hidden: frozenset[str]) -> list[CompiledField]:
    """Fields the simple filter offers (those with a condition-language kind, not hidden)."""
    return [
        cf
        for cf in entity.fields.values()
        if cf.has_column and cf.name in entity.kinds and cf.name not in hidden
    ]


def build_query(entity: CompiledEntity, view: dict | None, params: ListParams, settings: dict) -> ListQuery:
    """The ListQuery for the parameters, with the view's filter, search fields, sort and page size.

    :raises ConditionInvalid: or :raises BadRequest: for a malformed filter, sort or cursor.
    """
    view = view or {}
    leaf, title_matches = filter_parts(entity, params.field, params.op, params.value)
    parts = [view.get("filter"), leaf]
    if params.filter:
        raw = loads_exact(params.filter, settings["MAX_JSON_DEPTH"])
        if not isinstance(raw, dict):
            raise BadRequest("filter must be a JSON object in the condition language")
        parts.append(raw)
    parts = [p for p in parts if p]
    condition = parts[0] if len(parts) == 1 else ({"all": parts} if parts else None)
    if params.sort:
        sort = parse_sort(entity, params.sort)
    else:
        sort = tuple(
            SortKey(s["field"], s.get("direction") == "desc")
            for s in view.get("sort", [])
            if s["field"] in entity.kinds
        )
    search_fields = tuple(n for n in view.get("search_fields", []) if n in entity.kinds)
    limit = params.limit or view.get("page_size") or settings["PAGE_SIZE"]
    return ListQuery(
        condition=condition,
        search=params.q,
        search_fields=search_fields,
        sort=sort,
        limit=min(limit, settings["MAX_PAGE_SIZE"]),
        after=params.after or None,
        deleted=params.deleted,
        title_matches=title_matches,
        count_limit=settings["COUNT_LIMIT"],
    )


def _header(
    app: str, entity: CompiledEntity, cf: CompiledField, params: ListParams, sort: tuple, language: str
) -> dict:
    current = next((k for k in sort if k.field == cf.name), None) if sort else None
    first = sort[0] if sort else None
    toggled = (
        f"-{cf.name}" if first is not None and first.field == cf.name and not first.descending else cf.name
    )
    sortable = cf.name in entity.kinds
    url = (
        url_for("pages.list_view", app=app, entity=entity.name, **params.args(sort=toggled, after=""))
        if sortable
        else None
    )
    direction = None if current is None else ("desc" if current.descending else "asc")
    return {"name": cf.name, "label": cf.fdef.label_for(language), "sort_url": url, "direction": direction}


def list_model(
    ctx: WriteContext, app: str, entity_name: str, params: ListParams, language: str
) -> dict[str, Any]:
    """Everything the list page and its rows partial show."""
    entity = top_entity(ctx, app, entity_name)
    view = ctx.snapshot.view_for(app, entity_name)
    hidden = services().permissions.hidden_fields(ctx.actor, entity)
    columns = list_columns(entity, view, hidden, params.cols)
    settings = services().settings
    error, records, next_cursor, total, sort, totals, exact = None, [], None, 0, (), None, True
    lookups = Lookups(ctx, language)
    try:
        query = build_query(entity, view, params, settings)
        sort = query.sort
        page = services().queries.list(ctx, app, entity_name, query)
        records, next_cursor, total, exact = page.records, page.next_cursor, page.total or 0, page.total_exact
        if not params.after:
            totals = totals_row(ctx, entity, query, columns, lookups)
    except (ConditionInvalid, BadRequest) as exc:
        error = exc.message
    lookups.load_records(entity, records)
    rows = [
        {
            "id": r["id"],
            "url": url_for("pages.detail", app=app, entity=entity_name, record_id=r["id"]),
            "cells": [lookups.format(entity, cf, r.get(cf.name)) for cf in columns],
            "select": f"{r['id']}:{r['version']}",
        }
        for r in records
    ]
    actions = list_actions(ctx, entity, params.args(after=""), params.deleted, language)
    may_create = allowed(ctx, entity, "create")
    more_url = None
    if next_cursor:
        more_url = url_for("pages.list_view", app=app, entity=entity_name, **params.args(after=next_cursor))
    return {
        "app": ctx.snapshot.app(app),
        "entity": entity,
        "entity_label": entity.label_for(language),
        "title": pick_view_label(view, entity, language),
        "columns": [_header(app, entity, cf, params, sort, language) for cf in columns],
        "rows": rows,
        "total": total,
        "total_exact": exact,
        "totals": totals,
        "more_url": more_url,
        "error": error,
        "params": params,
        "filter_fields": [(cf.name, cf.fdef.label_for(language)) for cf in filter_fields(entity, hidden)],
        "filter_value": filter_widget(entity, params.field, params.value, language),
        "filter_input_url": url_for("pages.filter_input", app=app, entity=entity_name),
        "all_columns": [
            (cf.name, cf.fdef.label_for(language), cf in columns)
            for cf in entity.fields.values()
            if cf.has_column and cf.name not in hidden
        ],
        "operators": list(OPERATOR_LABELS.items()),
        "list_url": url_for("pages.list_view", app=app, entity=entity_name),
        "new_url": url_for("pages.new_record", app=app, entity=entity_name) if may_create else None,
        "import_url": url_for("pages.import_upload", app=app, entity=entity_name) if may_create else None,
        "states": state_filter(
            entity, language, _state_value(entity, params), _state_link(app, entity, params)
        )
        if entity.workflow is not None and entity.workflow.state_field not in hidden
        else [],
        "bulk": actions["bulk"],
        "export": actions["export"],
        "board_url": url_for("pages.board", app=app, entity=entity_name, **params.args(after=""))
        if view and view.get("kanban")
        else None,
        "calendar_url": url_for("pages.calendar_view", app=app, entity=entity_name, **params.args(after=""))
        if view and view.get("calendar")
        else None,
        "deleted_url": url_for(
            "pages.list_view",
            app=app,
            entity=entity_name,
            **params.args(deleted=not params.deleted, after=""),
        ),
    }


def _state_value(entity: CompiledEntity, params: ListParams) -> str:
    """The state the list is filtered to ("" for every state)."""
    wf = entity.workflow
    return params.value if wf is not None and params.field == wf.state_field and params.op == "=" else ""


def _state_link(app: str, entity: CompiledEntity, params: ListParams):
    """``value -> URL`` of the list filtered to one state ("" clears the state filter)."""

    def link(value: str) -> str:
        if value:
            changes = {"field": entity.workflow.state_field, "op": "=", "value": value}
        else:
            changes = {"field": "", "op": "=", "value": ""}
        return url_for("pages.list_view", app=app, entity=entity.name, **params.args(after="", **changes))

    return link


def pick_view_label(view: dict | None, entity: CompiledEntity, language: str) -> str:
    """The list's heading: the view's label, else the entity's."""
    if view and view.get("label"):
        return pick_label(normalise_label(view["label"], view["name"]), language, entity.label_for(language))
    return entity.label_for(language)
