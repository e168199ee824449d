"""Records as API JSON for one caller: the entity's hidden fields, child entities and workflow looked up
once, then applied to each record (one record, or the hundreds of a bulk write)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lowcode.api.edge import services
from lowcode.runtime.context import WriteContext
from lowcode.runtime.serialize import record_to_json


def record_renderer(ctx: WriteContext, app: str, entity_name: str) -> Callable[[dict], dict[str, Any]]:
    """A function turning a record of ``entity_name`` into its JSON for the caller; with a workflow,
    ``_transitions``: what the caller may take on it now."""
    svc = services()
    entity = ctx.snapshot.entity(app, entity_name)
    hidden = svc.permissions.hidden_fields(ctx.actor, entity)
    children = {cf.name: ctx.snapshot.entity(app, cf.fdef.options["entity"]) for cf in entity.child_fields}
    child_hidden = {name: svc.permissions.hidden_fields(ctx.actor, child) for name, child in children.items()}

    def render(record: dict) -> dict[str, Any]:
        rows = {name: record[name] for name in children if name in record}
        out = record_to_json(entity, record, hidden, rows, children, child_hidden)
        if entity.workflow is not None:
            out["_transitions"] = [
                {
                    "name": t.name,
                    "label": t.label,
                    "to": t.target,
                    "fields": list(t.required_fields),
                    "confirm": t.confirm,
                }
                for t in svc.records.workflow.offers(ctx, entity, record)
            ]
        return out

    return render
