"""``/api/templates``: import a template bundle (JSON or zip, optionally under another app name), export an app
as a bundle (JSON or zip), upgrade an installed template to a newer bundle keeping the app's own changes.
Platform operations: ``import templates`` / ``export templates`` (administrators)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from lowcode.api.edge import services, unit_of_work
from lowcode.core.jsonutil import to_jsonable
from lowcode.definitions.bundle_files import bundle_zip
from lowcode.definitions.bundle_service import (
    export_file_name,
    import_bundle,
    plan_json,
    read_bundle,
    upgrade_app,
)
from lowcode.definitions.templates import export_bundle
from lowcode.errors import BadRequest

bp = Blueprint("api_templates", __name__, url_prefix="/api/templates")


@bp.post("/import")
def import_template():
    """Install a bundle - a JSON document or a zip - checked whole first (every problem by file and JSON path,
    nothing changed); ``?name=`` installs it under another app name; demo data unless ``?demo=0``."""
    with unit_of_work(write=True) as ctx:
        svc = services()
        svc.permissions.authorize_platform(ctx.actor, "import templates")
        bundle = read_bundle(request.get_data(cache=True))
        summary = import_bundle(ctx, svc, bundle, request.args.get("name"), request.args.get("demo") != "0")
    return jsonify(summary), 201


@bp.get("/export/<app>")
def export_template(app: str):
    """The app's published definitions as a bundle with its manifest; ``?format=zip`` as a zip of JSON files."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "zip"):
        raise BadRequest("format is json or zip")
    with unit_of_work(write=False) as ctx:
        services().permissions.authorize_platform(ctx.actor, "export templates")
        bundle = export_bundle(ctx.session, app, request.args.get("version") or None)
    if fmt == "zip":
        return Response(
            bundle_zip(bundle),
            mimetype="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{export_file_name(bundle)}"'},
        )
    return jsonify(to_jsonable(bundle))


@bp.post("/upgrade/<app>")
def upgrade_template(app: str):
    """Upgrade ``app`` to the bundle sent (JSON or zip): each definition three-way merged (installed version,
    local, new). ``?dry_run=1`` answers the plan only; conflicts keep the local value unless
    ``?choice=<kind>/<name>:<path>=new`` (or ``=base``) says otherwise; ``?consent=1`` consents to the lossy
    conversions of the schema plan; a bundle whose version is not newer than the installed one is a 409
    ``not_newer`` unless ``?force=1``."""
    with unit_of_work(write=True) as ctx:
        svc = services()
        svc.permissions.authorize_platform(ctx.actor, "import templates")
        bundle = read_bundle(request.get_data(cache=True))
        choices = _choices(request.args.getlist("choice"))
        dry_run = request.args.get("dry_run") == "1"
        upgrade, published = upgrade_app(
            ctx,
            svc,
            app,
            bundle,
            choices,
            consent=request.args.get("consent") == "1",
            dry_run=dry_run,
            force=request.args.get("force") == "1",
        )
        answer = plan_json(upgrade, published, dry_run)
    return jsonify(to_jsonable(answer)), 200


def _choices(raw: list[str]) -> dict[str, str]:
    choices = {}
    for item in raw:
        key, sep, side = item.rpartition("=")
        if not sep or side not in ("local", "new", "base"):
            raise BadRequest("choice is <kind>/<name>:<path>=local|new|base")
        choices[key] = side
    return choices
