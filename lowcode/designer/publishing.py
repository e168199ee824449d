"""Publishing from the designer: ``/design/<app>/publish`` shows the plan of every pending draft before it
happens - columns added, renamed, converted (with the counts of rows that convert exactly, lose data or fail),
trashed, restored - and asks for explicit consent to each conversion that loses data; then one publish of all
drafts. The trash of an entity is listed in its designer; restoring a field puts it back in the draft, and the
publish brings its stored values back (``restore``), checked by default."""

from __future__ import annotations

import copy
from typing import Any

from flask import current_app, redirect, render_template, request, url_for

from lowcode.auth.security_log import log_event
from lowcode.core.numbers import digits_to_int
from lowcode.definitions import publisher, store
from lowcode.definitions.tables import restorable_trash
from lowcode.designer.blueprint import DesignContext, bp, design_work, scoped_design_work
from lowcode.designer.follow import follow_fields
from lowcode.errors import BadRequest, DefinitionInvalid, NotFound, SchemaChangeRefused
from lowcode.runtime.schema_plan import PublishOptions


def _pending_entities(dc: DesignContext) -> list[str]:
    ws = dc.workspace
    return [
        name for name in ws.docs.get("entity", {}) if ws.pending("entity", name) and dc.shows("entity", name)
    ]


def _only(dc: DesignContext) -> set[tuple[str, str]] | None:
    """The definitions this user's publish may include (None: all of the app's)."""
    if dc.scope is None:
        return None
    return {
        (kind, name) for kind, bodies in dc.workspace.docs.items() for name in bodies if dc.shows(kind, name)
    }


def _options(dc: DesignContext, form: Any | None) -> dict[str, PublishOptions]:
    """Each pending entity's publish options: its renames from the draft history; consent and restores as
    posted (``form``), or for the preview the restores proposed by default."""
    options = {}
    for name in _pending_entities(dc):
        renames = dc.history.state("entity", name).renames
        if form is None:
            restore = _proposed_restores(dc, name)
            consent: frozenset[str] = frozenset()
        else:
            restore = {
                key: number
                for key, number in (
                    (k.split(":", 2)[2], digits_to_int(v))
                    for k, v in form.items()
                    if k.startswith(f"restore:{name}:")
                )
                if number is not None
            }
            consent = frozenset(form.getlist(f"consent:{name}"))
        options[name] = PublishOptions(renames=renames, consent=consent, restore=restore)
    return options


def _proposed_restores(dc: DesignContext, name: str) -> dict[str, int]:
    """Fields of the draft that a restorable trash entry of the same key and type can fill again."""
    draft = dc.history.state("entity", name).body
    trashed = restorable_trash(dc.ctx.session, dc.workspace.app, name)
    published = {f["name"] for f in (_published(dc, name) or {}).get("fields") or ()}
    proposed = {}
    for field in draft.get("fields") or ():
        if field["name"] in published:
            continue
        matches = [
            e
            for e in trashed.values()
            if e.field_key == field["name"] and (e.field or {}).get("type") == field["type"]
        ]
        if matches:
            proposed[field["name"]] = max(e.id for e in matches)
    return proposed


def _published(dc: DesignContext, name: str) -> dict | None:
    try:
        return store.get_definition(dc.ctx.session, dc.workspace.app, "entity", name).published
    except NotFound:
        return None


def render_plan(
    dc: DesignContext,
    form: Any | None = None,
    message: str | None = None,
    errors: dict | None = None,
    status: int = 200,
):
    """The publish page: each pending definition and, for entities, the steps of its schema plan."""
    options = _options(dc, form)
    settings = current_app.config["LOWCODE"]
    try:
        planned = publisher.dry_run_drafts(
            dc.ctx.session, dc.workspace.app, options, settings=settings, only=_only(dc)
        )
    except (DefinitionInvalid, BadRequest, SchemaChangeRefused) as exc:
        planned, message, errors, status = [], exc.message, exc.fields, 422
    rows = [
        {
            "kind": p.kind,
            "name": p.name,
            "version": p.version,
            "plan": p.plan.as_json() if p.plan is not None else None,
            "restore": dict(options[p.name].restore) if p.name in options else {},
            "consent": set(options[p.name].consent) if p.name in options else set(),
        }
        for p in planned
    ]
    page = {"app": dc.workspace.app, "rows": rows, "message": message, "errors": errors or {}}
    return render_template("designer/publish.html", p=page), status


@bp.get("/<app>/publish")
def plan(app: str):
    """What publishing the app's drafts would do, nothing changed."""
    with scoped_design_work(app) as dc:
        return render_plan(dc)


@bp.post("/<app>/publish")
def publish(app: str):
    """Publish every pending draft of the app with the consents and restores ticked on the plan page."""
    with scoped_design_work(app) as dc:
        options = _options(dc, request.form)
        try:
            with dc.ctx.session.begin_nested():
                published = publisher.publish_drafts(
                    dc.ctx.session,
                    app,
                    dc.ctx.actor.username,
                    "published in the designer",
                    options,
                    settings=current_app.config["LOWCODE"],
                    only=_only(dc),
                )
        except (DefinitionInvalid, BadRequest, SchemaChangeRefused) as exc:
            return render_plan(dc, request.form, exc.message, exc.fields, 422)
        for outcome in published:
            dc.audit(outcome.kind, outcome.name, "published", version=outcome.version)
            if outcome.kind == "role":  # a permission change: logged as the role editor logs it
                log_role_published(dc, outcome.name, outcome.version)
    return redirect(url_for("designer.app", app=app, published=len(published)), code=303)


def log_role_published(dc: DesignContext, role: str, version: int) -> None:
    """The ``definition_published`` security event of a role (what its holders may do changed)."""
    actor = dc.ctx.actor
    log_event(
        dc.ctx.session,
        "definition_published",
        username=actor.username,
        user_id=actor.user_id,
        ip=actor.ip,
        app=dc.workspace.app,
        role=role,
        version=version,
        rolled_back_to=None,
    )


@bp.post("/<app>/entity/<name>/trash/<int:trash_id>/restore")
def restore(app: str, name: str, trash_id: int):
    """Put a trashed field back in the draft; its publish restores the stored values."""
    with design_work(app, name) as dc:
        entry = restorable_trash(dc.ctx.session, app, name).get(trash_id)
        if entry is None or entry.field is None:
            raise NotFound(f"Trash entry {trash_id} of '{name}' cannot be restored")
        state = dc.history.state("entity", name)
        body = copy.deepcopy(state.body)
        if any(f["name"] == entry.field_key for f in body["fields"]):
            raise DefinitionInvalid(
                f"Entity '{name}' already has a field '{entry.field_key}': rename it first",
                {entry.field_key: ["a field with this key exists"]},
            )
        body["fields"].append({**entry.field, "name": entry.field_key})
        dc.history.edit("entity", name, state.seq, body, f"restored field {entry.field_key} from the trash")
        follow_fields(dc, name, state.body, body, None)
        dc.audit("entity", name, "restored from the trash", trash_id=trash_id)
    return redirect(url_for("designer.entity", app=app, name=name, field=entry.field_key), code=303)
