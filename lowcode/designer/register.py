"""Attach the designer's views to its blueprint and register it on the app."""

from __future__ import annotations

from flask import Flask


def register_designer(app: Flask) -> None:
    """Register ``/design/...`` (one module per designer attaches its views to the blueprint)."""
    from lowcode.designer import (  # noqa: F401 - the views
        app_designer,
        app_settings,
        bundles,
        condition_row,
        dashboard_designer,
        entity_designer,
        entity_indexes,
        form_designer,
        form_preview,
        mapping_designer,
        publishing,
        report_designer,
        role_designer,
        role_explain,
        rule_designer,
        rule_list,
        rule_runs,
        sandbox,
        versions,
        view_designer,
        view_preview,
        workflow_designer,
    )
    from lowcode.designer.blueprint import bp

    app.register_blueprint(bp)
