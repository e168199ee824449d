"""Writing pages: the create and edit forms, delete and restore - all through the record service."""

from __future__ import annotations

from typing import Any

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.api.edge import services, unit_of_work
from lowcode.errors import NotFound, RuleRefused, ValidationFailed, VersionConflict
from lowcode.pages.access import FieldRules
from lowcode.pages.binding import bind_form, posted_version
from lowcode.pages.blueprint import bp
from lowcode.pages.browse import is_htmx_partial
from lowcode.pages.create_from import made_from_note, requested_draft
from lowcode.pages.display import record_title
from lowcode.pages.form_layout import drop_fixed, form_fields, form_states, laid_out_fields
from lowcode.pages.forms import conflict_summary, entity_defaults, form_model
from lowcode.pages.i18n import current_language
from lowcode.pages.viewmodels import app_nav, top_entity
from lowcode.pages.workflow import frozen_fields


def redirect_after_write(url: str):
    """Redirect after a successful write: ``HX-Redirect`` for htmx, else 303 See Other."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def _render_form(
    app: str,
    entity_name: str,
    record_id: int | None,
    values: dict[str, Any] | None = None,
    version: int | None = None,
    status: int = 200,
    errors: dict | None = None,
    message: str | None = None,
    changed: dict | None = None,
):
    """The form page (or, for htmx, the form alone) for a new or an existing record."""
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        entity = top_entity(ctx, app, entity_name)
        permissions = services().permissions
        stored = None
        made_from = None
        if record_id is None:
            permissions.authorize(ctx.actor, entity, "create")
            draft = requested_draft(ctx, entity) if values is None else None
            if draft is not None:
                values = {**entity_defaults(entity), **draft.data()}
                made_from = made_from_note(ctx, draft, lang)
        else:
            stored = services().queries.get(ctx, app, entity_name, record_id)
            permissions.authorize(ctx.actor, entity, "update", stored)
            version = stored["version"] if version is None else version
        if values is None:
            values = stored if stored is not None else entity_defaults(entity)
        label = entity.label_for(lang)
        page = {
            "entity_label": label,
            "is_new": record_id is None,
            "version": version,
            "message": message,
            "made_from": made_from,
            "title": _("New %(entity)s", entity=label)
            if record_id is None
            else _("Edit %(title)s", title=record_title(entity, stored, lang)),
            "action": request.path,
            "compute_url": url_for("pages.compute_new", app=app, entity=entity_name)
            if record_id is None
            else url_for("pages.compute_existing", app=app, entity=entity_name, record_id=record_id),
            "form": form_model(ctx, entity, lang, values, stored, errors),
            "cancel_url": url_for("pages.list_view", app=app, entity=entity_name)
            if record_id is None
            else url_for("pages.detail", app=app, entity=entity_name, record_id=record_id),
            "conflict": conflict_summary(ctx, entity, changed, lang) if changed is not None else None,
        }
        nav = None if is_htmx_partial() else app_nav(ctx, app, lang)
    if is_htmx_partial():
        return render_template("pages/_form.html", p=page), status
    return render_template("pages/form.html", p=page, nav=nav), status


def _save(app: str, entity_name: str, record_id: int | None):
    """Bind the posted form and create or update the record; re-render it with the messages on failure."""
    data: dict[str, Any] = {}
    version = posted_version(request.form)
    try:
        with unit_of_work(write=True, source="page") as ctx:
            entity = top_entity(ctx, app, entity_name)
            rules = FieldRules(ctx)
            stored = _stored(ctx, app, entity_name, record_id)
            rules.freeze(entity, frozen_fields(entity, stored))
            fields, children = rules.bindable(entity, laid_out_fields(form_fields(ctx, entity, rules)))
            data = bind_form(fields, children, request.form)
            _states, fixed = form_states(ctx, entity, data, stored or None)
            data = {**data, **{n: (stored or {}).get(n) for n in fixed if n in data}}  # shown again on a 422
            if record_id is None:
                saved_id = services().records.create(ctx, app, entity_name, drop_fixed(data, fixed))["id"]
            else:
                services().records.update(ctx, app, entity_name, record_id, drop_fixed(data, fixed), version)
                saved_id = record_id
    except (ValidationFailed, RuleRefused) as exc:
        return _render_form(app, entity_name, record_id, data, version, 422, exc.fields, exc.message)
    except VersionConflict as exc:
        message = _(
            "Someone else changed this record while you were editing it. Your entries are kept below; "
            "check the new values and save again to overwrite them."
        )
        return _render_form(
            app,
            entity_name,
            record_id,
            data,
            exc.extra.get("current_version"),
            409,
            message=message,
            changed=exc.extra.get("changed") or {},
        )
    return redirect_after_write(url_for("pages.detail", app=app, entity=entity_name, record_id=saved_id))


def _stored(ctx, app: str, entity_name: str, record_id: int | None) -> dict[str, Any] | None:
    """The record being edited as the actor may read it (None for a new one; {} when it is out of reach:
    the record service refuses the write, as before)."""
    if record_id is None:
        return None
    try:
        return services().queries.get(ctx, app, entity_name, record_id)
    except NotFound:
        return {}


@bp.route("/a/<app>/<entity>/new", methods=["GET", "POST"])
def new_record(app: str, entity: str):
    """The form for a new record; POST creates it."""
    if request.method == "POST":
        return _save(app, entity, None)
    return _render_form(app, entity, None)


@bp.route("/a/<app>/<entity>/<int:record_id>/edit", methods=["GET", "POST"])
def edit_record(app: str, entity: str, record_id: int):
    """The form of an existing record; POST saves it (the hidden ``version`` is the edited version)."""
    if request.method == "POST":
        return _save(app, entity, record_id)
    return _render_form(app, entity, record_id)


@bp.post("/a/<app>/<entity>/<int:record_id>/delete")
def delete_record(app: str, entity: str, record_id: int):
    """Soft-delete the record (restorable), then show the list."""
    with unit_of_work(write=True, source="page") as ctx:
        top_entity(ctx, app, entity)
        services().records.delete(ctx, app, entity, record_id, posted_version(request.form))
    return redirect_after_write(url_for("pages.list_view", app=app, entity=entity))


@bp.post("/a/<app>/<entity>/<int:record_id>/restore")
def restore_record(app: str, entity: str, record_id: int):
    """Bring a soft-deleted record back, then show it."""
    with unit_of_work(write=True, source="page") as ctx:
        top_entity(ctx, app, entity)
        services().records.restore(ctx, app, entity, record_id)
    return redirect_after_write(url_for("pages.detail", app=app, entity=entity, record_id=record_id))
