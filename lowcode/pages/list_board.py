"""The kanban board of a list (a view's ``kanban``: group by a select or workflow state field): one column
per option with its cards (the list's search and filter apply), and the move a drag makes - a workflow
transition when the field is the state field, else an update of the field - through the record service.
A refused move answers its reason, and the page puts the card back."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.api.edge import services, unit_of_work
from lowcode.errors import LowcodeError, NotFound, PermissionDenied, ValidationFailed, WorkflowRefused
from lowcode.pages.access import allowed
from lowcode.pages.binding import posted_version
from lowcode.pages.blueprint import bp
from lowcode.pages.display import Lookups, record_title
from lowcode.pages.i18n import current_language
from lowcode.pages.list_filters import choice_options
from lowcode.pages.listing import ListParams, build_query, pick_view_label
from lowcode.pages.transitions import _log_denial
from lowcode.pages.viewmodels import app_nav, top_entity
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext

PER_COLUMN = 20
"""Cards shown per column (the column shows its full count and links to the rest in the list)."""
STATUS = {PermissionDenied: 403, NotFound: 404, ValidationFailed: 422}


def board_view(
    ctx: WriteContext, app: str, entity_name: str, moving: bool = False
) -> tuple[CompiledEntity, dict, str]:
    """The entity, its view and the field the board groups by. :raises NotFound: without a kanban (or
    PermissionDenied when ``moving``: a write the list does not offer)."""
    entity = top_entity(ctx, app, entity_name)
    services().permissions.read_condition(ctx.actor, entity)  # may not read: a 403
    view = ctx.snapshot.view_for(app, entity_name) or {}
    group = (view.get("kanban") or {}).get("group_by")
    if not group or group not in entity.fields:
        if moving:
            raise PermissionDenied(f"{entity_name} has no kanban view: its records are not moved by cards")
        raise NotFound(f"{entity_name} has no kanban view")
    if group in services().permissions.hidden_fields(ctx.actor, entity):
        raise PermissionDenied(f"You may not see {group}")
    return entity, view, group


def board_model(ctx: WriteContext, app: str, entity_name: str, params: ListParams, language: str) -> dict:
    """The board's columns with their cards, and what the page needs to move them."""
    entity, view, group = board_view(ctx, app, entity_name)
    hidden = services().permissions.hidden_fields(ctx.actor, entity)
    card_fields = [
        entity.fields[n]
        for n in view["kanban"].get("card_fields", [])
        if n in entity.fields and n not in hidden and n != group
    ]
    query = build_query(entity, view, replace(params, after=""), services().settings)
    columns, lookups = [], Lookups(ctx, language)
    for value, label in choice_options(entity, entity.fields[group], language):
        leaf = {"field": group, "op": "=", "value": value}
        condition = {"all": [query.condition, leaf]} if query.condition else leaf
        page = services().queries.list(
            ctx, app, entity_name, replace(query, condition=condition, limit=PER_COLUMN)
        )
        lookups.load_records(entity, page.records)
        rest = url_for(
            "pages.list_view",
            app=app,
            entity=entity_name,
            **params.args(after="", field=group, op="=", value=value),
        )
        columns.append(
            {
                "value": value,
                "label": label,
                "count": page.total or 0,
                "records": page.records,
                "more_url": rest if page.next_cursor else None,
            }
        )
    for column in columns:
        column["cards"] = [
            {
                "id": r["id"],
                "version": r["version"],
                "title": record_title(entity, r, language),
                "url": url_for("pages.detail", app=app, entity=entity_name, record_id=r["id"]),
                "move_url": url_for("pages.move_card", app=app, entity=entity_name, record_id=r["id"]),
                "fields": [
                    (cf.fdef.label_for(language), lookups.format(entity, cf, r.get(cf.name)))
                    for cf in card_fields
                ],
            }
            for r in column.pop("records")
        ]
    return {
        "title": pick_view_label(view, entity, language),
        "entity_label": entity.label_for(language),
        "columns": columns,
        "params": params,
        "list_url": url_for("pages.list_view", app=app, entity=entity_name, **params.args(after="")),
        "board_url": url_for("pages.board", app=app, entity=entity_name),
        "may_move": allowed(ctx, entity, "update") or entity.workflow is not None,
    }


@bp.get("/a/<app>/<entity>/board")
def board(app: str, entity: str):
    """The kanban board (the list's ``q`` and filter parameters apply)."""
    lang = current_language()
    params = ListParams.from_args(request.args, services().settings["MAX_PAGE_SIZE"])
    with unit_of_work(write=False, source="page") as ctx:
        model = board_model(ctx, app, entity, params, lang)
        nav = app_nav(ctx, app, lang)
    return render_template("pages/board.html", b=model, nav=nav)


@bp.post("/a/<app>/<entity>/<int:record_id>/move")
def move_card(app: str, entity: str, record_id: int):
    """Move a card to another column (``to``, ``version``): ``{"ok": true, "version"}`` or
    ``{"ok": false, "reason"}`` with the refusal's status."""
    to = request.form.get("to", "")[:64]
    version = posted_version(request.form)
    try:
        with unit_of_work(write=True, source="page") as ctx:
            compiled, _view, group = board_view(ctx, app, entity, moving=True)
            if to not in [c["value"] for c in compiled.fields[group].fdef.options.get("choices", [])]:
                abort(400, description="to must be one of the column values")
            written = _move(ctx, compiled, group, record_id, to, version)
    except LowcodeError as exc:
        if isinstance(exc, PermissionDenied):
            _log_denial(exc)
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 409)
        return jsonify({"ok": False, "reason": exc.message}), status
    return jsonify({"ok": True, "version": written["version"]})


def _move(
    ctx: WriteContext, entity: CompiledEntity, group: str, record_id: int, to: str, version
) -> dict[str, Any]:
    wf = entity.workflow
    if wf is None or wf.state_field != group:
        return services().records.update(ctx, entity.app, entity.name, record_id, {group: to}, version)
    current = services().queries.get(ctx, entity.app, entity.name, record_id)
    lang = current_language()
    steps = wf.between(current.get(group), to)
    if not steps:
        raise WorkflowRefused(
            _(
                "No step leads from %(from)s to %(to)s",
                **{"from": wf.state_label(current.get(group), lang), "to": wf.state_label(to, lang)},
            )
        )
    step = steps[0]
    if step.required_fields:
        raise WorkflowRefused(
            _("%(step)s needs more information: open the record", step=step.label_for(lang))
        )
    return services().records.transition(ctx, entity.app, entity.name, record_id, step.name, {}, version)
