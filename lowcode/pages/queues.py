"""Work queues of the app home: declared in ``app.json`` (a label, an entity, a condition), counted with the
reader's permissions (record rules included), each linking to the list filtered by its condition."""

from __future__ import annotations

import json
from typing import Any

from flask import url_for

from lowcode.api.edge import services
from lowcode.errors import LowcodeError
from lowcode.fields.base import normalise_label, pick_label
from lowcode.pages.access import allowed
from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery
from lowcode.runtime.snapshot import AppInfo


def queue_entries(ctx: WriteContext, info: AppInfo, language: str) -> list[dict[str, Any]]:
    """``[{"name", "label", "count", "url"}]`` of the queues whose entity the reader may read."""
    out = []
    for queue in info.definition.get("queues", []):
        entity = ctx.snapshot.entities.get((info.name, queue["entity"]))
        if entity is None or entity.is_child or not allowed(ctx, entity, "read"):
            continue
        query = ListQuery(
            condition=queue["condition"], limit=1, count_limit=services().settings["COUNT_LIMIT"]
        )
        try:
            page = services().queries.list(ctx, info.name, entity.name, query)
        except LowcodeError:
            continue  # a condition on a field the reader may not filter by: the queue is not theirs
        flt = json.dumps(queue["condition"], separators=(",", ":"), ensure_ascii=False)
        out.append(
            {
                "name": queue["name"],
                "label": pick_label(normalise_label(queue["label"], queue["name"]), language, queue["name"]),
                "entity_label": entity.label_for(language),
                "count": page.total or 0,
                "count_exact": page.total_exact,
                "url": url_for("pages.list_view", app=info.name, entity=entity.name, filter=flt),
            }
        )
    return out
