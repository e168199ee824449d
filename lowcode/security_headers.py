"""Security headers on every response (pages, API, errors, static files).

The pages load only our own scripts and styles (htmx, Bootstrap, SortableJS and ``pages.js`` from
``/static``): no inline ``<script>``, no ``on*=`` attributes, no ``style=`` attributes, and htmx is told
not to inject its indicator ``<style>`` nor to evaluate code (see ``base.html``), so the policy below needs
neither ``'unsafe-inline'`` nor ``'unsafe-eval'``."""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def allow_own_frames(response: Response) -> Response:
    """Let pages of this site frame ``response`` (the designer's previews); every other response refuses."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def add_security_headers(response: Response) -> Response:
    """Set each header of :data:`HEADERS` unless the view already chose its own value."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register_security_headers(app: Flask) -> None:
    """Add :func:`add_security_headers` to every response of ``app``."""
    app.after_request(add_security_headers)
