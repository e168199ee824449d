"""Server-rendered pages (Jinja2 + htmx): sign-in, apps, app home, list, detail with history, forms.

Views stay thin: they open a unit of work, ask a model module (``listing``, ``viewmodels``, ``forms``,
``binding``) and render a template. Reads go through the query service, writes through the record
service, and both through the permission service.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from lowcode.pages.i18n import LANGUAGES, current_language, init_babel
from lowcode.pages.security import csrf_token


def template_globals() -> dict[str, Any]:
    """What every page template may use: the CSRF token, the language and the switcher's choices."""
    return {
        "csrf_token": csrf_token,
        "current_lang": current_language(),
        "languages": LANGUAGES,
        "here": request.full_path.rstrip("?"),
    }


def register_pages(app: Flask) -> None:
    """Set up Flask-Babel (translations in ``lowcode/translations``) and register the page routes."""
    import lowcode.pages.admin_routes  # noqa: F401 - the administration pages (/admin/...)
    import lowcode.pages.printing  # noqa: F401 - the print view of a record
    import lowcode.pages.related  # noqa: F401 - related lists' next pages
    from lowcode.pages import (  # noqa: F401 - attach the routes
        account,
        browse,
        compute,
        dashboards,
        edit,
        imports,
        inbox,
        list_board,
        list_bulk,
        list_calendar,
        list_export,
        list_filters,
        picker,
        reports,
        saved_views,
        transitions,
    )
    from lowcode.pages.blueprint import bp

    init_babel(app)
    app.register_blueprint(bp)
    app.context_processor(template_globals)
