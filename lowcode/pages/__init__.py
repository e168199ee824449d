"""Server-rendered pages (Jinja2 + htmx): app home, list, detail with history, create/edit form."""

from __future__ import annotations

from flask import Flask


def register_pages(app: Flask) -> None:
    """Register the page blueprints."""
