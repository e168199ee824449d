"""lowcode: a low-code form and rule platform (definitions -> real tables, one write path, REST + htmx)."""

__version__ = "0.1.0"
