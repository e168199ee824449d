"""CSV export of a list: the same permission scope and field rules as the API, formula-escaped cells.

Requires the ``export`` action (and any sensitive operation an app puts on it, e.g. bulk export).
Rows are read page by page with keyset cursors, so memory stays flat for large tables.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace

from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery, QueryService

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_PAGE = 500


def escape_cell(text: str) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ TAB or CR gets a leading quote."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def export_csv(
    ctx: WriteContext,
    queries: QueryService,
    app: str,
    entity_name: str,
    query: ListQuery,
    counted: list[int] | None = None,
) -> Iterator[str]:
    """Yield the CSV text (header first) of every record the query matches, in chunks; the number of rows of
    each chunk is appended to ``counted`` (for the export's audit event).

    :raises PermissionDenied: before anything is produced, if the actor may not export.
    """
    entity = ctx.snapshot.entity(app, entity_name)
    permissions = queries.permissions
    permissions.authorize_operation(ctx.actor, entity, "export")
    hidden = permissions.hidden_fields(ctx.actor, entity)
    columns = [
        ("id", None),
        *((cf.name, cf) for cf in entity.fields.values() if cf.has_column and cf.name not in hidden),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([cf.fdef.label_for(ctx.actor.language) if cf else name for name, cf in columns])
    page_query = replace(query, limit=EXPORT_PAGE, with_total=False)
    while True:
        page = queries.list(ctx, app, entity_name, page_query)
        for record in page.records:
            writer.writerow([_cell(record.get(name), cf, ctx.actor.language) for name, cf in columns])
        if counted is not None:
            counted.append(len(page.records))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if page.next_cursor is None:
            return
        page_query = replace(page_query, after=page.next_cursor)


def _cell(value, cf, language: str) -> str:
    if cf is None:
        return "" if value is None else str(value)
    return escape_cell(cf.ftype.format(cf.fdef, value, language))
