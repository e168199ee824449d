"""Publish checks of dashboards (every widget's report, chart and parameter feed, against the app's reports
as the publish will have them: :func:`~lowcode.dashboards.model.compile_dashboard` itself) and of the
``dashboards`` that roles grant (each a dashboard of the app)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.dashboards.model import DashboardInvalid, compile_dashboard
from lowcode.definitions.checks import AppDocuments


def dashboard_errors(doc: Mapping[str, Any], docs: AppDocuments) -> dict[str, list[str]]:
    """Every problem of one dashboard at ``dashboard:<name>/<JSON path>``."""
    prefix = f"dashboard:{doc['name']}"
    try:
        compile_dashboard("", doc, docs.of("report"), set(docs.entities))
    except DashboardInvalid as exc:
        return {f"{prefix}/{path}": list(messages) for path, messages in exc.fields.items()}
    return {}


def role_dashboard_errors(role: Mapping[str, Any], docs: AppDocuments) -> dict[str, list[str]]:
    """A role's ``dashboards`` must be dashboards of the app."""
    known = set(docs.of("dashboard"))
    return {
        f"role:{role['name']}/dashboards/{i}": [f"unknown dashboard '{name}'"]
        for i, name in enumerate(role.get("dashboards", []))
        if name not in known
    }
