"""The report page's model: the parameter form (inputs by type; a link parameter as the link picker), the
result table formatted for the reader's language (numbers in each measure's style, select values by their
labels, pivot values as a header row over their measures), subtotal / others / total rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from lowcode.core.number_styles import format_number
from lowcode.errors import BadRequest
from lowcode.pages.display import record_title
from lowcode.pages.report_chart import chart_model, drill_url, label
from lowcode.reports.chart import chart_spec
from lowcode.reports.highlights import highlights
from lowcode.reports.model import CompiledReport
from lowcode.reports.params import Param, params_from_query
from lowcode.reports.result import ReportResult, ResultColumn, ResultRow
from lowcode.reports.service import ReportService
from lowcode.runtime.context import WriteContext


def report_links(ctx: WriteContext, service: ReportService, app: str, language: str) -> list[dict[str, str]]:
    """The "Reports" menu: the app's reports the reader may run."""
    return [
        {
            "name": r.name,
            "label": label(r.label, language, r.name),
            "url": url_for("pages.report_page", app=app, name=r.name),
        }
        for r in service.runnable(ctx, app)
    ]


def report_page_model(
    ctx: WriteContext, service: ReportService, app: str, name: str, args: Mapping[str, str], language: str
) -> dict[str, Any]:
    """The page: the form and, unless a parameter does not fit (``error``), the result."""
    report = ctx.snapshot.report(app, name)
    service.authorize(ctx, report)
    given = params_from_query(args)
    model: dict[str, Any] = {
        "report": report,
        "title": label(report.label, language, report.name),
        "error": None,
    }
    try:
        result = service.run(ctx, app, name, given)
    except BadRequest as exc:
        model["error"] = str(exc)
        model["errors"] = exc.fields or {}
        model["form"] = _form(ctx, report, given, {}, language)
        model["table"] = None
        model["chart"] = None
        return model
    model["form"] = _form(ctx, report, given, result.params, language)
    drill = drill_url(report, result.params)
    model["table"] = table_model(result, report, language, drill)
    spec = chart_spec(report.definition.get("chart"), report.dimensions, report.measures, report.pivot)
    model["chart"] = chart_model(result, report, spec, language, drill) if spec.type != "table" else None
    return model


def _form(ctx: WriteContext, report: CompiledReport, given, values, language: str) -> list[dict[str, Any]]:
    def picker(p: Param) -> str:
        return url_for("pages.report_options", app=report.app, name=report.name, param=p.name)

    return param_inputs(ctx, report.app, report.params, given, values, language, picker)


def param_inputs(
    ctx: WriteContext, app: str, params, given, values, language: str, picker
) -> list[dict[str, Any]]:
    """The parameter form's inputs (a report's or a dashboard's): each parameter's label, type and value as
    given or read (``values``; defaults filled), a link parameter's picker address (``picker(param)``) and the
    chosen record's title."""
    inputs = []
    for p in params:
        value = values.get(p.name)
        raw = given.get(p.name)
        entry = {
            "name": p.name,
            "type": p.type,
            "label": label(p.label, language, p.name),
            "required": p.required,
        }
        if p.type == "date_range":
            pair = value or (raw if isinstance(raw, dict) else {})
            entry["from"] = _text(pair.get("from"))
            entry["to"] = _text(pair.get("to"))
        elif p.type == "choice":
            entry["value"] = _text(value if value is not None else raw)
            entry["choices"] = [(v, label(lab, language, v)) for v, lab in p.choices]
        elif p.type == "link":
            entry["value"] = _text(value if value is not None else raw)
            entry["title"] = _link_title(ctx, app, p, value, language)
            entry["picker"] = picker(p)
        elif p.type == "days_ago":  # the number of days as typed (the run reads it as a date)
            entry["value"] = _text(raw if raw not in (None, "") else p.default)
        else:
            entry["value"] = _text(value if value is not None else raw)
        inputs.append(entry)
    return inputs


def _link_title(ctx: WriteContext, app: str, p: Param, value: Any, language: str) -> str:
    if value is None:
        return ""
    from lowcode.api.edge import services

    target = ctx.snapshot.entity(app, p.entity)
    try:
        record = services().queries.get(ctx, app, target.name, value)
    except Exception:  # noqa: BLE001 - a record the reader may not read (or none) shows as its id
        return f"#{value}"
    return record_title(target, record, language)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def table_model(result: ReportResult, report: CompiledReport, language: str, drill=None) -> dict[str, Any]:
    """The result table formatted for ``language`` (also the designer's preview); ``drill(cell)`` gives each
    measure cell the address of the records behind it (none for "others")."""
    dims = [c for c in result.columns if c.role == "dimension"]
    measures = [c for c in result.columns if c.role == "measure"]
    names = {m.name: label(m.label, language, m.name) for m in report.shown_measures}
    groups = []
    if result.pivot is not None:
        width = len(report.measures)
        for value in result.pivot_header:
            groups.append({"label": _pivot_label(report, value, language), "span": width})
        groups.append({"label": _("Total"), "span": width})
    head = [{"label": label(c.label, language, c.key), "numeric": False} for c in dims]
    head += [{"label": names.get(c.measure, c.key), "numeric": True} for c in measures]
    marks = {m.name: highlights.get(m.highlight) for m in report.shown_measures if m.highlight}
    rows = [
        _row(r, dims, measures, language, _drills(result, report, r, measures, drill), marks)
        for r in result.rows
    ]
    totals = None
    if result.totals:
        drills = _drills(result, report, result.totals, measures, drill)
        totals = _row(result.totals, dims, measures, language, drills, marks)
    return {
        "groups": groups,
        "dim_count": len(dims),
        "head": head,
        "rows": rows,
        "totals": totals,
        "truncated": result.truncated,
    }


def _pivot_label(report: CompiledReport, value: Any, language: str) -> str:
    dim = report.pivot_dimension
    if value is None:
        return _("(empty)")
    choices = {
        str(c.get("value")): c.get("label")
        for c in (
            dim.path.compiled.fdef.options.get("choices", []) if dim.path.compiled and not dim.bucket else []
        )
        if isinstance(c, dict)
    }
    return label(choices.get(str(value)), language, str(value)) if str(value) in choices else str(value)


def _drills(result: ReportResult, report: CompiledReport, row: ResultRow, measures, drill) -> list[Any]:
    """Each measure cell's drill-down address (its row's dimension values, and its pivot value)."""
    if drill is None or row.level == "others":
        return [None] * len(measures)
    out = []
    for c in measures:
        cell = dict(row.cell)
        if c.pivot_index is not None and c.pivot_index != "total":
            cell[report.pivot] = result.pivot_header[c.pivot_index]
        out.append(drill(cell))
    return out


def _row(
    row: ResultRow,
    dims: list[ResultColumn],
    measures: list[ResultColumn],
    language: str,
    drills: list[Any],
    marks=None,
) -> dict[str, Any]:
    cells = []
    for i, c in enumerate(dims):
        value = row.values.get(c.key)
        if row.level == "total" and i == 0:
            text = _("Total")
        elif row.level == "others" and i == 0:
            text = _("Others")
        elif row.level == "subtotal" and i == 1:
            text = _("Subtotal")
        elif value is None:
            text = "" if row.level != "row" else _("(empty)")
        elif str(value) in c.choices:
            text = label(c.choices[str(value)], language, str(value))
        else:
            text = _text(value)
        cells.append({"text": text, "numeric": False})
    for c, link in zip(measures, drills, strict=True):
        value = row.values.get(c.key)
        text = format_number(value, c.style, language) if c.style is not None else _text(value)
        mark = (marks or {}).get(c.measure or "")
        cells.append(
            {
                "text": text,
                "numeric": True,
                "flag": bool(mark and mark(value)),
                "drill": link if value is not None else None,
            }
        )
    return {"level": row.level, "cells": cells}
