"""The report and dashboard services the pages use, made per request from the app's services: reports answer
from the process's result cache, and dashboards run their widgets through the same cached service."""

from __future__ import annotations

from lowcode.api.edge import services
from lowcode.dashboards.service import DashboardService
from lowcode.reports.cache import CachedReportService


def report_service() -> CachedReportService:
    """Runs reports for the pages, from the result cache when nothing they read changed."""
    return CachedReportService(services().permissions, services().report_cache)


def dashboard_service() -> DashboardService:
    """Opens dashboards for the pages; their widgets' reports go through :func:`report_service`."""
    return DashboardService(services().permissions, report_service())
