"""Names the designer shows for field types and panel properties, in the reader's language.

A field type or option missing here is shown by its key with the underscores as spaces: a new field type
still appears in the palette and its options in the panel without designer code.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

TYPE_LABELS = {
    "text": _l("Text"),
    "long_text": _l("Long text"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "integer": _l("Whole number"),
    "decimal": _l("Decimal"),
    "money": _l("Money"),
    "percent": _l("Percent"),
    "boolean": _l("Yes/no"),
    "select": _l("Single choice"),
    "multi_select": _l("Multiple choice"),
    "date": _l("Date"),
    "datetime": _l("Date and time"),
    "link": _l("Link to another table"),
    "user": _l("User"),
    "attachment": _l("Attachment"),
    "child_table": _l("Sub-table (lines)"),
    "formula": _l("Formula"),
    "rollup": _l("Rollup of lines"),
    "autonumber": _l("Serial number"),
}

PROPERTY_LABELS = {
    "label": _l("Label"),
    "help": _l("Help text"),
    "required": _l("Required"),
    "unique": _l("Unique"),
    "indexed": _l("Indexed (faster filters)"),
    "read_only": _l("Read-only"),
    "default": _l("Default value"),
    "options": _l("Settings"),
    "min": _l("Minimum"),
    "max": _l("Maximum"),
    "precision": _l("Digits in total"),
    "scale": _l("Decimal places stored"),
    "display_scale": _l("Decimal places shown"),
    "currency": _l("Currency code"),
    "choices": _l("Choices"),
    "value": _l("Stored value"),
    "color": _l("Colour"),
    "entity": _l("Table"),
    "expression": _l("Formula"),
    "result": _l("Result type"),
    "child": _l("Sub-table"),
    "field": _l("Field"),
    "function": _l("Function"),
    "pattern": _l("Pattern"),
    "pattern_message": _l("Message when the pattern does not match"),
    "max_length": _l("Maximum length"),
    "date_field": _l("Numbered by the date in"),
    "fetch_from": _l("Fetch from a linked record"),
    "link": _l("Through the link"),
    "max_files": _l("Most files"),
    "when": _l("Only when (expression)"),
    "values": _l("Values (field = expression)"),
    "message": _l("Message"),
    "where": _l("Which records (condition)"),
    "as": _l("Name in later actions"),
    "limit": _l("At most"),
    "lock": _l("Lock the records"),
    "expect": _l("Expected matches"),
    "missing_message": _l("Message when none match"),
    "into": _l("Into the list"),
    "children": _l("Lines"),
    "set": _l("Set (field = expression)"),
    "guard": _l("Guard (expression)"),
    "refuse_message": _l("Message when the guard refuses"),
    "key": _l("Key (field = expression)"),
    "insert": _l("Values of a new record"),
    "to": _l("Recipients"),
    "title": _l("Title"),
    "body": _l("Text"),
    "url": _l("Address (URL)"),
    "method": _l("Method"),
    "headers": _l("Headers"),
    "payload": _l("Payload (name = expression)"),
    "topic": _l("Topic"),
    "personal": _l("Personal data (masked in copies)"),
}


RULE_ACTION_LABELS = {
    "set_fields": _l("Set fields of the record"),
    "refuse": _l("Refuse the change"),
    "for_each_child": _l("For each line"),
    "for_each_record": _l("For each matching record"),
    "collect": _l("Collect values"),
    "create_record": _l("Create a record"),
    "update_records": _l("Update matching records"),
    "upsert": _l("Update or create a record"),
    "notify": _l("Notify users"),
    "call_webhook": _l("Call a webhook"),
    "publish_event": _l("Publish an event"),
}
"""Names of the rule actions in the rule designer's palette (a new action shows by its key)."""


def rule_action_label(key: str) -> str:
    """The palette's name of a rule action."""
    return str(RULE_ACTION_LABELS.get(key) or key.replace("_", " ").capitalize())


ACTION_PROPERTY_LABELS = {
    "collect": {"value": _l("Value collected from each record")},
    "notify": {"link": _l("Link (empty: the record's page)")},
    "update_records": {"set": _l("Set on each matching record")},
    "upsert": {"key": _l("Find the record by (field = expression)")},
    "create_record": {"children": _l("Lines of the new record")},
}
"""Property labels of rule actions where the shared :data:`PROPERTY_LABELS` (written for field panels) do not
fit: per action type, per property."""


def rule_property_label(action: str, key: str) -> str:
    """The panel's name of property ``key`` of a rule action of type ``action``."""
    own = ACTION_PROPERTY_LABELS.get(action, {}).get(key)
    return str(own) if own is not None else property_label(key)


def type_label(key: str) -> str:
    """The palette's name of a field type."""
    return str(TYPE_LABELS.get(key) or key.replace("_", " ").capitalize())


def property_label(key: str) -> str:
    """The panel's name of a property."""
    return str(PROPERTY_LABELS.get(key) or key.replace("_", " ").capitalize())


CHANGE_LABELS = {
    "added": _l("added"),
    "removed": _l("removed"),
    "changed": _l("changed"),
    "moved": _l("moved"),
    "reordered": _l("reordered"),
    "renamed": _l("renamed"),
    "renamed?": _l("probably renamed"),
}
AREA_LABELS = {
    "fields": _l("Fields"),
    "layout": _l("Layout"),
    "sections": _l("Sections"),
    "columns": _l("Columns"),
    "search_fields": _l("Search fields"),
    "sort": _l("Sort"),
    "filter": _l("Filter"),
    "settings": _l("Settings"),
}


def change_label(key: str) -> str:
    """A comparison's change (``added``) or area (``fields``) in the reader's language."""
    return str(CHANGE_LABELS.get(key) or AREA_LABELS.get(key) or key.replace("_", " "))


KIND_LABELS = {
    "app": _l("app"),
    "entity": _l("table"),
    "form": _l("form"),
    "view": _l("list"),
    "rule": _l("rule"),
    "role": _l("role"),
    "workflow": _l("workflow"),
    "mapping": _l("mapping"),
    "report": _l("report"),
    "dashboard": _l("dashboard"),
}


def kind_label(key: str) -> str:
    """A definition kind as people call it (``entity`` -> table)."""
    return str(KIND_LABELS.get(key) or key)


GRANT_ACTION_LABELS = {
    "read": _l("See"),
    "create": _l("Add"),
    "update": _l("Edit"),
    "delete": _l("Delete"),
    "export": _l("Export"),
    "import": _l("Import"),
    "approve": _l("Approve"),
    "configure": _l("Design"),
}
"""The grant actions as the role designer's grid names them (the key is shown beside)."""


def grant_action_label(key: str) -> str:
    """A grant action in the reader's language."""
    return str(GRANT_ACTION_LABELS.get(key) or key)
