"""The dashboard designer (app designers only): ``/design/<app>/dashboards`` lists the app's dashboards and
makes a new one (name, first report); ``/design/<app>/dashboards/<name>`` shows the widgets as cards laid out
by drag and drop (SortableJS; the order, widths and chart types posted as one layout), adds and removes
widgets, and edits the whole definition as JSON (the shared parameters) - every change a draft step (undo/redo;
409 on a stale step), the problems by JSON path. Published through the app's publish page."""

from __future__ import annotations

import re

from flask import redirect, render_template, request, url_for

from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.core.texts import Text
from lowcode.designer.blueprint import DesignContext, bp, design_work, posted_base
from lowcode.designer.dashboard_page import (
    KIND,
    WIDTHS,
    chart_choices,
    dashboard_list,
    draft_problems,
    laid_out,
    report_choices,
    starter,
    widget_cards,
    with_widget,
    without_widget,
)
from lowcode.errors import BadRequest, DefinitionInvalid
from lowcode.pages.i18n import current_language

NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_BODY_CHARS = 100_000


@bp.get("/<app>/dashboards")
def dashboards(app: str):
    """The app's dashboards and the form of a new one."""
    with design_work(app) as dc:
        return _render_list(dc, {}, 200)


def _render_list(dc: DesignContext, errors: dict, status: int):
    page = {
        "app": dc.workspace.app,
        "dashboards": dashboard_list(dc, current_language()),
        "reports": report_choices(dc, current_language()),
        "errors": errors,
        "posted": request.form if errors else {},
    }
    return render_template("designer/dashboards.html", p=page), status


@bp.post("/<app>/dashboards")
def create_dashboard(app: str):
    """A new dashboard's first draft (one widget of the chosen report), then its page."""
    with design_work(app) as dc:
        name, report = request.form.get("name", "").strip(), request.form.get("report", "")
        reports = dc.workspace.docs.get("report", {})
        errors: dict[str, list] = {}
        if not NAME.match(name) or name in dc.workspace.docs.get(KIND, {}):
            errors["name"] = [Text("Choose another name: lower-case letters, digits and _, not taken")]
        if report not in reports:
            errors["report"] = [Text("Choose a report of the app")]
        if errors:
            return _render_list(dc, errors, 422)
        dc.history.create(KIND, name, starter(name, report, reports[report]), "created")
        dc.audit(KIND, name, "created")
    return redirect(url_for("designer.dashboard", app=app, name=name), 303)


def _page(dc: DesignContext, name: str, status: int = 200, **extra):
    state = dc.history.state(KIND, name)
    language = current_language()
    reports = dict(report_choices(dc, language))
    problems = extra.pop("problems", None) or draft_problems(dc, name, state.body)
    page = {
        "app": dc.workspace.app,
        "name": name,
        "state": state,
        "cards": widget_cards(state.body, reports, language),
        "reports": sorted(reports.items()),
        "chart_types": chart_choices(),
        "widths": WIDTHS,
        "text": extra.pop("text", None) or dumps(state.body, indent=2),
        "problems": problems,
        "published_url": url_for("pages.dashboard_page", app=dc.workspace.app, name=name)
        if state.published_version
        else None,
        **extra,
    }
    return render_template("designer/dashboard.html", p=page), status


@bp.get("/<app>/dashboards/<name>")
def dashboard(app: str, name: str):
    """One dashboard: its widget cards, the JSON, problems, undo/redo."""
    with design_work(app) as dc:
        return _page(dc, name)


def _edit(dc: DesignContext, name: str, body: dict, summary: str):
    """Save ``body`` as the next draft step (409 on a stale step; 422 with the schema's problems)."""
    try:
        dc.history.edit(KIND, name, posted_base(), body, summary)
    except DefinitionInvalid as exc:
        problems = [
            (p.removeprefix(f"{KIND}:{name}/"), str(m)) for p, ms in sorted(exc.fields.items()) for m in ms
        ]
        return _page(dc, name, 422, problems=problems)
    dc.audit(KIND, name, summary)
    return None


@bp.post("/<app>/dashboards/<name>/layout")
def save_layout(app: str, name: str):
    """The widgets in the order dragged, with their widths and chart types, as the next draft step."""
    with design_work(app) as dc:
        body = dc.history.state(KIND, name).body
        form = request.form
        refused = _edit(
            dc,
            name,
            laid_out(body, form.getlist("order"), form.getlist("width"), form.getlist("chart")),
            "laid out",
        )
        if refused:
            return refused
    return redirect(url_for("designer.dashboard", app=app, name=name), 303)


@bp.post("/<app>/dashboards/<name>/widgets")
def add_widget(app: str, name: str):
    """A widget of the chosen report added at the end."""
    with design_work(app) as dc:
        body = dc.history.state(KIND, name).body
        reports = dict(report_choices(dc, current_language()))
        new = with_widget(body, request.form.get("report", ""), request.form.get("chart", ""), reports)
        refused = _edit(dc, name, new, "widget added")
        if refused:
            return refused
    return redirect(url_for("designer.dashboard", app=app, name=name), 303)


@bp.post("/<app>/dashboards/<name>/widgets/<int:index>/delete")
def remove_widget(app: str, name: str, index: int):
    """The widget ``index`` removed."""
    with design_work(app) as dc:
        body = dc.history.state(KIND, name).body
        refused = _edit(dc, name, without_widget(body, index), "widget removed")
        if refused:
            return refused
    return redirect(url_for("designer.dashboard", app=app, name=name), 303)


@bp.post("/<app>/dashboards/<name>")
def save_dashboard(app: str, name: str):
    """Save the posted JSON as the next draft step (refused with its problems, nothing saved)."""
    with design_work(app) as dc:
        dc.history.state(KIND, name)  # 404 before anything else
        text = request.form.get("body", "")
        try:
            if len(text) > MAX_BODY_CHARS:
                raise BadRequest(f"The dashboard is longer than {MAX_BODY_CHARS} characters")
            body = loads_exact(text)
        except (BadRequest, ValueError) as exc:
            return _page(dc, name, 422, text=text, problems=[("/", str(getattr(exc, "message", exc)))])
        try:
            dc.history.edit(KIND, name, posted_base(), body, "edited as JSON")
        except DefinitionInvalid as exc:
            problems = [
                (p.removeprefix(f"{KIND}:{name}/"), str(m))
                for p, ms in sorted(exc.fields.items())
                for m in ms
            ]
            return _page(dc, name, 422, text=text, problems=problems)
        dc.audit(KIND, name, "edited as JSON")
    return redirect(url_for("designer.dashboard", app=app, name=name), 303)


@bp.post("/<app>/dashboards/<name>/undo")
def undo_dashboard(app: str, name: str):
    """Undo the last step of the dashboard's draft."""
    with design_work(app) as dc:
        dc.walk(KIND, name, "undo")
    return redirect(url_for("designer.dashboard", app=app, name=name), 303)


@bp.post("/<app>/dashboards/<name>/redo")
def redo_dashboard(app: str, name: str):
    """Redo the step undone last."""
    with design_work(app) as dc:
        dc.walk(KIND, name, "redo")
    return redirect(url_for("designer.dashboard", app=app, name=name), 303)
