"""The titles a link picker shows for the value it holds: the record a stored or just-posted link names
(``"7"`` shows as the product's title, never as the raw id), loaded in one query per link field."""

from __future__ import annotations

from typing import Any

from lowcode.pages.display import Lookups, is_link
from lowcode.runtime.compiler import CompiledEntity, CompiledField
from lowcode.runtime.context import WriteContext
from lowcode.runtime.fetch import link_id


def _wanted(entity: CompiledEntity, records: list[dict[str, Any]]) -> dict[str, set[int]]:
    return {
        cf.name: {i for r in records if (i := link_id(r.get(cf.name))) is not None}
        for cf in entity.fields.values()
        if is_link(cf)
    }


def load_posted_links(ctx: WriteContext, lookups: Lookups, entity: CompiledEntity, values: dict) -> None:
    """Load the titles of the links in ``values`` (a record or a bound form) and in its child rows."""
    lookups.load(entity, _wanted(entity, [values]))
    for cf in entity.child_fields:
        rows = [r for r in values.get(cf.name) or [] if isinstance(r, dict)]
        if rows:
            child = ctx.snapshot.entity(entity.app, cf.fdef.options["entity"])
            lookups.load(child, _wanted(child, rows))


def linked_choice(
    lookups: Lookups, entity: CompiledEntity, cf: CompiledField, raw: Any
) -> list[tuple[str, str]]:
    """The picker's one option: the record ``raw`` names, with its title (``#id`` when it may not be read)."""
    record_id = link_id(raw)
    if record_id is None:
        return []
    return [(str(record_id), lookups.format(entity, cf, record_id))]
