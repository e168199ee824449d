"""What a list offers to do with its records: export what it shows (CSV, XLSX), and the bulk actions on
the selected rows (workflow transitions, delete, export of the selection) - each only when the actor's
roles allow it. The routes enforce the same permissions again."""

from __future__ import annotations

from typing import Any

from flask import url_for

from lowcode.api.edge import services
from lowcode.errors import PermissionDenied
from lowcode.pages.access import allowed
from lowcode.pages.workflow import bulk_transitions
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext

EXPORT_FORMATS = ("csv", "xlsx")


def may_export(ctx: WriteContext, entity: CompiledEntity) -> bool:
    """Whether the actor holds the ``export`` grant (and any sensitive operation an app puts on it)."""
    try:
        services().permissions.authorize_operation(ctx.actor, entity, "export")
    except PermissionDenied:
        return False
    return True


def list_actions(
    ctx: WriteContext, entity: CompiledEntity, query_args: dict[str, Any], deleted: bool, language: str
) -> dict[str, Any]:
    """``{"export": [(format, url)], "bulk": {...} | None}`` for the list page."""
    app, name = entity.app, entity.name
    exporting = may_export(ctx, entity)
    export = (
        [
            (fmt, url_for("pages.export_list", app=app, entity=name, fmt=fmt, **query_args))
            for fmt in EXPORT_FORMATS
        ]
        if exporting
        else []
    )
    if deleted:
        return {"export": export, "bulk": None}
    transitions = bulk_transitions(ctx, entity, language)
    delete_url = (
        url_for("pages.bulk_delete", app=app, entity=name) if allowed(ctx, entity, "delete") else None
    )
    selected = [
        (fmt, url_for("pages.export_selected", app=app, entity=name, fmt=fmt)) for fmt in EXPORT_FORMATS
    ]
    bulk = {
        "url": url_for("pages.bulk_transition", app=app, entity=name),
        "transitions": transitions,
        "delete_url": delete_url,
        "export": selected if exporting else [],
    }
    return {"export": export, "bulk": bulk if transitions or delete_url or exporting else None}
