"""The app settings page, ``/design/<app>/settings``: the app's label, its menu groups (a dropdown each in the
top menu, listing the tables chosen) and its home page work queues (a table and a condition built with the
condition builder, counted for each reader). Every change is saved to the app definition's draft at once, with
undo and redo (:mod:`lowcode.designer.history`), and published through the publish page; the edits are
:mod:`lowcode.designer.app_edits`."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from lowcode.definitions.checks import AppDocuments
from lowcode.designer.app_edits import apply_edit, queue_prefix
from lowcode.designer.blueprint import DesignContext, bp, design_work, posted_base
from lowcode.designer.conditions import ConditionBuilder
from lowcode.errors import BadRequest, DefinitionInvalid, UnknownType

KIND = "app"


def settings_page(dc: DesignContext, errors: dict, posted: dict | None = None) -> dict[str, Any]:
    """Everything ``designer/app_settings.html`` shows (``posted``: a refused queue as posted)."""
    app = dc.workspace.app
    state = dc.history.state(KIND, app)
    doc, ws = state.body, dc.workspace
    docs = AppDocuments(ws.docs)
    tables = [(n, ws.label(e, n)) for n, e in sorted(ws.entities().items()) if not e.get("child")]
    groups = [
        {
            "index": i,
            "group": m["group"],
            "label": m.get("label") if isinstance(m.get("label"), dict) else {"en": m.get("label") or ""},
            "chosen": [item.get("entity") for item in m.get("items") or ()],
        }
        for i, m in enumerate(m for m in doc.get("menu") or () if "group" in m)
    ]
    queues = []
    for i, q in enumerate(doc.get("queues") or ()):
        condition, own_errors = q.get("condition"), {}
        if posted is not None and posted.get("index") == i:
            condition, own_errors = posted.get("condition", condition), errors
        builder = ConditionBuilder.for_entity(docs, q["entity"], ws.language)
        queues.append(
            {
                "index": i,
                "name": q["name"],
                "label": q.get("label") if isinstance(q.get("label"), dict) else {"en": q.get("label") or ""},
                "entity": q["entity"],
                "condition": builder.rows(condition, queue_prefix(i), own_errors),
                "row_url": url_for("designer.condition_row", app=app, name=q["entity"]),
            }
        )
    label = doc.get("label")
    return {
        "app": app,
        "state": state,
        "steps": dc.history.steps(KIND, app)[:10],
        "errors": errors,
        "label": label if isinstance(label, dict) else {"en": label or ""},
        "tables": tables,
        "groups": groups,
        "queues": queues,
        "loose": [m.get("entity") for m in doc.get("menu") or () if "group" not in m],
    }


def render_settings(
    dc: DesignContext,
    errors: dict | None = None,
    posted: dict | None = None,
    status: int = 200,
    created: bool = False,
):
    """The settings page (``errors`` by path; ``created``: the app was just created - say what comes next)."""
    page = {**settings_page(dc, errors or {}, posted), "created": created}
    return render_template("designer/app_settings.html", p=page), status


@bp.get("/<app>/settings")
def app_settings(app: str):
    """The app's label, menu groups and work queues."""
    with design_work(app) as dc:
        page, status = render_settings(dc)
        if request.args.get("created") == "1":
            page = render_template("designer/app_settings.html", p={**settings_page(dc, {}), "created": True})
        return page, status


@bp.post("/<app>/settings/edit/<section>")
def edit_app_settings(app: str, section: str):
    """Save one change (``label``, ``menu``, ``queue``) to the app's draft; a refusal shows the page again."""
    with design_work(app) as dc:
        base = posted_base()
        body = dc.history.state(KIND, app).body
        try:
            new_body, summary = apply_edit(
                section, body, request.form, AppDocuments(dc.workspace.docs), dc.workspace.language
            )
        except UnknownType as exc:
            raise BadRequest(exc.message) from exc
        except DefinitionInvalid as exc:
            posted = None
            if request.form.get("index", "").isdigit():
                posted = {"index": int(request.form["index"])}
                if "condition" in exc.extra:
                    posted["condition"] = exc.extra["condition"]
            return render_settings(dc, exc.fields, posted, 422)
        try:
            with dc.ctx.session.begin_nested():
                dc.history.edit(KIND, app, base, new_body, summary)
        except DefinitionInvalid as exc:
            return render_settings(dc, exc.fields, status=422)
        dc.audit(KIND, app, summary)
        anchor = "queues" if section == "queue" else section
        return redirect(url_for("designer.app_settings", app=app, _anchor=anchor), code=303)


@bp.post("/<app>/settings/undo")
def app_settings_undo(app: str):
    """Undo the last change of the app's draft (Ctrl+Z)."""
    with design_work(app) as dc:
        dc.walk(KIND, app, "undo")
    return redirect(url_for("designer.app_settings", app=app), code=303)


@bp.post("/<app>/settings/redo")
def app_settings_redo(app: str):
    """Redo the change undone last (Ctrl+Shift+Z)."""
    with design_work(app) as dc:
        dc.walk(KIND, app, "redo")
    return redirect(url_for("designer.app_settings", app=app), code=303)
