"""Read-only pages: the apps, an app's home, a list, a record's detail with its history."""

from __future__ import annotations

from flask import render_template, request

from lowcode.api.edge import services, unit_of_work
from lowcode.pages.blueprint import bp
from lowcode.pages.dryrun import detail_rules_model
from lowcode.pages.i18n import current_language
from lowcode.pages.listing import ListParams, list_model
from lowcode.pages.saved_views import views_model
from lowcode.pages.viewmodels import app_list, app_nav, detail_model, home_model
from lowcode.query_costs import costly_query


def is_htmx_partial() -> bool:
    """Whether htmx asked for a fragment (not a boosted navigation or a history restore)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and not headers.get("HX-Boosted")
        and not headers.get("HX-History-Restore-Request")
    )


@bp.get("/")
def index():
    """The apps the user can see."""
    with unit_of_work(write=False, source="page") as ctx:
        apps = app_list(ctx, current_language())
    return render_template("pages/index.html", apps=apps)


@bp.get("/a/<app>")
def app_home(app: str):
    """An app's menu with the number of records of each entity."""
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        nav = app_nav(ctx, app, lang)
        model = home_model(ctx, app, lang)
    return render_template("pages/app_home.html", nav=nav, m=model)


@bp.get("/a/<app>/<entity>")
@costly_query
def list_view(app: str, entity: str):
    """A list with search, a simple filter, sortable columns and "load more" keyset paging.

    htmx requests get the table (``pages/_table.html``: rows and totals, replacing the table after a search
    or filter) or, for the next page, only its rows (``pages/_rows.html``, replacing the "load more" row)."""
    lang = current_language()
    params = ListParams.from_args(request.args, services().settings["MAX_PAGE_SIZE"])
    with unit_of_work(write=False, source="page") as ctx:
        model = list_model(ctx, app, entity, params, lang)
        nav = None if is_htmx_partial() else app_nav(ctx, app, lang)
        saved = None if is_htmx_partial() else views_model(ctx, model["entity"], params)
    status = 400 if model["error"] else 200
    if is_htmx_partial():
        partial = "pages/_rows.html" if params.after else "pages/_table.html"
        return render_template(partial, m=model), status
    return render_template("pages/list.html", m=model, nav=nav, sv=saved), status


@bp.get("/a/<app>/<entity>/<int:record_id>")
def detail(app: str, entity: str, record_id: int):
    """A record: each field's value, its child rows, its history; edit, delete or restore."""
    lang = current_language()
    with unit_of_work(write=False, source="page") as ctx:
        model = detail_model(ctx, app, entity, record_id, lang)
        nav = app_nav(ctx, app, lang)
        rules = detail_rules_model(ctx, app, entity, record_id, lang)
    return render_template("pages/detail.html", m=model, nav=nav, rules=rules)
