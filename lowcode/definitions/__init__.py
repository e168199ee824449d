"""The definition store: JSON documents validated by JSON Schema, drafted, published and versioned.

The kinds are the JSON Schemas in ``schemas/`` (app, entity, form, view, role); see
:func:`lowcode.definitions.validate.known_kinds`.
"""
