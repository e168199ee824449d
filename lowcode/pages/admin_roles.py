"""Administration pages: role definitions, editable in the UI.

``/admin/roles`` lists the role definitions of each app; ``/admin/roles/<app>/<name>`` edits one as JSON:
"Validate & save draft" (:func:`lowcode.definitions.store.save_draft`, every error shown with its JSON
path), "Publish" (:func:`~lowcode.definitions.publisher.publish_definition`, which also checks the role against the
app's entities), and "roll back to" an earlier version (:func:`~lowcode.definitions.publisher.rollback`).
Publishing changes what the role's holders may do at once (every worker recompiles its snapshot).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.auth.security_log import log_event
from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.definitions import publisher, store
from lowcode.definitions.checks import app_errors_for
from lowcode.errors import BadRequest, DefinitionInvalid, NotFound, SchemaChangeRefused
from lowcode.pages.admin_common import admin_work, form_text, label_text
from lowcode.pages.blueprint import bp
from lowcode.pages.i18n import current_language

KIND = "role"
MAX_TEXT = 200_000
"""Longest role JSON the editor accepts (characters)."""


def _pretty(body: Any) -> str:
    return dumps(body, indent=2) if body is not None else ""


# -- the list ----------------------------------------------------------------------------------------
def render_roles(
    status: int = 200, message: str | None = None, errors: dict | None = None, values: dict | None = None
):
    """Every app with its role definitions (published version, pending draft) and the "New role" form."""
    lang = current_language()
    with admin_work("read definitions") as ctx:
        definitions = store.list_definitions(ctx.session)
        apps = {d.app: {"name": d.app, "label": d.app, "roles": []} for d in definitions if d.kind == "app"}
        for name, info in ctx.snapshot.apps.items():
            apps.setdefault(name, {"name": name, "roles": []})["label"] = info.label_for(lang)
        for d in definitions:
            if d.kind != KIND:
                continue
            published = store.published_body(ctx.session, d)
            shown = published or d.draft or {}
            apps.setdefault(d.app, {"name": d.app, "label": d.app, "roles": []})["roles"].append(
                {
                    "name": d.name,
                    "label": label_text(shown.get("label"), lang) or d.name,
                    "admin": bool(shown.get("admin")),
                    "grants": len(shown.get("grants") or []),
                    "version": d.published_version,
                    "pending": d.draft is not None and d.draft != published,
                }
            )
    page = {
        "apps": sorted(apps.values(), key=lambda a: a["name"]),
        "message": message,
        "errors": errors or {},
        "values": values or {},
    }
    return render_template("admin/roles.html", p=page), status


@bp.get("/admin/roles")
def admin_roles():
    """The role definitions per app."""
    return render_roles()


@bp.post("/admin/roles/new")
def admin_new_role():
    """Create a role (a draft granting nothing yet) and open it in the editor."""
    app, name = form_text("app", 64), form_text("name", 64)
    body = {"schema_version": 1, "name": name, "label": name, "grants": []}
    try:
        with admin_work("edit definitions", write=True) as ctx:
            try:
                store.get_definition(ctx.session, app, KIND, name)
            except NotFound:
                store.save_draft(ctx.session, app, KIND, name, body)
            else:
                raise DefinitionInvalid(
                    f"App '{app}' already has a role '{name}'", {"name": ["already exists"]}
                )
    except (DefinitionInvalid, NotFound) as exc:
        return render_roles(422, exc.message, getattr(exc, "fields", None), {"app": app, "name": name})
    flash(_("Role %(name)s created as a draft: add its grants, then publish it.", name=name), "success")
    return redirect(url_for("pages.admin_role", app=app, name=name), code=303)


# -- the editor ------------------------------------------------------------------------------------
def render_role(
    app: str,
    name: str,
    status: int = 200,
    text: str | None = None,
    message: str | None = None,
    errors: dict | None = None,
):
    """The editor: the posted ``text`` after a refusal, else the draft (or the published body); the
    refusal's ``errors`` by JSON path; what publishing the pending draft would still refuse; the versions."""
    with admin_work("read definitions") as ctx:
        view = store.get_definition(ctx.session, app, KIND, name)
        pending = view.draft is not None and view.draft != view.published
        versions = [
            {
                "version": v.version,
                "published_at": v.published_at,
                "published_by": v.published_by,
                "note": v.note,
            }
            for v in store.versions(ctx.session, app, KIND, name)
        ]
        warnings = _publish_problems(ctx.session, app, name, view.draft) if pending and errors is None else {}
    page = {
        "app": app,
        "name": name,
        "text": text if text is not None else _pretty(view.draft or view.published),
        "published_version": view.published_version,
        "pending": pending,
        "has_draft": view.draft is not None,
        "versions": versions,
        "message": message,
        "errors": errors or {},
        "warnings": warnings,
    }
    return render_template("admin/role_edit.html", p=page), status


def _publish_problems(db, app: str, name: str, draft: Any) -> dict[str, list[str]]:
    """The cross-document errors publishing ``draft`` would raise about this role (unknown entities or
    fields, record rules that do not parse) - shown before the administrator presses "Publish"."""
    docs = store.published_app_documents(db, app)
    docs.setdefault(KIND, {})[name] = draft
    prefix = f"role:{name}/"
    errors = app_errors_for(docs, current_app.config["LOWCODE"])
    return {path: messages for path, messages in errors.items() if path.startswith(prefix)}


@bp.get("/admin/roles/<app>/<name>")
def admin_role(app: str, name: str):
    """The editor of one role definition."""
    return render_role(app, name)


@bp.post("/admin/roles/<app>/<name>/draft")
def admin_save_role(app: str, name: str):
    """Validate the posted JSON against the role schema and store it as the draft; on failure show the
    text again with every error at its JSON path."""
    text = request.form.get("body", "")
    try:
        with admin_work("edit definitions", write=True) as ctx:
            store.get_definition(ctx.session, app, KIND, name)  # 404 for an unknown role
            if len(text) > MAX_TEXT:
                raise DefinitionInvalid(f"The definition is longer than {MAX_TEXT} characters")
            body = loads_exact(text, current_app.config["LOWCODE"]["MAX_JSON_DEPTH"])
            store.save_draft(ctx.session, app, KIND, name, body)
    except BadRequest as exc:
        return render_role(app, name, 422, text, _("This is not valid JSON."), {"/": [exc.message]})
    except DefinitionInvalid as exc:
        return render_role(app, name, 422, text, exc.message, exc.fields)
    flash(_("The draft is valid and saved. Publish it to put it in force."), "success")
    return redirect(url_for("pages.admin_role", app=app, name=name), code=303)


@bp.post("/admin/roles/<app>/<name>/publish")
def admin_publish_role(app: str, name: str):
    """Publish the draft as a new version."""
    return _publish(app, name, None)


@bp.post("/admin/roles/<app>/<name>/rollback/<int:version>")
def admin_rollback_role(app: str, name: str, version: int):
    """Publish an earlier version's body again as a new version (the draft follows it)."""
    return _publish(app, name, version)


def _publish(app: str, name: str, rollback_to: int | None):
    try:
        with admin_work("publish definitions", write=True) as ctx:
            store.get_definition(ctx.session, app, KIND, name)  # 404 for an unknown role
            try:
                if rollback_to is None:
                    number = publisher.publish_definition(
                        ctx.session,
                        app,
                        KIND,
                        name,
                        ctx.actor.username,
                        settings=current_app.config["LOWCODE"],
                    ).version
                else:
                    number = publisher.rollback(
                        ctx.session,
                        app,
                        KIND,
                        name,
                        rollback_to,
                        ctx.actor.username,
                        settings=current_app.config["LOWCODE"],
                    ).version
            except NotFound as exc:  # no draft, or no such version: a refusal shown in the editor
                raise DefinitionInvalid(exc.message) from exc
            log_event(
                ctx.session,
                "definition_published",
                username=ctx.actor.username,
                user_id=ctx.actor.user_id,
                ip=ctx.actor.ip,
                app=app,
                role=name,
                version=number,
                rolled_back_to=rollback_to,
            )
    except (DefinitionInvalid, SchemaChangeRefused) as exc:
        return render_role(app, name, 422, None, exc.message, exc.fields)
    if rollback_to is None:
        flash(_("Published as version %(version)s.", version=number), "success")
    else:
        flash(
            _("Version %(old)s published again as version %(version)s.", old=rollback_to, version=number),
            "success",
        )
    return redirect(url_for("pages.admin_role", app=app, name=name), code=303)
