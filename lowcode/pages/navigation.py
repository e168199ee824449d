"""The app's navigation: its menu (groups declared in ``app.json``, each a dropdown of the top menu), the app
list, and the app home with its work queues.

Entries the reader may not read are left out, groups left empty are left out, and "New" is offered only where
the reader may create and the system does not maintain the entity (:mod:`lowcode.pages.maintained`).
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _

from lowcode.api.edge import services
from lowcode.auth.design_access import design_scope
from lowcode.errors import PermissionDenied
from lowcode.fields.base import normalise_label, pick_label
from lowcode.pages.access import allowed
from lowcode.pages.dashboard_view import dashboard_links
from lowcode.pages.maintained import may_offer_new, rule_created
from lowcode.pages.queues import queue_entries
from lowcode.pages.report_services import dashboard_service
from lowcode.pages.report_view import report_links
from lowcode.reports.service import ReportService
from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery
from lowcode.runtime.snapshot import AppInfo

LOOSE_ENTRIES_SHOWN = 6
"""Ungrouped menu entries beyond this many go into a "More" dropdown, so the top menu fits."""


def label_of(doc: dict[str, Any], language: str, fallback: str) -> str:
    """A definition's label in ``language``."""
    return (
        pick_label(normalise_label(doc["label"], fallback), language, fallback)
        if doc.get("label")
        else fallback
    )


def _items(info: AppInfo) -> list[dict[str, Any]]:
    return info.definition.get("menu") or [{"entity": name} for name in info.entities]


def _entry(ctx: WriteContext, info: AppInfo, item: dict, language: str, created, counts: bool) -> dict | None:
    entity = ctx.snapshot.entities.get((info.name, item["entity"]))
    if entity is None or entity.is_child or not allowed(ctx, entity, "read"):
        return None
    entry = {
        "entity": entity.name,
        "label": label_of(item, language, entity.label_for(language)),
        "url": url_for("pages.list_view", app=info.name, entity=entity.name),
        "new_url": url_for("pages.new_record", app=info.name, entity=entity.name)
        if may_offer_new(ctx, entity, created)
        else None,
    }
    if counts:
        page = services().queries.list(ctx, info.name, entity.name, ListQuery(limit=1))
        entry["count"] = page.total or 0
    return entry


def menu_groups(
    ctx: WriteContext, info: AppInfo, language: str, counts: bool = False
) -> list[dict[str, Any]]:
    """``[{"name", "label", "entries"}]`` in menu order; an ungrouped entry is a group of its own with no
    label (``name`` None). Entries the reader may not read and empty groups are left out."""
    created = rule_created(ctx, info.name)
    groups: list[dict[str, Any]] = []
    for item in _items(info):
        if "group" in item:
            entries = [_entry(ctx, info, sub, language, created, counts) for sub in item["items"]]
            entries = [e for e in entries if e]
            if entries:
                groups.append(
                    {
                        "name": item["group"],
                        "label": label_of(item, language, item["group"]),
                        "entries": entries,
                    }
                )
            continue
        entry = _entry(ctx, info, item, language, created, counts)
        if entry:
            groups.append({"name": None, "label": "", "entries": [entry]})
    return groups


def menu_entries(
    ctx: WriteContext, info: AppInfo, language: str, counts: bool = False
) -> list[dict[str, Any]]:
    """Every menu entry the reader may read, in menu order (groups flattened)."""
    return [e for g in menu_groups(ctx, info, language, counts) for e in g["entries"]]


def top_menu(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The top menu: each declared group a dropdown; loose entries as links, those beyond
    :data:`LOOSE_ENTRIES_SHOWN` gathered in a "More" dropdown."""
    out: list[dict[str, Any]] = []
    loose = 0
    more: dict[str, Any] = {"name": "_more", "label": _("More"), "entries": []}
    for group in groups:
        if group["name"] is not None:
            out.append(group)
            continue
        loose += 1
        if loose > LOOSE_ENTRIES_SHOWN:
            more["entries"].extend(group["entries"])
        else:
            out.append(group)
    if more["entries"]:
        out.append(more)
    return out


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
    """The app home: its description, work queues with counts, and menu groups with record counts.
    :raises NotFound:"""
    info = ctx.snapshot.app(app)
    description = info.definition.get("description")
    groups = menu_groups(ctx, info, language, counts=True)
    return {
        "description": pick_label(normalise_label(description, ""), language, "") if description else "",
        "queues": queue_entries(ctx, info, language),
        "groups": groups,
        "entries": [e for g in groups for e in g["entries"]],
    }


def app_nav(ctx: WriteContext, app: str, language: str) -> dict[str, Any]:
    """The app's name and menu for the navigation bar.

    :raises NotFound: for an unknown app; :raises PermissionDenied: when the actor may read none of
        its entities (the app is not shown to them at all).
    """
    info = ctx.snapshot.app(app)
    groups = menu_groups(ctx, info, language)
    if not groups:
        raise PermissionDenied(f"{ctx.actor.username} may not read any entity of the app '{app}'")
    return {
        "label": info.label_for(language),
        "url": url_for("pages.app_home", app=app),
        "menu": [e for g in groups for e in g["entries"]],
        "top": top_menu(groups),
        "design_url": url_for("designer.app", app=app) if _may_design(ctx, app) else None,
        "reports": _reports(ctx, app, language),
        "dashboards": dashboard_links(ctx, dashboard_service(), app, language),
    }


def _reports(ctx: WriteContext, app: str, language: str) -> list[dict[str, str]]:
    """The "Reports" menu entries: the app's reports the reader may run."""
    return report_links(ctx, ReportService(services().permissions), app, language)


def _may_design(ctx: WriteContext, app: str) -> bool:
    """Whether the reader may design the app or any of its entities (the "Design" link)."""
    scope = design_scope(services().permissions, ctx, app)
    return scope is None or bool(scope)
