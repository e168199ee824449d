"""``/api/reports/<app>``: the reports the caller may run; ``/api/reports/<app>/<name>?param.x=...``: one run
as JSON (decimals as exact strings). A parameter that does not fit is a 400 naming it; a report the caller has
no grant for, or that reads data or fields hidden from them, a 403 (docs/REPORTS.md)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from lowcode.api.edge import services, unit_of_work
from lowcode.fields.base import normalise_label
from lowcode.reports.cache import CachedReportService
from lowcode.reports.params import params_from_query

bp = Blueprint("api_reports", __name__, url_prefix="/api/reports")


def report_service() -> CachedReportService:
    """The report service over the app's permission service and result cache."""
    return CachedReportService(services().permissions, services().report_cache)


@bp.get("/<app>")
def list_reports(app: str):
    """The app's published reports the caller may run."""
    with unit_of_work(write=False) as ctx:
        ctx.snapshot.app(app)
        found = report_service().runnable(ctx, app, required=True)
        data = [
            {
                "name": r.name,
                "label": normalise_label(r.label, r.name),
                "source": r.source,
                "params": [{"name": p.name, "type": p.type, "required": p.required} for p in r.params],
            }
            for r in found
        ]
    return jsonify({"data": data})


@bp.get("/<app>/<name>")
def run_report(app: str, name: str):
    """One run of a report with ``param.<name>`` (a date range: ``param.<name>.from`` / ``.to``)."""
    with unit_of_work(write=False) as ctx:
        result = report_service().run(ctx, app, name, params_from_query(request.args))
        body = result.to_json()
    return jsonify(body)
