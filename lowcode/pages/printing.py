"""The print view of a record: its fields, its lines with their totals, on a plain page with a print
stylesheet (no navigation, no buttons, no history) - a document to hand over or file."""

from __future__ import annotations

from flask import render_template

from lowcode.api.edge import unit_of_work
from lowcode.pages.blueprint import bp
from lowcode.pages.i18n import current_language
from lowcode.pages.viewmodels import app_nav, detail_model


@bp.get("/a/<app>/<entity>/<int:record_id>/print")
def print_record(app: str, entity: str, record_id: int):
    """A record as a printable document (what the reader may read of it)."""
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        nav = app_nav(ctx, app, lang)
        model = detail_model(ctx, app, entity, record_id, lang)
    return render_template("pages/print.html", m=model, app_label=nav["label"])
