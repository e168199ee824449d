"""The Flask app factory: settings, services, blueprints, error handlers, i18n. No I/O beyond set-up (which
includes checking that the database is migrated: the app never changes the schema of system tables)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from lowcode.api.ratelimit import register_rate_limits
from lowcode.auth.grants import role_errors
from lowcode.config import check_startup, load_settings
from lowcode.core.jsonutil import to_jsonable
from lowcode.definitions.app_checks import register_builtin_checks
from lowcode.definitions.app_names import fixed_segments_beside
from lowcode.definitions.checks import combined, register_check
from lowcode.definitions.dashboard_checks import dashboard_errors, role_dashboard_errors
from lowcode.definitions.report_checks import report_errors, role_report_errors
from lowcode.designer.compare import register_comparers
from lowcode.designer.usages import register_usage_finders
from lowcode.fields import register_builtin_field_types
from lowcode.integrations.subscriptions import subscription_check
from lowcode.migrations import require_current_schema
from lowcode.query_costs import register_request_costs
from lowcode.rules.actions import register_builtin_actions
from lowcode.rules.validate import rule_errors
from lowcode.sandbox.masking import register_maskers
from lowcode.security_headers import register_security_headers
from lowcode.services import build_services
from lowcode.workflows.validate import role_transition_errors, rule_transition_errors, workflow_check


class ExactJSONProvider(DefaultJSONProvider):
    """JSON responses with decimals as strings and ISO 8601 dates (Flask's default uses HTTP dates)."""

    sort_keys = False
    ensure_ascii = False

    @staticmethod
    def default(o: Any) -> Any:
        converted = to_jsonable(o)
        if converted is o:
            return DefaultJSONProvider.default(o)
        return converted


def register_builtins() -> None:
    """Fill every registry with the built-in plugins (explicitly, never at import time)."""
    register_builtin_field_types()
    register_builtin_actions()
    register_builtin_checks()
    register_check(
        "role", combined(role_errors, role_transition_errors, role_report_errors, role_dashboard_errors)
    )
    register_check("rule", combined(rule_errors, rule_transition_errors))
    register_check("workflow", workflow_check)
    register_check("subscription", subscription_check)
    register_check("report", report_errors)
    register_check("dashboard", dashboard_errors)
    register_usage_finders()
    register_comparers()
    register_maskers()


class Int64Converter(IntegerConverter):
    """``<int:...>`` in URLs: a record id beyond 64 bits is a 404, not an overflow in the database."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def _flask() -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = Int64Converter
    return app


def app_settings(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings ``create_app(config)`` would use (for commands that must not build the app first)."""
    return load_settings(_flask().instance_path, config)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings (see :mod:`lowcode.config`), e.g. in tests.

    Raises :class:`lowcode.migrations.SchemaOutOfDate` (one line naming ``lowcode migrate``) unless the
    database is at the migrations' head revision, and :class:`lowcode.config.InsecureSettings` for a
    secret key under 32 bytes outside development/testing."""
    app = _flask()
    app.json_provider_class = ExactJSONProvider
    app.json = ExactJSONProvider(app)
    settings = load_settings(app.instance_path, config)
    check_startup(settings)
    app.config["LOWCODE"] = settings
    app.config["SECRET_KEY"] = settings["SECRET_KEY"]
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY_BYTES"]
    app.config["SESSION_COOKIE_HTTPONLY"] = settings["SESSION_COOKIE_HTTPONLY"]
    app.config["SESSION_COOKIE_SAMESITE"] = settings["SESSION_COOKIE_SAMESITE"]
    app.config["SESSION_COOKIE_SECURE"] = settings["SECURE_COOKIES"]
    register_builtins()
    services = build_services(settings)
    try:
        require_current_schema(services.db)
    except Exception:
        services.db.dispose()
        raise
    app.extensions["lowcode"] = services
    _register_blueprints(app)
    services.reserved_app_names = fixed_segments_beside(rule.rule for rule in app.url_map.iter_rules())
    register_security_headers(app)
    register_request_costs(app, settings)
    try:
        register_rate_limits(app, settings)
    except Exception:
        services.db.dispose()
        raise
    return app


def _register_blueprints(app: Flask) -> None:
    from lowcode.api import (
        admin,
        auth,
        changes,
        data,
        definitions,
        imports,
        ingest,
        integrations,
        notifications,
        openapi,
        sandboxes,
        templates,
    )
    from lowcode.api import mappings as mappings_api
    from lowcode.api import reports as reports_api
    from lowcode.api import rules as rules_api
    from lowcode.api.errors import register_error_handlers
    from lowcode.api.params import AsciiIntConverter
    from lowcode.designer.register import register_designer
    from lowcode.pages import register_pages

    app.url_map.converters["int"] = AsciiIntConverter  # before any route is added
    for module in (
        auth,
        data,
        changes,
        definitions,
        templates,
        sandboxes,
        openapi,
        admin,
        notifications,
        integrations,
        ingest,
        imports,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(rules_api.bp)
    app.register_blueprint(mappings_api.bp)
    app.register_blueprint(reports_api.bp)
    register_error_handlers(app)
    register_pages(app)
    register_designer(app)
