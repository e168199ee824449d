"""``/api/templates``: import a template bundle, export an app as a bundle."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from lowcode.api.edge import json_body, services, unit_of_work
from lowcode.core.jsonutil import to_jsonable
from lowcode.definitions.templates import export_bundle, install_bundle

bp = Blueprint("api_templates", __name__, url_prefix="/api/templates")


@bp.post("/import")
def import_template():
    """Install a bundle (definitions published together, then demo data unless ``?demo=0``)."""
    bundle = json_body()
    with unit_of_work(write=True) as ctx:
        services().permissions.authorize_platform(ctx.actor, "import templates")
        svc = services()
        summary = install_bundle(
            ctx,
            svc.records,
            svc.snapshots,
            bundle,
            with_demo=request.args.get("demo") != "0",
            settings=svc.settings,
        )
    return jsonify(summary), 201


@bp.get("/export/<app>")
def export_template(app: str):
    """The app's published definitions as a bundle."""
    with unit_of_work(write=False) as ctx:
        services().permissions.authorize_platform(ctx.actor, "export templates")
        bundle = export_bundle(ctx.session, app)
    return jsonify(to_jsonable(bundle))
