"""``compile_dashboard``: a dashboard definition checked against the app's reports and bound into a
:class:`CompiledDashboard` - its shared parameters (the report parameter types), and per widget the report,
the chart (the widget's, else the report's own) and which dashboard parameter feeds each report parameter.
The same function is the publish check (against the report documents the publish will have) and the
snapshot's compile (against the published ones), so both agree."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from lowcode.errors import LowcodeError
from lowcode.reports.chart import chart_errors
from lowcode.reports.params import Param, param_from_doc

DEFAULT_WIDTH = 6


class DashboardInvalid(LowcodeError):
    """A dashboard that does not fit its app's reports; ``fields``: JSON path -> messages."""

    def __init__(self, fields: Mapping[str, list[str]]):
        super().__init__("The dashboard has problems")
        self.fields = dict(fields)


@dataclass(frozen=True)
class Widget:
    """One report on the dashboard."""

    report: str
    title: Any
    chart: Mapping[str, Any] | None
    """The widget's own chart (None: the report's chart, else its table)."""
    width: int
    feeds: Mapping[str, str] = field(default_factory=dict)
    """Report parameter -> the dashboard parameter whose value it takes."""


@dataclass(frozen=True)
class CompiledDashboard:
    """A dashboard ready to show (see :class:`~lowcode.dashboards.service.DashboardService`)."""

    app: str
    name: str
    label: Any
    params: tuple[Param, ...]
    widgets: tuple[Widget, ...]
    version: int = 0

    @property
    def reports(self) -> list[str]:
        """The reports the widgets show (in order, each once)."""
        return list(dict.fromkeys(w.report for w in self.widgets))


def compile_dashboard(
    app: str,
    doc: Mapping[str, Any],
    reports: Mapping[str, Mapping[str, Any]],
    entities: Set[str],
    version: int = 0,
) -> CompiledDashboard:
    """Check and bind ``doc`` against the app's report documents (``reports``: name -> document) and entity
    names. :raises DashboardInvalid: with every problem at its JSON path."""
    errors: dict[str, list[str]] = {}
    params = _params(doc, entities, errors)
    by_name = {p.name: p for p in params}
    widgets = [_widget(i, w, reports, by_name, errors) for i, w in enumerate(doc.get("widgets") or [])]
    if errors:
        raise DashboardInvalid(errors)
    return CompiledDashboard(app, doc["name"], doc.get("label"), params, tuple(widgets), version)


def _params(doc: Mapping[str, Any], entities: Set[str], errors: dict[str, list[str]]) -> tuple[Param, ...]:
    params, seen = [], set()
    for i, p in enumerate(doc.get("params") or []):
        if p["name"] in seen:
            errors.setdefault(f"params/{i}/name", []).append(f"'{p['name']}' is declared twice")
            continue
        seen.add(p["name"])
        try:
            param = param_from_doc(p)
        except ValueError as exc:
            errors.setdefault(f"params/{i}", []).append(str(exc))
            continue
        if param.entity and param.entity not in entities:
            errors.setdefault(f"params/{i}/entity", []).append(f"unknown entity '{param.entity}'")
        params.append(param)
    return tuple(params)


def _widget(
    i: int,
    doc: Mapping[str, Any],
    reports: Mapping[str, Mapping[str, Any]],
    params: Mapping[str, Param],
    errors: dict[str, list[str]],
) -> Widget | None:
    at = f"widgets/{i}"
    report = reports.get(doc["report"])
    if report is None:
        errors.setdefault(f"{at}/report", []).append(f"unknown report '{doc['report']}'")
        return None
    dims, measures, pivot = report.get("dimensions", []), report.get("measures", []), report.get("pivot")
    for path, messages in chart_errors(doc.get("chart"), dims, measures, pivot).items():
        errors.setdefault(f"{at}/chart" + (f"/{path}" if path else ""), []).extend(messages)
    declared = {p["name"]: p for p in report.get("params") or []}
    mapped = dict(doc.get("params") or {})
    feeds = {}
    for name in declared:
        source = mapped.get(name, name if name in params else None)
        if source is not None:
            feeds[name] = source
    for name, source in mapped.items():
        if name not in declared:
            errors.setdefault(f"{at}/params/{name}", []).append(
                f"the report '{doc['report']}' has no parameter '{name}'"
            )
        elif source not in params:
            errors.setdefault(f"{at}/params/{name}", []).append(f"the dashboard has no parameter '{source}'")
    for name, source in feeds.items():
        theirs, ours = declared[name], params.get(source)
        if ours is None or name not in declared:
            continue
        if ours.type != theirs["type"] or (ours.entity or None) != (theirs.get("entity") or None):
            errors.setdefault(f"{at}/params/{name}", []).append(
                f"the dashboard's '{source}' ({ours.type}) cannot feed the report's '{name}' ({theirs['type']})"
            )
    for name, p in declared.items():
        if p.get("required") and p.get("default") is None and name not in feeds:
            errors.setdefault(f"{at}/params", []).append(
                f"the report's required parameter '{name}' is fed by no dashboard parameter"
            )
    return Widget(doc["report"], doc.get("title"), doc.get("chart"), doc.get("width", DEFAULT_WIDTH), feeds)
