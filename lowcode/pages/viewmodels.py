"""Models of the app list, the app home (menu with record counts) and the record detail with history."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from lowcode.api.edge import services
from lowcode.errors import NotFound, PermissionDenied
from lowcode.fields.base import normalise_label, pick_label
from lowcode.pages.access import FieldRules, allowed
from lowcode.pages.binding import is_child_table
from lowcode.pages.display import Lookups, format_moment, is_link, record_title
from lowcode.pages.workflow import may_delete, record_locked, state_badge, transition_buttons
from lowcode.runtime.audit import history
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery
from lowcode.runtime.snapshot import AppInfo


def top_entity(ctx: WriteContext, app: str, name: str) -> CompiledEntity:
    """A published entity that has pages of its own (child rows are shown with their parent). :raises NotFound:"""
    entity = ctx.snapshot.entity(app, name)
    if entity.is_child:
        raise NotFound(f"'{name}' rows are shown and edited with their parent record")
    return entity


def menu_entries(
    ctx: WriteContext, info: AppInfo, language: str, counts: bool = False
) -> list[dict[str, Any]]:
    """The app's menu (its ``menu``, else its top-level entities) without the entities the actor
    may not read; ``counts`` adds each entity's number of records."""
    items = info.definition.get("menu") or [{"entity": name} for name in info.entities]
    entries = []
    for item in items:
        entity = ctx.snapshot.entities.get((info.name, item["entity"]))
        if entity is None or entity.is_child or not allowed(ctx, entity, "read"):
            continue
        label = (
            pick_label(normalise_label(item["label"], entity.name), language, entity.name)
            if item.get("label")
            else entity.label_for(language)
        )
        entry = {
            "entity": entity.name,
            "label": label,
            "url": url_for("pages.list_view", app=info.name, entity=entity.name),
            "new_url": url_for("pages.new_record", app=info.name, entity=entity.name)
            if allowed(ctx, entity, "create")
            else None,
        }
        if counts:
            page = services().queries.list(ctx, info.name, entity.name, ListQuery(limit=1))
            entry["count"] = page.total or 0
        entries.append(entry)
    return entries


def app_list(ctx: WriteContext, language: str) -> list[dict[str, Any]]:
    """The published apps in which the actor can read at least one entity."""
    apps = []
    for name in sorted(ctx.snapshot.apps):
        info = ctx.snapshot.apps[name]
        if not menu_entries(ctx, info, language):
            continue
        description = info.definition.get("description")
        apps.append(
            {
                "name": name,
                "label": info.label_for(language),
                "url": url_for("pages.app_home", app=name),
                "description": pick_label(normalise_label(description, ""), language, "")
                if description
                else "",
            }
        )
    return apps


def home_model(ctx: WriteContext, app: str, language: str) -> dict[str, Any]:
    """The app home: its description and menu entries with record counts. :raises NotFound:"""
    info = ctx.snapshot.app(app)
    description = info.definition.get("description")
    return {
        "description": pick_label(normalise_label(description, ""), language, "") if description else "",
        "entries": menu_entries(ctx, info, language, counts=True),
    }


def app_nav(ctx: WriteContext, app: str, language: str) -> dict[str, Any]:
    """The app's name and menu for the navigation bar.

    :raises NotFound: for an unknown app; :raises PermissionDenied: when the actor may read none of
        its entities (the app is not shown to them at all).
    """
    info = ctx.snapshot.app(app)
    menu = menu_entries(ctx, info, language)
    if not menu:
        raise PermissionDenied(f"{ctx.actor.username} may not read any entity of the app '{app}'")
    return {"label": info.label_for(language), "url": url_for("pages.app_home", app=app), "menu": menu}


def _action_label(action: str) -> str:
    labels = {
        "create": _("Created"),
        "update": _("Updated"),
        "delete": _("Deleted"),
        "restore": _("Restored"),
    }
    return labels.get(action, action)


def _rows_text(value: Any) -> str:
    count = len(value) if isinstance(value, list) else 0
    return ngettext("%(num)d row", "%(num)d rows", count)


def history_model(
    ctx: WriteContext, entity: CompiledEntity, record_id: int, lookups: Lookups, hidden: frozenset[str]
) -> list[dict]:
    """The audit trail of a record, newest first: who, when, what, and each change old -> new
    (changes of fields hidden from the actor are left out)."""
    entries = history(ctx.session, entity.app, entity.name, record_id)
    wanted: dict[str, set] = {}
    for entry in entries:
        for name, pair in (entry.diff or {}).items():
            cf = entity.fields.get(name)
            if cf is not None and is_link(cf) and isinstance(pair, list):
                wanted.setdefault(name, set()).update(v for v in pair if isinstance(v, int))
    lookups.load(entity, wanted)
    out = []
    for entry in entries:
        changes = []
        for name, pair in (entry.diff or {}).items():
            if name in hidden:
                continue
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            cf = entity.fields.get(name)
            if cf is not None and is_child_table(cf):
                label, old_text, new_text = (
                    cf.fdef.label_for(lookups.language),
                    _rows_text(old),
                    _rows_text(new),
                )
            elif cf is not None:
                label = cf.fdef.label_for(lookups.language)
                old_text, new_text = (
                    lookups.format_json(entity, cf, old),
                    lookups.format_json(entity, cf, new),
                )
            else:
                label = _("Deleted at") if name == "deleted_at" else name
                old_text, new_text = ("" if old is None else str(old)), ("" if new is None else str(new))
            changes.append({"label": label, "old": old_text, "new": new_text})
        out.append(
            {
                "at": format_moment(entry.at),
                "actor": entry.actor_name,
                "action": _action_label(entry.action),
                "source": entry.source,
                "version": entry.version,
                "changes": changes,
            }
        )
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
                    "rows": [[lookups.format(child, c, r.get(c.name)) for c in columns] for r in rows],
                }
            )
        elif cf.has_column:
            fields.append(
                {
                    "label": cf.fdef.label_for(language),
                    "text": lookups.format(entity, cf, record.get(cf.name)),
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
        "urls": urls,
        "list_url": url_for("pages.list_view", app=app, entity=entity_name),
        "badge": state_badge(entity, {k: v for k, v in record.items() if k not in hidden}, language),
        "transitions": [] if deleted else transition_buttons(ctx, entity, record, language),
    }
