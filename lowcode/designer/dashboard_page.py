"""What the dashboard designer pages show and change, without Flask: the app's dashboards, a new dashboard's
first draft, its widgets as cards (report, chart type, width), the layout posted by the drag-and-drop page
read into the next draft (order, widths, chart types; a widget added or removed), and the problems of the
draft by JSON path (the publish's own check, against the published reports)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l

from lowcode.core.texts import Text
from lowcode.dashboards.model import DEFAULT_WIDTH
from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.dashboard_checks import dashboard_errors
from lowcode.designer.blueprint import DesignContext
from lowcode.designer.checks import problems_by_path
from lowcode.errors import BadRequest
from lowcode.fields.base import normalise_label, pick_label
from lowcode.reports.chart import chart_types

KIND = "dashboard"
WIDTHS = (3, 4, 6, 8, 12)
CHART_LABELS = {
    "bar": _l("Bar chart"),
    "line": _l("Line chart"),
    "pie": _l("Pie chart"),
    "number": _l("Number card"),
    "table": _l("Table"),
}


def chart_choices() -> list[tuple[str, str]]:
    """The chart types a widget may choose: (name, label in the reader's language)."""
    return [(name, str(CHART_LABELS.get(name, name))) for name in chart_types]


def _label(value: Any, language: str, fallback: str) -> str:
    return pick_label(normalise_label(value, fallback), language, fallback) if value else fallback


def dashboard_list(dc: DesignContext, language: str) -> list[dict[str, Any]]:
    """The app's dashboards (drafts included), by name."""
    rows = []
    for name, body in sorted(dc.workspace.docs.get(KIND, {}).items()):
        state = dc.history.state(KIND, name)
        rows.append(
            {
                "name": name,
                "label": _label(body.get("label"), language, name),
                "widgets": len(body.get("widgets") or []),
                "pending": state.pending,
                "published": state.published_version,
            }
        )
    return rows


def report_choices(dc: DesignContext, language: str) -> list[tuple[str, str]]:
    """The app's reports (drafts included) a widget may show: (name, label)."""
    reports = dc.workspace.docs.get("report", {})
    return [(n, _label(b.get("label"), language, n)) for n, b in sorted(reports.items())]


def starter(name: str, report: str, report_doc: Mapping[str, Any]) -> dict[str, Any]:
    """A new dashboard's first draft: one widget of ``report``, its parameters shared as the dashboard's."""
    return {
        "schema_version": 1,
        "name": name,
        "label": {"en": name},
        "params": copy.deepcopy(list(report_doc.get("params") or [])),
        "widgets": [{"report": report, "width": DEFAULT_WIDTH}],
    }


def widget_cards(body: Mapping[str, Any], reports: Mapping[str, str], language: str) -> list[dict[str, Any]]:
    """The draft's widgets as the designer's cards."""
    cards = []
    for i, w in enumerate(body.get("widgets") or []):
        chart = w.get("chart")
        kind = chart.get("type") if isinstance(chart, Mapping) else None
        cards.append(
            {
                "index": i,
                "report": w.get("report", ""),
                "report_label": reports.get(w.get("report", ""), w.get("report", "")),
                "title": _label(w.get("title"), language, ""),
                "chart": kind or "",
                "width": w.get("width", DEFAULT_WIDTH),
            }
        )
    return cards


def _chart(kind: str, old: Any) -> dict[str, Any] | None:
    """A widget's chart of type ``kind`` ("" = the report's own), keeping x and series of the old one."""
    if not kind:
        return None
    if kind not in chart_types:
        raise BadRequest(f"Unknown chart type '{kind}'")
    kept = dict(old) if isinstance(old, Mapping) else {}
    kept["type"] = kind
    if not chart_types.get(kind).needs_x:
        kept.pop("x", None)
    if chart_types.get(kind).max_series == 1 and kept.get("series"):
        kept["series"] = kept["series"][:1]
    return kept


def _width(raw: str) -> int:
    try:
        width = int(raw)
    except ValueError:
        raise BadRequest("A widget's width is a whole number of grid columns") from None
    if width not in WIDTHS:
        raise BadRequest(f"A widget's width is one of {', '.join(map(str, WIDTHS))}")
    return width


def laid_out(
    body: Mapping[str, Any], order: Sequence[str], widths: Sequence[str], charts: Sequence[str]
) -> dict:
    """The draft with its widgets in the posted ``order`` (each the widget's index in the draft the page
    showed, every widget once), each with the posted width and chart type. :raises BadRequest:"""
    widgets = list(body.get("widgets") or [])
    try:
        indexes = [int(i) for i in order]
    except ValueError:
        raise BadRequest("The widget order names widgets by their number") from None
    if (
        sorted(indexes) != list(range(len(widgets)))
        or len(widths) != len(indexes)
        or len(charts) != len(indexes)
    ):
        raise BadRequest("The layout does not list every widget once: reload the designer")
    moved = []
    for i, width, kind in zip(indexes, widths, charts, strict=True):
        widget = dict(widgets[i])
        widget["width"] = _width(width)
        chart = _chart(kind, widget.get("chart"))
        if chart is None:
            widget.pop("chart", None)
        else:
            widget["chart"] = chart
        moved.append(widget)
    return {**body, "widgets": moved}


def with_widget(body: Mapping[str, Any], report: str, kind: str, known: Mapping[str, str]) -> dict:
    """The draft with a new widget of ``report`` at the end. :raises BadRequest:"""
    if report not in known:
        raise BadRequest(Text("Choose a report of the app"))
    widget: dict[str, Any] = {"report": report, "width": DEFAULT_WIDTH}
    chart = _chart(kind, None)
    if chart is not None:
        widget["chart"] = chart
    return {**body, "widgets": [*(body.get("widgets") or []), widget]}


def without_widget(body: Mapping[str, Any], index: int) -> dict:
    """The draft without its widget ``index``. :raises BadRequest:"""
    widgets = list(body.get("widgets") or [])
    if not 0 <= index < len(widgets):
        raise BadRequest("No such widget: reload the designer")
    return {**body, "widgets": widgets[:index] + widgets[index + 1 :]}


def draft_problems(dc: DesignContext, name: str, body: Any) -> list[tuple[str, str]]:
    """What the publish of the app's drafts would refuse in this dashboard, by JSON path."""
    return problems_by_path(dashboard_errors(body, AppDocuments(dc.workspace.docs)), KIND, name)
