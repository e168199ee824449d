"""The report designer (app designers only): ``/design/<app>/reports`` lists the app's reports and makes a new
one (name, source table); ``/design/<app>/reports/<name>`` edits one as JSON with its problems by JSON path
(the publish's own checks), undo/redo over its draft steps, and a preview - the draft run now with the
parameters given, on what the designer may read. Published through the app's publish page. A visual builder
is a later step."""

from __future__ import annotations

import re
import time

from flask import redirect, render_template, request, url_for

from lowcode.api.edge import services
from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.core.texts import Text
from lowcode.designer.blueprint import DesignContext, bp, design_work, posted_base
from lowcode.designer.checks import problems_by_path
from lowcode.designer.report_advice import advice_model
from lowcode.designer.report_page import KIND, checked_report, report_list, starter
from lowcode.errors import BadRequest, DefinitionInvalid, LowcodeError
from lowcode.pages.i18n import current_language
from lowcode.pages.report_view import table_model
from lowcode.reports.params import params_from_query
from lowcode.reports.service import ReportService

NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_BODY_CHARS = 100_000


def _tables(dc: DesignContext) -> list[str]:
    return sorted(dc.workspace.entities())


@bp.get("/<app>/reports")
def reports(app: str):
    """The app's reports and the form of a new one."""
    with design_work(app) as dc:
        return _render_list(dc, {}, 200)


def _render_list(dc: DesignContext, errors: dict, status: int):
    page = {
        "app": dc.workspace.app,
        "reports": report_list(dc, current_language()),
        "tables": _tables(dc),
        "errors": errors,
        "posted": request.form if errors else {},
    }
    return render_template("designer/reports.html", p=page), status


@bp.post("/<app>/reports")
def create_report(app: str):
    """A new report's first draft (a count of the source's records), then its page."""
    with design_work(app) as dc:
        name, source = request.form.get("name", "").strip(), request.form.get("source", "")
        errors: dict[str, list] = {}
        if not NAME.match(name) or name in dc.workspace.docs.get(KIND, {}):
            errors["name"] = [Text("Choose another name: lower-case letters, digits and _, not taken")]
        if source not in _tables(dc):
            errors["source"] = [Text("Choose a table")]
        if errors:
            return _render_list(dc, errors, 422)
        dc.history.create(KIND, name, starter(name, source), "created")
        dc.audit(KIND, name, "created")
    return redirect(url_for("designer.report", app=app, name=name), 303)


def _page(dc: DesignContext, name: str, **extra):
    state = dc.history.state(KIND, name)
    problems: list[tuple[str, str]] = extra.pop("problems", None) or []
    preview, preview_error, advice = None, None, None
    if not problems:
        try:
            compiled = checked_report(dc.ctx, dc.workspace.app, name, state.body)
        except DefinitionInvalid as exc:
            problems = problems_by_path(exc.fields, KIND, name)
        else:
            service = ReportService(services().permissions)
            given, elapsed_ms = params_from_query(request.args), None
            try:
                service.authorize_data(dc.ctx, compiled)
                started = time.perf_counter()
                result = service.run_compiled(dc.ctx, compiled, given)
                elapsed_ms = (time.perf_counter() - started) * 1000
                preview = table_model(result, compiled, current_language())
                slow_runs = services().report_cache.slow_runs
                advice = advice_model(dc, service, compiled, given, elapsed_ms, slow_runs)
            except LowcodeError as exc:
                preview_error = str(exc)
    page = {
        "app": dc.workspace.app,
        "name": name,
        "state": state,
        "text": extra.pop("text", None) or dumps(state.body, indent=2),
        "problems": problems,
        "preview": preview,
        "preview_error": preview_error,
        "advice": advice,
        "published_url": url_for("pages.report_page", app=dc.workspace.app, name=name)
        if state.published_version
        else None,
        **extra,
    }
    return render_template("designer/report.html", p=page)


@bp.get("/<app>/reports/<name>")
def report(app: str, name: str):
    """One report: JSON editor, problems, undo/redo and the preview (``?param.x=`` as on the report page)."""
    with design_work(app) as dc:
        return _page(dc, name)


@bp.post("/<app>/reports/<name>")
def save_report(app: str, name: str):
    """Save the posted JSON as the next draft step (refused with its problems, nothing saved)."""
    with design_work(app) as dc:
        dc.history.state(KIND, name)  # 404 before anything else
        text = request.form.get("body", "")
        try:
            if len(text) > MAX_BODY_CHARS:
                raise BadRequest(f"The report is longer than {MAX_BODY_CHARS} characters")
            body = loads_exact(text)
        except (BadRequest, ValueError) as exc:
            return _page(dc, name, text=text, problems=[("/", str(getattr(exc, "message", exc)))]), 422
        try:
            dc.history.edit(KIND, name, posted_base(), body, "edited as JSON")
        except DefinitionInvalid as exc:
            return _page(dc, name, text=text, problems=problems_by_path(exc.fields, KIND, name)), 422
        dc.audit(KIND, name, "edited as JSON")
    return redirect(url_for("designer.report", app=app, name=name), 303)


@bp.post("/<app>/reports/<name>/undo")
def undo_report(app: str, name: str):
    """Undo the last step of the report's draft."""
    with design_work(app) as dc:
        dc.walk(KIND, name, "undo")
    return redirect(url_for("designer.report", app=app, name=name), 303)


@bp.post("/<app>/reports/<name>/redo")
def redo_report(app: str, name: str):
    """Redo the step undone last."""
    with design_work(app) as dc:
        dc.walk(KIND, name, "redo")
    return redirect(url_for("designer.report", app=app, name=name), 303)
