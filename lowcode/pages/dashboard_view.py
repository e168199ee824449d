"""The dashboard page's model: the shared parameter form, then each widget the reader may see - its title,
its width in the grid, and its report's result drawn as the widget's chart (or the report's own, else its
table), every cell and point with its drill-down address; a widget's own error shown in its place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import url_for

from lowcode.dashboards.model import CompiledDashboard
from lowcode.dashboards.service import DashboardService, WidgetRun
from lowcode.errors import BadRequest
from lowcode.pages.report_chart import chart_model, drill_url, label, param_args
from lowcode.pages.report_view import param_inputs, table_model
from lowcode.reports.chart import chart_spec
from lowcode.reports.params import Param, params_from_query
from lowcode.runtime.context import WriteContext


def dashboard_links(
    ctx: WriteContext, service: DashboardService, app: str, language: str
) -> list[dict[str, str]]:
    """The "Dashboards" menu: the app's dashboards the reader may open."""
    return [
        {
            "name": d.name,
            "label": label(d.label, language, d.name),
            "url": url_for("pages.dashboard_page", app=app, name=d.name),
        }
        for d in service.openable(ctx, app)
    ]


def dashboard_page_model(
    ctx: WriteContext, service: DashboardService, app: str, name: str, args: Mapping[str, str], language: str
) -> dict[str, Any]:
    """The page: the form and, unless a shared parameter does not fit (``error``), the widgets."""
    dashboard = service.dashboard(ctx, app, name)
    given = params_from_query(args)
    model: dict[str, Any] = {"title": label(dashboard.label, language, name), "error": None, "widgets": []}
    try:
        run = service.run(ctx, app, name, given)
    except BadRequest as exc:
        model["error"] = str(exc)
        model["form"] = _form(ctx, dashboard, given, {}, language)
        return model
    model["form"] = _form(ctx, dashboard, given, run.values, language)
    model["widgets"] = [_widget(w, language) for w in run.widgets]
    model["left_out"] = run.left_out
    model["charts"] = any(w["chart"] for w in model["widgets"])
    return model


def _form(
    ctx: WriteContext, dashboard: CompiledDashboard, given, values, language: str
) -> list[dict[str, Any]]:
    def picker(p: Param) -> str:
        return url_for("pages.dashboard_options", app=dashboard.app, name=dashboard.name, param=p.name)

    return param_inputs(ctx, dashboard.app, dashboard.params, given, values, language, picker)


def _widget(run: WidgetRun, language: str) -> dict[str, Any]:
    report, widget = run.report, run.widget
    model: dict[str, Any] = {
        "report": report.name,
        "title": label(widget.title or report.label, language, report.name),
        "width": widget.width,
        "error": run.error,
        "chart": None,
        "table": None,
        "url": url_for("pages.report_page", app=report.app, name=report.name),
    }
    if run.result is None:
        return model
    model["url"] = url_for(
        "pages.report_page", app=report.app, name=report.name, **param_args(run.result.params)
    )
    drill = drill_url(report, run.result.params)
    chart = widget.chart or report.definition.get("chart")
    spec = chart_spec(chart, report.dimensions, report.measures, report.pivot)
    if spec.type == "table":
        model["table"] = table_model(run.result, report, language, drill)
    else:
        model["chart"] = chart_model(run.result, report, spec, language, drill)
        model["chart"]["title"] = model["title"]
    return model
