"""The record page's model: its fields (linked values as links), child rows, related lists and history.
(The app list, app home and menu live in :mod:`lowcode.pages.navigation`.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import url_for

from lowcode.api.edge import services
from lowcode.errors import NotFound
from lowcode.pages.access import FieldRules, allowed
from lowcode.pages.binding import is_child_table
from lowcode.pages.create_from import offer_buttons
from lowcode.pages.display import Lookups, is_numeric, record_title
from lowcode.pages.history import history_model
from lowcode.pages.navigation import app_list, app_nav, home_model, menu_entries  # noqa: F401 - re-exported
from lowcode.pages.related import related_lists
from lowcode.pages.workflow import may_delete, record_locked, state_badge, transition_buttons
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext


def top_entity(ctx: WriteContext, app: str, name: str) -> CompiledEntity:
    """A published entity that has pages of its own (child rows are shown with their parent). :raises NotFound:"""
    entity = ctx.snapshot.entity(app, name)
    if entity.is_child:
        raise NotFound(f"'{name}' rows are shown and edited with their parent record")
    return entity


def column_totals(
    lookups: Lookups, child: CompiledEntity, columns: list, rows: list[dict[str, Any]]
) -> list[str] | None:
    """The formatted sum of each summable column of the child rows ("" for other columns; None without any),
    for the totals row of a document's lines: quantities and computed amounts, not entered prices."""
    summed = [
        child.kinds.get(c.name) == "decimal" and is_numeric(c) and c.fdef.type != "money" for c in columns
    ]
    if not rows or not any(summed):
        return None
    out = []
    for c, summable in zip(columns, summed, strict=True):
        if summable:
            total = sum((r[c.name] for r in rows if isinstance(r.get(c.name), Decimal)), Decimal(0))
            out.append(lookups.format(child, c, total))
        else:
            out.append("")
    return out


def fetch_record(
    ctx: WriteContext, app: str, entity_name: str, record_id: int
) -> tuple[dict[str, Any], bool]:
    """The record (live, else soft-deleted) and whether it is deleted. :raises NotFound:"""
    queries = services().queries
    try:
        return queries.get(ctx, app, entity_name, record_id), False
    except NotFound:
        return queries.get(ctx, app, entity_name, record_id, deleted=True), True


def detail_model(
    ctx: WriteContext, app: str, entity_name: str, record_id: int, language: str
) -> dict[str, Any]:
    """Labels and formatted values of a record, its child rows, and its history."""
    entity = top_entity(ctx, app, entity_name)
    record, deleted = fetch_record(ctx, app, entity_name, record_id)
    rules = FieldRules(ctx)
    hidden = rules.hidden(entity)
    lookups = Lookups(ctx, language)
    lookups.load_records(entity, [record])
    fields, tables = [], []
    for cf in entity.fields.values():
        if cf.name in hidden:
            continue
        if is_child_table(cf):
            child = ctx.snapshot.entity(app, cf.fdef.options["entity"])
            rows = record.get(cf.name, [])
            lookups.load_records(child, rows)
            columns = rules.columns(child)
            tables.append(
                {
                    "label": cf.fdef.label_for(language),
                    "columns": [c.fdef.label_for(language) for c in columns],
                    "numeric": [is_numeric(c) for c in columns],
                    "rows": [[lookups.cell(child, c, r.get(c.name)) for c in columns] for r in rows],
                    "totals": column_totals(lookups, child, columns, rows),
                }
            )
        elif cf.has_column:
            cell = lookups.cell(entity, cf, record.get(cf.name))
            fields.append(
                {
                    "label": cf.fdef.label_for(language),
                    "text": cell["text"],
                    "url": cell["url"],
                    "name": cf.name,
                    "numeric": is_numeric(cf),
                }
            )
    actions = {"edit_record": "update", "delete_record": "delete", "restore_record": "delete"}
    barred = {"edit_record": record_locked(entity, record), "delete_record": not may_delete(entity, record)}
    urls = {
        name: url_for(f"pages.{name}", app=app, entity=entity_name, record_id=record_id)
        if allowed(ctx, entity, action, record) and not barred.get(name)
        else None
        for name, action in actions.items()
    }
    return {
        "entity": entity,
        "entity_label": entity.label_for(language),
        "record": record,
        "deleted": deleted,
        "title": record_title(entity, record, language),
        "fields": fields,
        "tables": tables,
        "history": history_model(ctx, entity, record_id, lookups, hidden),
        "related": [] if deleted else related_lists(ctx, entity, record_id, language),
        "print_url": url_for("pages.print_record", app=app, entity=entity_name, record_id=record_id),
        "urls": urls,
        "list_url": url_for("pages.list_view", app=app, entity=entity_name),
        "badge": state_badge(entity, {k: v for k, v in record.items() if k not in hidden}, language),
        "transitions": [] if deleted else transition_buttons(ctx, entity, record, language),
        "offers": [] if deleted else offer_buttons(ctx, entity, record, language),
    }
