"""The live preview of a form: the runtime's own form (:func:`lowcode.pages.forms.form_model`,
``pages/_form.html``) rendered from the app's DRAFT definitions - entities compiled from their drafts, the draft
form in place, grants, workflows and form conditions attached as a publish would - for this request only. The
designer frames it at desktop and phone width side by side; nothing is saved from it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import make_response, render_template, url_for

from lowcode.auth.grants import attach_grants
from lowcode.designer.blueprint import bp
from lowcode.designer.view_access import part_work
from lowcode.errors import NotFound
from lowcode.pages.forms import entity_defaults, form_model
from lowcode.pages.i18n import current_language
from lowcode.runtime.compiler import compile_entity
from lowcode.runtime.form_rules import attach_form_rules
from lowcode.runtime.snapshot import Snapshot
from lowcode.security_headers import allow_own_frames
from lowcode.workflows.model import attach_workflows


def draft_snapshot(
    snapshot: Snapshot, app: str, docs: Mapping[str, Mapping[str, dict[str, Any]]]
) -> Snapshot:
    """A copy of ``snapshot`` whose app ``app`` is its drafts: each entity compiled from its draft (a table
    object of its own, never created), the draft forms, views, roles and workflows attached as a publish
    would. The cached snapshot and its compiled entities are not touched."""
    metadata = sa.MetaData()
    entities = {k: e for k, e in snapshot.entities.items() if k[0] != app}
    drafted = {
        (app, n): compile_entity(app, body, snapshot.version, metadata)
        for n, body in (docs.get("entity") or {}).items()
    }
    entities.update(drafted)

    def of(kind: str, published: Mapping) -> dict:
        kept = {k: v for k, v in published.items() if k[0] != app}
        return kept | {(app, n): body for n, body in (docs.get(kind) or {}).items()}

    snap = dataclasses.replace(
        snapshot,
        entities=entities,
        forms=of("form", snapshot.forms),
        views=of("view", snapshot.views),
        roles=of("role", snapshot.roles),
        workflows=of("workflow", snapshot.workflows),
        metadata=metadata,
    )
    definitions = {a: info.definition for a, info in snapshot.apps.items()}
    attach_grants(drafted, definitions, snap.roles)
    attach_workflows(drafted, {k: v for k, v in snap.workflows.items() if k[0] == app})
    attach_form_rules(drafted, snap.form_for)
    return snap


@bp.get("/<app>/form/<name>/preview")
def form_preview(app: str, name: str):
    """The draft form as the runtime renders it for a new record (framed by the form designer)."""
    with part_work(app, "form", name) as dc:
        form = (dc.workspace.docs.get("form") or {}).get(name)
        if form is None:
            raise NotFound(f"No form '{name}' in app '{app}'")
        snap = draft_snapshot(dc.ctx.snapshot, app, dc.workspace.docs)
        entity = snap.entity(app, form["entity"])
        if entity.is_child:
            raise NotFound(f"'{entity.name}' holds lines: its rows are edited in their parent's form")
        ctx = dataclasses.replace(dc.ctx, snapshot=snap)
        lang = current_language()
        page = {
            "entity_label": entity.label_for(lang),
            "is_new": True,
            "version": None,
            "message": None,
            "title": entity.label_for(lang),
            "action": "#",
            "preview": True,
            "compute_url": None,
            "form": form_model(ctx, entity, lang, entity_defaults(entity)),
            "cancel_url": url_for("designer.form", app=app, name=name),
            "conflict": None,
        }
        response = make_response(render_template("designer/form_preview.html", p=page))
    allow_own_frames(response)
    return response
