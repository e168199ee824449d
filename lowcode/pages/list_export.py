"""Export of what a list shows - its columns, filter, search and sort - or of the selected rows, as CSV
or XLSX. Needs the ``export`` grant; each export is recorded as a ``data_exported`` security event naming
the user, the entity and the number of rows. Values are shown as in the list (titles of linked records,
option labels), numbers and dates stay numbers and dates, text cells are formula-neutralised."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Response, abort, request

from lowcode.api.edge import services, unit_of_work
from lowcode.auth.security_log import log_event_now
from lowcode.errors import BadRequest
from lowcode.pages.blueprint import bp
from lowcode.pages.display import Lookups, is_link, is_user
from lowcode.pages.i18n import current_language
from lowcode.pages.list_actions import EXPORT_FORMATS
from lowcode.pages.listing import ListParams, build_query, list_columns, pick_view_label
from lowcode.pages.transitions import MAX_BULK, _id_version
from lowcode.pages.viewmodels import top_entity
from lowcode.query_costs import costly_query
from lowcode.runtime.compiler import CompiledEntity, CompiledField
from lowcode.runtime.context import WriteContext
from lowcode.runtime.export_formats import MIME_TYPES, WRITERS
from lowcode.runtime.queries import ListQuery

EXPORT_PAGE = 500
MAX_EXPORT_ROWS = 100_000
"""An export stops with a 422 beyond this many rows (narrow the filter)."""
RAW_KINDS = frozenset({"decimal", "integer", "date", "datetime"})


def export_value(lookups: Lookups, entity: CompiledEntity, cf: CompiledField, value: Any) -> Any:
    """A cell: numbers and dates as they are, links and users by title, anything else as the list shows it."""
    if value is None:
        return None
    if entity.kinds.get(cf.name) in RAW_KINDS and not is_link(cf) and not is_user(cf):
        return value
    return lookups.format(entity, cf, value)


def export_rows(
    ctx: WriteContext, entity: CompiledEntity, query: ListQuery, columns: list[CompiledField], language: str
) -> list[list[Any]]:
    """Every row the query matches (keyset pages of ``EXPORT_PAGE``), as cells of ``columns``.

    :raises BadRequest: beyond ``MAX_EXPORT_ROWS`` rows."""
    out: list[list[Any]] = []
    page_query = replace(query, limit=EXPORT_PAGE, after=None, with_total=False)
    while True:
        page = services().queries.list(ctx, entity.app, entity.name, page_query)
        lookups = Lookups(ctx, language)
        lookups.load_records(entity, page.records)
        out += [[export_value(lookups, entity, cf, r.get(cf.name)) for cf in columns] for r in page.records]
        if len(out) > MAX_EXPORT_ROWS:
            raise BadRequest(f"At most {MAX_EXPORT_ROWS} rows can be exported at once: narrow the filter")
        if page.next_cursor is None:
            return out
        page_query = replace(page_query, after=page.next_cursor)


def _export(app: str, entity_name: str, fmt: str, params: ListParams, ids: list[int] | None) -> Response:
    if fmt not in EXPORT_FORMATS:
        abort(404)
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        entity = top_entity(ctx, app, entity_name)
        services().permissions.authorize_operation(ctx.actor, entity, "export")  # a 403 up front
        view = ctx.snapshot.view_for(app, entity_name)
        hidden = services().permissions.hidden_fields(ctx.actor, entity)
        columns = list_columns(entity, view, hidden, params.cols)
        query = build_query(entity, view, params, services().settings)
        if ids is not None:
            chosen = {"field": "id", "op": "in", "value": ids}
            kept = view.get("filter") if view else None  # the view's own filter still applies
            query = replace(
                query, condition={"all": [kept, chosen]} if kept else chosen, search="", title_matches=()
            )
        rows = export_rows(ctx, entity, query, columns, lang)
        title = pick_view_label(view, entity, lang)
        actor = ctx.actor
    header = [cf.fdef.label_for(lang) for cf in columns]
    body = WRITERS[fmt](header, rows, title)
    log_event_now(
        services().db,
        "data_exported",
        username=actor.username,
        user_id=actor.user_id,
        ip=request.remote_addr or "",
        app=app,
        entity=entity_name,
        rows=len(rows),
        format=fmt,
        selected=ids is not None,
    )
    response = Response(body, mimetype=MIME_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{app}-{entity_name}.{fmt}"'
    return response


@bp.get("/a/<app>/<entity>/export.<fmt>")
@costly_query
def export_list(app: str, entity: str, fmt: str):
    """What the list shows (the list's query-string parameters) as a CSV or XLSX file."""
    params = ListParams.from_args(request.args, services().settings["MAX_PAGE_SIZE"])
    return _export(app, entity, fmt, params, None)


@bp.post("/a/<app>/<entity>/export-selected.<fmt>")
def export_selected(app: str, entity: str, fmt: str):
    """The selected rows (``ids``: ``id:version``) with the list's columns as a CSV or XLSX file."""
    picked = request.form.getlist("ids")
    if not picked:
        abort(400, description="Select the records to export")
    if len(picked) > MAX_BULK:
        abort(400, description=f"At most {MAX_BULK} records at once")
    ids = sorted({_id_version(raw)[0] for raw in picked})
    params = ListParams.from_args(request.form, services().settings["MAX_PAGE_SIZE"])
    return _export(app, entity, fmt, params, ids)
