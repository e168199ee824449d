"""Sandboxes in the designer: make one from an app's page (``POST /design/<app>/sandbox``); in the sandbox -
an app like any other, designed and dry-run as usual - review its change set for the live app
(``GET /design/<sandbox>/live``: each definition compared side by side with the live one, conflicts with live
changes made since the copy, the schema plan of the live tables), publish it (``POST``, one publish; a live
change since the copy must be confirmed), or throw the sandbox away (``POST /design/<sandbox>/discard``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, url_for

from lowcode.api.edge import services
from lowcode.core.numbers import digits_to_int
from lowcode.core.texts import Text
from lowcode.designer.blueprint import DesignContext, bp, design_work
from lowcode.designer.compare import RENAMED_PROBABLY, compare_versions
from lowcode.errors import BadRequest, DefinitionInvalid, LiveChanged, SchemaChangeRefused
from lowcode.runtime.schema_plan import PublishOptions
from lowcode.sandbox.access import audit
from lowcode.sandbox.changes import ChangeSet, change_set, publish_to_live, require_sandbox
from lowcode.sandbox.discard import throw_away
from lowcode.sandbox.making import DEFAULT_SAMPLE, make_sandbox
from lowcode.sandbox.masking import mask_key_for

REFUSALS = (DefinitionInvalid, BadRequest, SchemaChangeRefused, LiveChanged)


@bp.post("/<app>/sandbox")
def sandbox_make(app: str):
    """Make a sandbox of the app (name and sample size posted) and open it in the designer."""
    with design_work(app) as dc:
        svc = services()
        sample = digits_to_int(request.form.get("sample", "") or str(DEFAULT_SAMPLE))
        if sample is None:
            raise BadRequest(Text("The sample is a whole number of records per table"))
        made = make_sandbox(
            dc.ctx,
            svc.records,
            svc.snapshots,
            app,
            name=request.form.get("name", "").strip() or None,
            per_entity=sample,
            mask_key=mask_key_for(svc.settings),
            settings=svc.settings,
        )
        audit(dc.ctx, made["app"], "sandbox made", live_app=app)
    return redirect(
        url_for("designer.app", app=made["app"], made=made["records"]["left_out_count"]), code=303
    )


def _posted_options(form: Any, changes: ChangeSet) -> dict[str, PublishOptions]:
    """Per changed entity: the renames ticked (``rename:<entity>:<old>`` = new), consents, restores."""
    options = {}
    for c in changes.changes:
        if c.kind != "entity":
            continue
        renames = {
            key.split(":", 2)[2]: value for key, value in form.items() if key.startswith(f"rename:{c.name}:")
        }
        restore = {
            key.split(":", 2)[2]: number
            for key, number in (
                (k, digits_to_int(v)) for k, v in form.items() if k.startswith(f"restore:{c.name}:")
            )
            if number is not None
        }
        consent = frozenset(form.getlist(f"consent:{c.name}"))
        options[c.name] = PublishOptions(renames=renames, consent=consent, restore=restore)
    return options


def _default_options(changes: ChangeSet) -> dict[str, PublishOptions]:
    """The renames the comparison guesses (a field gone and one of the same type and label added)."""
    options = {}
    for c in changes.changes:
        if c.kind == "entity" and c.live is not None:
            comparison = compare_versions("entity", c.live, c.sandbox)
            renames = {r.old: r.new for r in comparison.changes if r.change == RENAMED_PROBABLY}
            options[c.name] = PublishOptions(renames=renames)
    return options


def render_review(dc: DesignContext, form: Any | None = None, message: str | None = None, status: int = 200):
    """The change set page: comparisons, conflicts, the live schema plan, the publish form."""
    session, app = dc.ctx.session, dc.workspace.app
    changes = change_set(session, app)
    options = _posted_options(form, changes) if form is not None else _default_options(changes)
    errors: dict = {}
    plans: dict[str, Any] = {}
    try:
        _, planned = publish_to_live(
            dc.ctx, app, options, dry_run=True, settings=current_app.config["LOWCODE"]
        )
        plans = {p.name: p.plan.as_json() for p in planned if p.plan is not None}
    except REFUSALS as exc:
        message, errors, status = message or exc.message, exc.fields, 422
    rows = [
        {
            "kind": c.kind,
            "name": c.name,
            "change": c.change,
            "conflict": c.conflict,
            "comparison": compare_versions(
                c.kind, c.live, c.sandbox, options.get(c.name, PublishOptions()).renames
            ),
            "plan": plans.get(c.name) if c.kind == "entity" else None,
            "renames": dict(options[c.name].renames) if c.name in options and c.kind == "entity" else {},
            "consent": set(options[c.name].consent) if c.name in options and c.kind == "entity" else set(),
        }
        for c in changes.changes
    ]
    page = {"app": app, "set": changes, "rows": rows, "message": message, "errors": errors}
    return render_template("designer/sandbox_review.html", p=page), status


@bp.get("/<app>/live")
def sandbox_review(app: str):
    """What publishing the sandbox to its live app would do; nothing changes."""
    with design_work(app) as dc:
        require_sandbox(dc.ctx.session, app)
        return render_review(dc)


@bp.post("/<app>/live")
def sandbox_publish(app: str):
    """Publish the sandbox's change set to the live app (``confirm`` ticked when the live app changed)."""
    with design_work(app) as dc:
        live = require_sandbox(dc.ctx.session, app).live_app
        changes = change_set(dc.ctx.session, app)
        options = _posted_options(request.form, changes)
        try:
            with dc.ctx.session.begin_nested():
                _, published = publish_to_live(
                    dc.ctx,
                    app,
                    options,
                    confirmed=request.form.get("confirm") == "1",
                    settings=current_app.config["LOWCODE"],
                )
        except REFUSALS as exc:
            return render_review(dc, request.form, exc.message, 409 if isinstance(exc, LiveChanged) else 422)
        audit(dc.ctx, live, "published from a sandbox", sandbox=app, definitions=len(published))
    return redirect(url_for("designer.app", app=live, published=len(published)), code=303)


@bp.post("/<app>/discard")
def sandbox_discard(app: str):
    """Throw the sandbox away (its tables, definitions and data) and go back to the live app."""
    with design_work(app) as dc:
        live = require_sandbox(dc.ctx.session, app).live_app
        throw_away(dc.ctx.session, app)
        audit(dc.ctx, app, "sandbox thrown away", live_app=live)
    return redirect(url_for("designer.app", app=live, discarded=app), code=303)
