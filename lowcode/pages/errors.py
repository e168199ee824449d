"""HTML error pages for domain errors raised while rendering pages."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.errors import LowcodeError, Unauthenticated


def _title(status: int) -> str:
    titles = {
        400: _("The request is not valid"),
        401: _("Please sign in"),
        403: _("Not allowed"),
        404: _("Not found"),
        409: _("Changed by someone else"),
        413: _("Too large"),
        422: _("Not valid"),
        428: _("The edited version is missing"),
    }
    return titles.get(status, _("Something went wrong"))


def render_error_page(error: LowcodeError, status: int):
    """A friendly HTML page for a domain error (403 says why); anonymous page views go to sign-in."""
    if (
        isinstance(error, Unauthenticated)
        and request.method in ("GET", "HEAD")
        and request.headers.get("HX-Request") != "true"
    ):
        return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
    return render_template(
        "pages/error.html", status=status, title=_title(status), message=error.message
    ), status
