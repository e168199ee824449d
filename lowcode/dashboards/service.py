"""``DashboardService``: who may open a dashboard (administrators, the app's admin roles, roles whose
``dashboards`` list names it) and what it shows a reader - the shared parameters read once, then each widget's
report run with the reader's permissions and the values its parameters are fed. A widget whose report the
reader may not run (no grant of the report, or data the reader may not read) is left out, not an error; a
widget whose run fails (a parameter its report refuses, a run too costly) shows its error alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lowcode.auth.permissions import PermissionService
from lowcode.core.texts import Text
from lowcode.dashboards.model import CompiledDashboard, Widget
from lowcode.errors import LowcodeError, NotFound, PermissionDenied
from lowcode.reports.model import CompiledReport
from lowcode.reports.params import jsonable, read_params
from lowcode.reports.result import ReportResult
from lowcode.reports.service import ReportService
from lowcode.runtime.context import WriteContext


@dataclass(frozen=True)
class WidgetRun:
    """One widget as the reader sees it: the run's result, or the error that stopped it."""

    widget: Widget
    report: CompiledReport
    result: ReportResult | None
    error: str | None


@dataclass(frozen=True)
class DashboardRun:
    """A dashboard shown: the shared parameters' values (defaults filled) and the widgets kept."""

    dashboard: CompiledDashboard
    values: dict[str, Any]
    widgets: list[WidgetRun]
    left_out: int
    """How many widgets the reader may not see."""


class DashboardService:
    """Opens published dashboards for a reader."""

    def __init__(self, permissions: PermissionService, reports: ReportService):
        self.permissions = permissions
        self.reports = reports
        """Runs the widgets' reports: pages pass the cached one, so a dashboard shares the report pages' cache."""

    def may_open(self, ctx: WriteContext, dashboard: CompiledDashboard) -> bool:
        """Administrators, the app's admin roles, and roles whose ``dashboards`` list names it."""
        if ctx.actor.is_admin or self._app_admin(ctx, dashboard.app):
            return True
        roles = ctx.actor.roles.get(dashboard.app, ())
        granted = (ctx.snapshot.roles.get((dashboard.app, r), {}).get("dashboards", ()) for r in roles)
        return any(dashboard.name in names for names in granted)

    def _app_admin(self, ctx: WriteContext, app: str) -> bool:
        info = ctx.snapshot.apps.get(app)
        entity = next(
            (
                ctx.snapshot.entities[(app, n)]
                for n in (info.entities if info else ())
                if (app, n) in ctx.snapshot.entities
            ),
            None,
        )
        return entity is not None and self.permissions.is_app_admin(ctx.actor, entity)

    def openable(self, ctx: WriteContext, app: str) -> list[CompiledDashboard]:
        """The app's dashboards the reader may open, by name."""
        found = [d for (a, _n), d in sorted(ctx.snapshot.dashboards.items()) if a == app]
        return [d for d in found if self.may_open(ctx, d)]

    def dashboard(self, ctx: WriteContext, app: str, name: str) -> CompiledDashboard:
        """A published dashboard the reader may open.

        :raises NotFound: no such dashboard; :raises PermissionDenied: no role granting it."""
        dashboard = ctx.snapshot.dashboards.get((app, name))
        if dashboard is None:
            raise NotFound(f"No published dashboard '{name}' in app '{app}'")
        if not self.may_open(ctx, dashboard):
            raise PermissionDenied(
                Text(
                    "{user} has no role that may open the dashboard '{dashboard}'",
                    user=ctx.actor.username,
                    dashboard=name,
                )
            )
        return dashboard

    def run(self, ctx: WriteContext, app: str, name: str, given: Mapping[str, Any]) -> DashboardRun:
        """The dashboard with the request's parameter values (``{name: raw}``, as a report's).

        :raises NotFound:, :raises PermissionDenied: see :meth:`dashboard`;
        :raises BadRequest: a shared parameter that does not fit (naming it)."""
        dashboard = self.dashboard(ctx, app, name)
        values = read_params(dashboard.params, given, ctx.now.date())
        runs, left_out = [], 0
        done: dict[tuple[str, str], ReportResult] = {}  # widgets showing the same run share it
        for widget in dashboard.widgets:
            report = ctx.snapshot.reports.get((app, widget.report))
            if report is None or not self._may_run(ctx, report):
                left_out += 1
                continue
            fed = {name: values.get(source) for name, source in widget.feeds.items()}
            key = (report.name, repr(sorted(jsonable(fed).items())))
            try:
                if key not in done:
                    done[key] = self.reports.run(ctx, app, report.name, fed)
                runs.append(WidgetRun(widget, report, done[key], None))
            except PermissionDenied:
                left_out += 1
            except LowcodeError as exc:
                runs.append(WidgetRun(widget, report, None, str(exc)))
        return DashboardRun(dashboard, values, runs, left_out)

    def _may_run(self, ctx: WriteContext, report: CompiledReport) -> bool:
        try:
            self.reports.authorize(ctx, report)
        except PermissionDenied:
            return False
        return True
