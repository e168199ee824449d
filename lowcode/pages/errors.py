"""HTML error pages for domain errors raised while rendering pages."""

from __future__ import annotations

from markupsafe import escape

from lowcode.errors import LowcodeError


def render_error_page(error: LowcodeError, status: int):
    """A minimal HTML error response (pages replace it with a full template)."""
    return f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escape(error.message)}</p>", status
