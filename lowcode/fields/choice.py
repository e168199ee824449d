"""Choice field types: boolean, single select, multi select."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa

from lowcode.fields import fast
from lowcode.fields.base import FieldDef, FieldType, normalise_label, pick_label
from lowcode.fields.conversion import Converted, as_text

CHOICES_SCHEMA = {
    "type": "object",
    "required": ["choices"],
    "properties": {
        "choices": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["value"],
                "properties": {
                    "value": {"type": "string", "minLength": 1, "maxLength": 64},
                    "label": {"x-widget": "label"},
                    "color": {"type": "string", "maxLength": 32, "x-widget": "color"},
                },
                "additionalProperties": False,
            },
        }
    },
    "additionalProperties": False,
}


def choice_values(fdef: FieldDef) -> list[str]:
    """The allowed stored values of a select field, in order."""
    return [c["value"] for c in fdef.options.get("choices", [])]


def choice_label(fdef: FieldDef, value: str, language: str) -> str:
    """The label of one choice value in a language."""
    for choice in fdef.options.get("choices", []):
        if choice["value"] == value:
            return pick_label(normalise_label(choice.get("label"), value), language, value)
    return value


STARTER_CHOICES = {"choices": [{"value": "option_1", "label": {"en": "Option 1", "zh-CN": "选项 1"}}]}
"""The one choice a select the designer adds starts with."""


class BooleanFieldType(FieldType):
    """True or false."""

    type = "boolean"
    kind = "boolean"
    widget = "checkbox"

    def column_type(self, fdef):
        return sa.Boolean()

    def marshmallow_field(self, fdef):
        return ma.fields.Boolean(allow_none=True)

    def coerce(self, fdef):
        return fast.boolean

    def format(self, fdef, value, language):
        if value is None:
            return ""
        yes_no = {"zh": ("是", "否")}.get(language[:2], ("Yes", "No"))
        return yes_no[0] if value else yes_no[1]

    def json_schema(self, fdef):
        return {"type": ["boolean", "null"]}


class SelectFieldType(FieldType):
    """One value out of a fixed list of choices."""

    type = "select"
    kind = "text"
    widget = "select"
    options_schema = CHOICES_SCHEMA
    starter_options = STARTER_CHOICES

    def column_type(self, fdef):
        return sa.String(64)

    def marshmallow_field(self, fdef):
        allowed = choice_values(fdef)
        return ma.fields.String(
            allow_none=True, validate=ma.validate.OneOf(allowed, error="Must be one of: {choices}.")
        )

    def coerce(self, fdef):
        return fast.one_of(choice_values(fdef))

    def format(self, fdef, value, language):
        return "" if value is None else choice_label(fdef, value, language)

    def json_schema(self, fdef):
        return {"type": ["string", "null"], "enum": [*choice_values(fdef), None]}

    def convert_from(self, fdef, value, source):
        if isinstance(value, list):  # one chosen value converts; several cannot
            return super().convert_from(fdef, value[0], source) if len(value) == 1 else Converted.failed()
        return super().convert_from(fdef, as_text(value).strip(), source)


class MultiSelectFieldType(FieldType):
    """Several values out of a fixed list of choices, stored as a JSON array."""

    type = "multi_select"
    kind = None
    widget = "multi_select"
    options_schema = CHOICES_SCHEMA
    starter_options = STARTER_CHOICES

    def column_type(self, fdef):
        return sa.JSON()

    def marshmallow_field(self, fdef):
        allowed = choice_values(fdef)
        inner = ma.fields.String(validate=ma.validate.OneOf(allowed, error="Must be one of: {choices}."))
        return ma.fields.List(inner, allow_none=True)

    def format(self, fdef, value, language):
        return ", ".join(choice_label(fdef, v, language) for v in value or [])

    def json_schema(self, fdef):
        return {"type": ["array", "null"], "items": {"enum": choice_values(fdef)}}

    def convert_from(self, fdef, value, source):
        if not isinstance(value, list):  # "a, b" or one value -> a list of values
            value = [part.strip() for part in as_text(value).split(",") if part.strip()]
        return super().convert_from(fdef, value, source)
