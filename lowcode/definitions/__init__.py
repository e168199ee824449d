"""The definition store: JSON documents validated by JSON Schema, drafted, published and versioned."""

KINDS = ("app", "entity", "form", "view")
"""Definition kinds known to the store (later capabilities add rules, roles, workflows...)."""
