"""Workflow pages: take one transition (a button, or a page with its confirmation and the fields it needs),
and run a transition on several records of a list at once - all through the record service."""

from __future__ import annotations

from typing import Any

from flask import abort, g, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.api.edge import services, unit_of_work
from lowcode.api.params import MAX_ID
from lowcode.auth.security_log import log_denial_now
from lowcode.core.numbers import digits_to_int
from lowcode.errors import (
    LowcodeError,
    PermissionDenied,
    RuleRefused,
    ValidationFailed,
    VersionConflict,
    WorkflowRefused,
)
from lowcode.pages.access import FieldRules
from lowcode.pages.binding import bind_form, posted_version
from lowcode.pages.blueprint import bp
from lowcode.pages.display import record_title
from lowcode.pages.edit import redirect_after_write
from lowcode.pages.forms import ErrorBag, FormBuilder
from lowcode.pages.i18n import current_language
from lowcode.pages.line_errors import line_errors
from lowcode.pages.viewmodels import app_nav, top_entity
from lowcode.pages.workflow import confirm_text, state_badge

MAX_BULK = 200
"""Records one bulk transition may name (each is its own transaction)."""


def _page(
    app: str,
    entity_name: str,
    record_id: int,
    name: str,
    values: dict | None = None,
    errors: dict | None = None,
    message: str = "",
    status: int = 200,
):
    """The transition page: the record, the transition's question and a form for the fields it needs."""
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        entity = top_entity(ctx, app, entity_name)
        record = services().queries.get(ctx, app, entity_name, record_id)
        step = services().records.workflow.requested(ctx, entity, record, name)
        builder = FormBuilder(ctx, entity, lang, ErrorBag(errors))
        builder.rules.allow(entity, frozenset(step.required_fields))
        builder.lookups.load_records(entity, [record])
        values = record if values is None else values
        lines = line_errors(ctx, entity, record, builder.errors, lang)
        widgets = [
            {**builder.widget(entity, entity.fields[f], f, values.get(f), record.get(f), f), "required": True}
            for f in step.required_fields
            if f in entity.fields
        ]
        page = {
            "title": f"{step.label_for(lang)}: {record_title(entity, record, lang)}",
            "entity_label": entity.label_for(lang),
            "badge": state_badge(entity, record, lang),
            "to": entity.workflow.state_label(step.target, lang),
            "question": confirm_text(step, lang),
            "fields": widgets,
            "other_errors": builder.errors.rest(),
            "message": message,
            "line_errors": lines,
            "version": record["version"],
            "action": request.path,
            "submit": step.label_for(lang),
            "cancel_url": url_for("pages.detail", app=app, entity=entity_name, record_id=record_id),
        }
        nav = app_nav(ctx, app, lang)
    return render_template("pages/transition.html", p=page, nav=nav), status


@bp.route("/a/<app>/<entity>/<int:record_id>/transitions/<name>", methods=["GET", "POST"])
def transition(app: str, entity: str, record_id: int, name: str):
    """GET: the transition's page; POST: take it (the fields it needs come from the form)."""
    if request.method == "GET":
        return _page(app, entity, record_id, name)
    data: dict[str, Any] = {}
    try:
        with unit_of_work(write=True, source="page") as ctx:
            compiled = top_entity(ctx, app, entity)
            step = compiled.workflow.transitions.get(name) if compiled.workflow is not None else None
            if step is None:
                abort(404)
            rules = FieldRules(ctx)
            rules.allow(compiled, frozenset(step.required_fields))
            fields = [compiled.fields[f] for f in step.required_fields if f in compiled.fields]
            data = bind_form([cf for cf in fields if rules.editable(compiled, cf)], {}, request.form)
            services().records.transition(
                ctx, app, entity, record_id, name, data, posted_version(request.form)
            )
    except (ValidationFailed, RuleRefused) as exc:
        return _page(app, entity, record_id, name, data, exc.fields, exc.message, 422)
    except (WorkflowRefused, VersionConflict) as exc:
        return _page(app, entity, record_id, name, data, None, exc.message, 409)
    return redirect_after_write(url_for("pages.detail", app=app, entity=entity, record_id=record_id))


@bp.post("/a/<app>/<entity>/transitions")
def bulk_transition(app: str, entity: str):
    """Take one transition on every selected record (``ids``: ``id:version``), each in its own transaction:
    the refused ones are listed with their reason, the others are done."""
    name = request.form.get("transition", "")[:64]
    picked = request.form.getlist("ids")
    if len(picked) > MAX_BULK:
        abort(400, description=f"At most {MAX_BULK} records at once")
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        compiled = top_entity(ctx, app, entity)
        if compiled.workflow is None or name not in compiled.workflow.transitions:
            abort(404)
        services().permissions.transition_grants(ctx.actor, compiled, name)  # no grant at all: a 403 up front
        label = compiled.workflow.transitions[name].label_for(lang)
        nav = app_nav(ctx, app, lang)
    done, refused = [], []
    for raw in picked:
        record_id, version = _id_version(raw)
        try:
            with unit_of_work(write=True, source="page") as ctx:
                services().records.transition(ctx, app, entity, record_id, name, {}, version)
            done.append(
                {"id": record_id, "url": url_for("pages.detail", app=app, entity=entity, record_id=record_id)}
            )
        except LowcodeError as exc:
            if isinstance(exc, PermissionDenied):
                _log_denial(exc)
            refused.append(
                {
                    "id": record_id,
                    "reason": exc.message,
                    "url": url_for("pages.detail", app=app, entity=entity, record_id=record_id),
                }
            )
    result = {
        "title": _(
            "%(transition)s: %(done)d done, %(refused)d refused",
            transition=label,
            done=len(done),
            refused=len(refused),
        ),
        "done": done,
        "refused": refused,
        "list_url": url_for("pages.list_view", app=app, entity=entity),
    }
    return render_template("pages/transition_result.html", r=result, nav=nav), 200


def _id_version(raw: str) -> tuple[int, int | None]:
    """``"12:3"`` -> (12, 3); a malformed value is a 400."""
    raw_id, _sep, raw_version = raw.partition(":")
    record_id, version = digits_to_int(raw_id), digits_to_int(raw_version)
    if record_id is None or version is None or not (0 < record_id <= MAX_ID and 0 < version <= MAX_ID):
        abort(400, description="Each selected record is 'id:version'")
    return record_id, version


def _log_denial(error: PermissionDenied) -> None:
    """A refused record of a bulk transition is a denial like any other (a security event)."""
    ctx = g.get("lowcode_ctx")
    actor = ctx.actor if ctx is not None else None
    log_denial_now(services().db, actor, error.message, request)
