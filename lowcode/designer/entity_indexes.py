"""The entity designer's indexes: ``POST /design/<app>/entity/<name>/indexes`` declares one over the posted
fields (``index_field``, in order; from the entity page or from a list view's or a report's advice, which comes
back to the view with ``view`` or to the report's designer with ``report``), ``POST .../indexes/<position>/
delete`` removes one. Draft steps like every field change; the publish's schema plan builds or drops the index."""

from __future__ import annotations

from flask import redirect, request, url_for

from lowcode.definitions.checks import AppDocuments
from lowcode.designer.blueprint import bp
from lowcode.designer.entity_designer import change_entity
from lowcode.designer.index_advice import add_index, remove_index
from lowcode.errors import DefinitionInvalid, ValidationFailed


def _back_to_view(app: str):
    """Back to the list view or report whose advice posted the index (``view`` / ``report``), if any."""
    view, report = request.form.get("view", ""), request.form.get("report", "")
    if report:
        return lambda dc: redirect(url_for("designer.report", app=app, name=report, indexed=1), code=303)
    if not view:
        return None
    return lambda dc: redirect(url_for("designer.view", app=app, name=view, indexed=1), code=303)


@bp.post("/<app>/entity/<name>/indexes")
def add_entity_index(app: str, name: str):
    """Declare an index over the posted fields (a 422 on the entity page names what is wrong)."""
    fields = [f for f in request.form.getlist("index_field") if f]

    def change(dc, body):
        try:
            docs = {**dc.workspace.docs, "entity": {**dc.workspace.docs.get("entity", {}), name: body}}
            new = add_index(body, fields, AppDocuments(docs))
        except ValidationFailed as exc:
            raise DefinitionInvalid(exc.message, exc.fields) from exc
        return new, f"added index {', '.join(fields)}", None, None

    return change_entity(app, name, change, after=_back_to_view(app))


@bp.post("/<app>/entity/<name>/indexes/<int:position>/delete")
def delete_entity_index(app: str, name: str, position: int):
    """Remove the declared index at ``position`` (its index is dropped at publish)."""

    def change(dc, body):
        return remove_index(body, position), f"removed index {position + 1}", None, None

    return change_entity(app, name, change)
