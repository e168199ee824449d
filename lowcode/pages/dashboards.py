"""Dashboard pages: ``/a/<app>/dashboards`` (the dashboards the reader may open) and
``/a/<app>/dashboards/<name>`` (the shared parameter form as GET, each widget the reader may see), and the
link picker of a dashboard's link parameter."""

from __future__ import annotations

from flask import render_template, request

from lowcode.api.edge import unit_of_work
from lowcode.core.texts import Text
from lowcode.errors import PermissionDenied
from lowcode.pages.blueprint import bp
from lowcode.pages.dashboard_view import dashboard_links, dashboard_page_model
from lowcode.pages.i18n import current_language
from lowcode.pages.navigation import app_nav
from lowcode.pages.picker import options_response, param_options, search_text
from lowcode.pages.report_services import dashboard_service


@bp.get("/a/<app>/dashboards")
def dashboard_list(app: str):
    """The app's dashboards the reader may open (403 for a reader who may open none, administrators aside)."""
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        links = dashboard_links(ctx, dashboard_service(), app, lang)
        if not links and not ctx.actor.is_admin:
            raise PermissionDenied(
                Text("{user} may open no dashboard of the app '{app}'", user=ctx.actor.username, app=app)
            )
        nav = app_nav(ctx, app, lang)
    return render_template("pages/dashboards.html", nav=nav, links=links)


@bp.get("/a/<app>/dashboards/<name>")
def dashboard_page(app: str, name: str):
    """One dashboard: its parameter form and widgets."""
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        model = dashboard_page_model(ctx, dashboard_service(), app, name, request.args, lang)
        nav = app_nav(ctx, app, lang)
    return render_template("pages/dashboard.html", nav=nav, m=model), 400 if model["error"] else 200


@bp.get("/a/<app>/dashboards/<name>/options/<param>")
def dashboard_options(app: str, name: str, param: str):
    """The link picker's JSON for a dashboard's link parameter (the target's records the reader may read)."""
    q = search_text()
    with unit_of_work(write=False, source="page") as ctx:
        dashboard = dashboard_service().dashboard(ctx, app, name)
        declared = next((p for p in dashboard.params if p.name == param), None)
        body = param_options(ctx, app, param, declared, q)
    return options_response(body)
