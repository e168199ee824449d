""" "Create from" on pages: the record page's buttons (one per mapping offered on the record to the reader) and
the new form filled in from the source record (``/a/<app>/<target>/new?from=<entity>/<id>&mapping=<name>``),
both asked of :class:`lowcode.mappings.create_from.CreateFrom`. Saving the form is an ordinary create."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _

from lowcode.api.edge import services
from lowcode.errors import BadRequest, NotFound
from lowcode.fields.base import normalise_label, pick_label
from lowcode.mappings.create_from import CreateFrom, Draft
from lowcode.mappings.service import MappingService
from lowcode.pages.display import record_title
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext


def create_from() -> CreateFrom:
    """The "create from" service over the app's services."""
    svc = services()
    return CreateFrom(MappingService(svc.records, svc.queries, svc.permissions))


def offer_buttons(
    ctx: WriteContext, entity: CompiledEntity, record: dict[str, Any], language: str
) -> list[dict[str, str]]:
    """``[{"label", "url", "mapping"}]``: a button per mapping offered on the record to the reader."""
    source = f"{entity.name}/{record['id']}"
    return [
        {
            "label": pick_label(normalise_label(m.offer.label, m.name), language, m.name),  # type: ignore[union-attr]
            "url": url_for(
                "pages.new_record", app=entity.app, entity=m.target.name, mapping=m.name, **{"from": source}
            ),
            "mapping": m.name,
        }
        for m in create_from().offered(ctx, entity, record)
    ]


def requested_draft(ctx: WriteContext, target: CompiledEntity) -> Draft | None:
    """The draft the new form's query string asks for (None without ``from``/``mapping``).

    :raises BadRequest: a malformed ``from``; :raises NotFound: a mapping of another app or target, a source
    of another entity, a record the reader may not read; and what :meth:`CreateFrom.draft` raises."""
    source, name = request.args.get("from"), request.args.get("mapping")
    if source is None and name is None:
        return None
    entity_name, _slash, raw_id = (source or "").partition("/")
    if not name or not entity_name or not raw_id.isascii() or not raw_id.isdigit() or len(raw_id) > 18:
        raise BadRequest(_("Make a new record from another with ?from=<table>/<id>&mapping=<name>"))
    mapping = ctx.snapshot.mapping(target.app, name)
    if mapping.target.name != target.name or mapping.source_entity != entity_name:
        raise NotFound(_("No way to make this record from that one"))
    return create_from().draft(ctx, target.app, name, int(raw_id))


def made_from_note(ctx: WriteContext, draft: Draft, language: str) -> dict[str, Any]:
    """What the form says above a draft: where it came from, and the values that could not be filled in."""
    source = ctx.snapshot.entity(draft.mapping.app, draft.mapping.source_entity or "")
    record = services().queries.get(ctx, source.app, source.name, draft.source_id)
    title = record_title(source, record, language)
    return {
        "text": _(
            "Filled in from %(entity)s %(title)s. Nothing is saved yet: check the values and save.",
            entity=source.label_for(language),
            title=title,
        ),
        "url": url_for("pages.detail", app=source.app, entity=source.name, record_id=draft.source_id),
        "problems": [f"{e.field}: {e.message}" for e in draft.item.errors],
    }
