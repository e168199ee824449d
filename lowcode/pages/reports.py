"""Report pages: ``/a/<app>/reports`` (the reports the reader may run) and ``/a/<app>/reports/<name>``
(parameters as a GET form, the result table; charts will take the place marked in the template), and the
link picker of a report's link parameter."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from lowcode.api.edge import unit_of_work
from lowcode.core.jsonutil import dumps
from lowcode.pages.blueprint import bp
from lowcode.pages.i18n import current_language
from lowcode.pages.navigation import app_nav
from lowcode.pages.picker import options_response, param_options, search_text
from lowcode.pages.report_export import export_model
from lowcode.pages.report_services import report_service
from lowcode.pages.report_view import report_links, report_page_model
from lowcode.reports.cells import read_cell
from lowcode.reports.params import params_from_query


@bp.get("/a/<app>/reports")
def report_list(app: str):
    """The app's reports the reader may run."""
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        service = report_service()
        links = report_links(ctx, service, app, lang)
        if not links:
            service.runnable(ctx, app, required=True)
        nav = app_nav(ctx, app, lang)
    return render_template("pages/reports.html", nav=nav, links=links)


@bp.get("/a/<app>/reports/<name>")
def report_page(app: str, name: str):
    """One report: its parameter form and result."""
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        model = report_page_model(ctx, report_service(), app, name, request.args, lang)
        model["export"] = export_model(ctx, app, name, request.args)
        nav = app_nav(ctx, app, lang)
    return render_template("pages/report.html", nav=nav, m=model), 400 if model["error"] else 200


@bp.get("/a/<app>/reports/<name>/options/<param>")
def report_options(app: str, name: str, param: str):
    """The link picker's JSON for a report's link parameter (the target's records the reader may read)."""
    q = search_text()
    with unit_of_work(write=False, source="page") as ctx:
        report = ctx.snapshot.report(app, name)
        report_service().authorize(ctx, report)
        body = param_options(ctx, app, param, report.param(param), q)
    return options_response(body)


@bp.get("/a/<app>/reports/<name>/drill")
def report_drill(app: str, name: str):
    """The records behind one cell of a run (``?param.x=...&cell={"dimension": value}``): the entity's list
    filtered to them (the reader's own permissions apply there as on every list)."""
    with unit_of_work(write=False, source="page") as ctx:
        report = ctx.snapshot.report(app, name)
        cell = read_cell(report, request.args.get("cell", ""))
        drill = report_service().drill_condition(ctx, report, params_from_query(request.args), cell)
    target = url_for("pages.list_view", app=app, entity=drill.entity, filter=dumps(drill.condition))
    return redirect(target, 303)
