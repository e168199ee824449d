"""Apps as bundles in the browser: ``/design/<app>/export.zip`` (download the app as a zip of JSON files),
``/design/import`` (upload a bundle, optionally under another app name: every problem listed by file and JSON
path, nothing changed) and ``/design/<app>/upgrade`` (upload a newer bundle of the template the app was
installed from: the plan of every definition - unchanged, taken from new, kept local, merged, conflict - with
conflicts side by side and a choice each, the schema plan, then one publish). Platform operations: the
permission service's ``import templates`` / ``export templates`` (administrators)."""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lowcode.api.edge import services, unit_of_work
from lowcode.core.jsonutil import dumps
from lowcode.core.texts import Text
from lowcode.definitions.bundle_files import bundle_zip
from lowcode.definitions.bundle_service import export_file_name, import_bundle, read_bundle, upgrade_app
from lowcode.definitions.installs import installed
from lowcode.definitions.merge import MISSING
from lowcode.definitions.templates import export_bundle
from lowcode.definitions.upgrade_uploads import drop_upload, keep_upload, kept_upload
from lowcode.designer.blueprint import bp
from lowcode.designer.labels import kind_label
from lowcode.errors import (
    BadRequest,
    DefinitionInvalid,
    NotFound,
    NotNewer,
    PayloadTooLarge,
    SchemaChangeRefused,
)
from lowcode.pages.security import require_csrf

REFUSALS = (BadRequest, DefinitionInvalid, NotNewer, PayloadTooLarge, SchemaChangeRefused)


def _shown(message: Any) -> str:
    return message.localized() if isinstance(message, Text) else str(message)


def _problems(exc) -> list[str]:
    """Every problem of a refusal, one line each (``entities/product.json: $.fields[3].type: ...``), in the
    reader's language where the message is a :class:`~lowcode.core.texts.Text`."""
    lines = [f"{place}: {_shown(m)}" for place, messages in exc.fields.items() for m in messages]
    return lines or [_shown(exc.message)]


def _uploaded() -> bytes:
    upload = request.files.get("bundle")
    if upload is None or not upload.filename:
        raise BadRequest(_("Choose a bundle file (.zip or .json)"))
    return upload.read()


@bp.get("/<app>/export.zip")
def export_zip(app: str):
    """Download the app's published definitions as a bundle (zip of JSON files with a manifest)."""
    with unit_of_work(write=False, source="page") as ctx:
        services().permissions.authorize_platform(ctx.actor, "export templates")
        bundle = export_bundle(ctx.session, app)
    return Response(
        bundle_zip(bundle),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{export_file_name(bundle)}"'},
    )


@bp.get("/import")
def import_page():
    """The import form."""
    with unit_of_work(write=False, source="page") as ctx:
        services().permissions.authorize_platform(ctx.actor, "import templates")
    return render_template("designer/import.html", problems=[], name="")


@bp.post("/import")
def import_post():
    """Install the uploaded bundle (under the posted name, if any); a refusal lists every problem."""
    require_csrf()
    name = request.form.get("name", "").strip()
    with unit_of_work(write=True, source="page") as ctx:
        svc = services()
        svc.permissions.authorize_platform(ctx.actor, "import templates")
        try:
            with ctx.session.begin_nested():
                bundle = read_bundle(_uploaded())
                summary = import_bundle(ctx, svc, bundle, name or None, request.form.get("demo") == "1")
        except REFUSALS as exc:
            page = render_template("designer/import.html", problems=_problems(exc), name=name)
            return page, 413 if isinstance(exc, PayloadTooLarge) else 422
    return redirect(url_for("designer.app", app=summary["app"], imported=1), code=303)


def _head(ctx, app: str) -> dict[str, Any]:
    install = installed(ctx.session, app)
    if install is None:
        raise NotFound(_("App %(app)s was not installed from a bundle: there is nothing to upgrade", app=app))
    return {"app": app, "template": install.template, "version": install.version}


@bp.get("/<app>/upgrade")
def upgrade_page(app: str):
    """The upgrade form: where the app came from, and a bundle to upload."""
    with unit_of_work(write=False, source="page") as ctx:
        services().permissions.authorize_platform(ctx.actor, "import templates")
        page = {**_head(ctx, app), "stage": "upload"}
    return render_template("designer/upgrade.html", p=page)


@bp.post("/<app>/upgrade")
def upgrade_post(app: str):
    """``stage=plan`` (a file uploaded): the plan, nothing changed but the bundle kept server-side under a
    token (:mod:`lowcode.definitions.upgrade_uploads`). ``stage=apply`` (that token, the choices, the consent):
    save and publish, then back to the app; a refusal shows the plan again with the reason."""
    require_csrf()
    stage = request.form.get("stage", "plan")
    with unit_of_work(write=True, source="page") as ctx:
        svc = services()
        svc.permissions.authorize_platform(ctx.actor, "import templates")
        head = _head(ctx, app)
        form = {
            "choices": {k[len("choice:") :]: v for k, v in request.form.items() if k.startswith("choice:")},
            "consent": request.form.get("consent") == "1",
            "force": request.form.get("force") == "1",
        }
        user = ctx.actor.username
        if stage == "apply":
            token = request.form.get("token", "")
            try:
                with ctx.session.begin_nested():
                    bundle = kept_upload(ctx.session, token, app, user)
                    _upgrade, outcome = upgrade_app(
                        ctx, svc, app, bundle, form["choices"], consent=form["consent"], force=form["force"]
                    )
                    drop_upload(ctx.session, token, app, user)
            except REFUSALS as exc:
                problems = [_("Nothing was changed."), *_problems(exc)]
                if isinstance(exc, BadRequest):
                    return _upload_again(head, problems, 422)
                return _planned(ctx, svc, head, bundle, token, form, problems)
            return redirect(url_for("designer.app", app=app, published=len(outcome), upgraded=1), code=303)
        try:
            bundle = read_bundle(_uploaded())
        except REFUSALS as exc:
            return _upload_again(head, _problems(exc), 413 if isinstance(exc, PayloadTooLarge) else 422)
        return _planned(ctx, svc, head, bundle, None, form, [])


def _upload_again(head: dict[str, Any], problems: list[str], status: int):
    page = {**head, "stage": "upload", "problems": problems}
    return render_template("designer/upgrade.html", p=page), status


def _planned(ctx, svc, head, bundle, token: str | None, form: dict[str, Any], problems: list[str]):
    """The plan page of ``bundle`` (kept under ``token``; None: kept now, once the plan is made), or the upload
    form with the refusal."""
    try:
        with ctx.session.begin_nested():
            upgrade, outcome = upgrade_app(
                ctx,
                svc,
                head["app"],
                bundle,
                form["choices"],
                consent=form["consent"],
                dry_run=True,
                force=form["force"],
            )
    except REFUSALS as exc:
        status = 409 if isinstance(exc, NotNewer) else 422
        return _upload_again(head, [*problems, *_problems(exc)], status)
    page = {**head, "stage": "plan", **_plan_page(upgrade, outcome, form["choices"], form["consent"])}
    if token is None:
        token = keep_upload(ctx.session, head["app"], ctx.actor.username, bundle)
    page.update(token=token, force=form["force"], problems=problems)
    return render_template("designer/upgrade.html", p=page), 422 if problems else 200


STATUS_TEXT = {
    "unchanged": (_l("Unchanged"), "text-bg-light"),
    "new": (_l("Taken from the new version"), "text-bg-primary"),
    "added": (_l("New in this version"), "text-bg-primary"),
    "local": (_l("Local change kept"), "text-bg-success"),
    "merged": (_l("Merged"), "text-bg-info"),
    "conflict": (_l("Conflict: choose"), "text-bg-danger"),
    "removed": (_l("Dropped by the new version: kept"), "text-bg-warning"),
}


def _plan_page(upgrade, planned, choices: dict[str, str], consent: bool) -> dict[str, Any]:
    schema = {(p.kind, p.name): p.plan.as_json() for p in planned if p.plan is not None}
    rows = []
    for plan in upgrade.plans:
        text, css = STATUS_TEXT[plan.status]
        rows.append(
            {
                "kind": plan.kind,
                "kind_label": kind_label(plan.kind),
                "name": plan.name,
                "status": plan.status,
                "status_text": str(text),
                "css": css,
                "changes": plan.changes,
                "schema": schema.get((plan.kind, plan.name)),
                "conflicts": [
                    {
                        "key": plan.choice_key(c),
                        "path": c.path,
                        "chosen": choices.get(plan.choice_key(c), "local"),
                        "sides": [(side, _show(getattr(c, side))) for side in ("base", "local", "new")],
                    }
                    for c in plan.conflicts
                ],
            }
        )
    return {
        "to_version": upgrade.to_version,
        "rows": rows,
        "counts": {s: sum(1 for r in rows if r["status"] == s) for s in STATUS_TEXT},
        "changing": sum(1 for r in rows if r["changes"]),
        "conflicts": upgrade.conflicts,
        "consent": consent,
        "lossy": any((r["schema"] or {}).get("needs_consent") for r in rows),
    }


def _show(value: Any) -> str:
    if value is MISSING:
        return _("(absent)")
    return dumps(value, indent=1) if isinstance(value, dict | list) else str(value)
