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
from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.definitions.bundle_files import MAX_DEPTH, bundle_zip
from lowcode.definitions.bundle_service import export_file_name, import_bundle, read_bundle, upgrade_app
from lowcode.definitions.installs import installed
from lowcode.definitions.merge import MISSING
from lowcode.definitions.templates import export_bundle
from lowcode.designer.blueprint import bp
from lowcode.designer.labels import kind_label
from lowcode.errors import BadRequest, DefinitionInvalid, NotFound, PayloadTooLarge, SchemaChangeRefused
from lowcode.pages.security import require_csrf

REFUSALS = (BadRequest, DefinitionInvalid, PayloadTooLarge, SchemaChangeRefused)


def _problems(exc) -> list[str]:
    """Every problem of a refusal, one line each (``entities/product.json: $.fields[3].type: ...``)."""
    lines = [f"{place}: {message}" for place, messages in exc.fields.items() for message in messages]
    return lines or [str(exc.message)]


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


@bp.get("/<app>/upgrade")
def upgrade_page(app: str):
    """The upgrade form: where the app came from, and a bundle to upload."""
    with unit_of_work(write=False, source="page") as ctx:
        services().permissions.authorize_platform(ctx.actor, "import templates")
        install = installed(ctx.session, app)
        if install is None:
            raise NotFound(
                _("App %(app)s was not installed from a bundle: there is nothing to upgrade", app=app)
            )
        page = {"app": app, "template": install.template, "version": install.version, "stage": "upload"}
    return render_template("designer/upgrade.html", p=page)


@bp.post("/<app>/upgrade")
def upgrade_post(app: str):
    """``stage=plan`` (a file uploaded): the plan, nothing changed. ``stage=apply`` (the bundle carried by the
    plan page, the choices, the consent): save and publish, then back to the app."""
    require_csrf()
    stage = request.form.get("stage", "plan")
    with unit_of_work(write=True, source="page") as ctx:
        svc = services()
        svc.permissions.authorize_platform(ctx.actor, "import templates")
        install = installed(ctx.session, app)
        if install is None:
            raise NotFound(
                _("App %(app)s was not installed from a bundle: there is nothing to upgrade", app=app)
            )
        head = {"app": app, "template": install.template, "version": install.version}
        choices = {k[len("choice:") :]: v for k, v in request.form.items() if k.startswith("choice:")}
        consent = request.form.get("consent") == "1"
        try:
            with ctx.session.begin_nested():
                bundle = _posted_bundle(stage)
                upgrade, outcome = upgrade_app(
                    ctx, svc, app, bundle, choices, consent=consent, dry_run=stage != "apply"
                )
        except REFUSALS as exc:
            page = {**head, "stage": "upload", "problems": _problems(exc)}
            if stage == "apply" and isinstance(exc, SchemaChangeRefused | DefinitionInvalid):
                page["problems"].insert(0, _("Nothing was changed."))
            return render_template("designer/upgrade.html", p=page), 422
        if stage == "apply":
            return redirect(url_for("designer.app", app=app, published=len(outcome), upgraded=1), code=303)
        page = {**head, "stage": "plan", **_plan_page(upgrade, outcome, choices, consent)}
        page["bundle"] = dumps(bundle)
        return render_template("designer/upgrade.html", p=page)


def _posted_bundle(stage: str) -> dict[str, Any]:
    if stage == "apply":
        raw = request.form.get("bundle", "")
        if not raw:
            raise BadRequest(_("The plan page's bundle is missing: upload it again"))
        bundle = loads_exact(raw, MAX_DEPTH)
        if not isinstance(bundle, dict):
            raise BadRequest(_("The plan page's bundle is missing: upload it again"))
        return bundle
    return read_bundle(_uploaded())


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
