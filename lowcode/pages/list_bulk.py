"""Bulk delete on the rows selected in a list: each record in its own transaction through the record
service, so a refused one (a role, a record rule, a workflow state, a stale version) is reported with its
reason and the others are deleted. (Bulk transitions: :mod:`lowcode.pages.transitions`.)"""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.api.edge import services, unit_of_work
from lowcode.errors import LowcodeError, PermissionDenied
from lowcode.pages.blueprint import bp
from lowcode.pages.i18n import current_language
from lowcode.pages.transitions import MAX_BULK, _id_version, _log_denial
from lowcode.pages.viewmodels import app_nav, top_entity


@bp.post("/a/<app>/<entity>/bulk-delete")
def bulk_delete(app: str, entity: str):
    """Delete every selected record (``ids``: ``id:version``); the result page lists what was refused."""
    picked = request.form.getlist("ids")
    if not picked:
        abort(400, description="Select the records to delete")
    if len(picked) > MAX_BULK:
        abort(400, description=f"At most {MAX_BULK} records at once")
    chosen = [_id_version(raw) for raw in picked]
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        compiled = top_entity(ctx, app, entity)
        services().permissions.grants(ctx.actor, compiled, "delete")  # no delete grant at all: a 403 up front
        nav = app_nav(ctx, app, lang)
    done, refused = [], []
    for record_id, version in chosen:
        url = url_for("pages.detail", app=app, entity=entity, record_id=record_id)
        try:
            with unit_of_work(write=True, source="page") as ctx:
                services().records.delete(ctx, app, entity, record_id, version)
            done.append({"id": record_id, "url": url})
        except LowcodeError as exc:
            if isinstance(exc, PermissionDenied):
                _log_denial(exc)
            refused.append({"id": record_id, "reason": exc.message, "url": url})
    result = {
        "title": _("Delete: %(done)d done, %(refused)d refused", done=len(done), refused=len(refused)),
        "done": done,
        "refused": refused,
        "list_url": url_for("pages.list_view", app=app, entity=entity),
    }
    return render_template("pages/transition_result.html", r=result, nav=nav), 200
