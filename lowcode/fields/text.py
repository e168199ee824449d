"""Text-like field types: text, long text, email, phone."""

from __future__ import annotations

import re

import marshmallow as ma
import sqlalchemy as sa

from lowcode.fields import fast
from lowcode.fields.base import FieldDef, FieldType
from lowcode.fields.conversion import to_text

PHONE_PATTERN = r"^\+?[0-9][0-9 \-().]{2,30}\Z"  # \Z, not $: $ also matches before a trailing newline

PERSONAL = {
    "personal": {
        "type": "boolean",
        "description": "Personal data: masked (a stable stand-in) where the app's data is copied, e.g. into a "
        "sandbox",
    }
}
"""The ``personal`` option of the text-like types (masked by :mod:`lowcode.sandbox.masking`)."""
PERSONAL_ONLY = {"type": "object", "properties": PERSONAL, "additionalProperties": False}

NO_NUL = ma.validate.Regexp(r"^[^\x00]*\Z", error="Text may not contain NUL characters.")
"""PostgreSQL text cannot hold NUL; refuse it on every database (a 422, not a database error)."""


class WholeMatch(ma.validate.Validator):
    """Refuses text that the definition's regular expression does not match as a whole."""

    def __init__(self, pattern: str, message: dict[str, str]):
        self.regex = re.compile(pattern)
        self.message = message.get("en") or "Does not have the required format."

    def __call__(self, value):
        if value is not None and self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self.message)
        return value


class TextFieldType(FieldType):
    """A single line of text, at most ``options.max_length`` characters (default 255)."""

    type = "text"
    kind = "text"
    widget = "text"
    options_schema = {
        "type": "object",
        "properties": {
            "max_length": {"type": "integer", "minimum": 1, "maximum": 4000},
            "pattern": {"type": "string", "minLength": 1, "maxLength": 200},
            "pattern_message": {
                "type": "object",
                "properties": {"en": {"type": "string"}, "zh-CN": {"type": "string"}},
                "additionalProperties": False,
            },
            **PERSONAL,
        },
        "additionalProperties": False,
    }

    def max_length(self, fdef: FieldDef) -> int:
        """The configured maximum length."""
        return int(fdef.options.get("max_length", 255))

    def column_type(self, fdef):
        return sa.String(self.max_length(fdef))

    def marshmallow_field(self, fdef):
        checks = [ma.validate.Length(max=self.max_length(fdef)), NO_NUL]
        if "pattern" in fdef.options:
            checks.append(WholeMatch(fdef.options["pattern"], fdef.options.get("pattern_message", {})))
        return ma.fields.String(allow_none=True, validate=checks)

    def coerce(self, fdef):
        return fast.text(self.max_length(fdef), fdef.options.get("pattern"))

    def check_definition(self, fdef, entity_names):
        try:
            re.compile(fdef.options.get("pattern", ""))
        except re.error as exc:
            return [f"field '{fdef.name}': the pattern is not a valid regular expression ({exc})"]
        return []

    def json_schema(self, fdef):
        return {"type": ["string", "null"], "maxLength": self.max_length(fdef)}

    def convert_from(self, fdef, value, source):
        return to_text(value, self.max_length(fdef))


class LongTextFieldType(FieldType):
    """Multi-line text without a practical length limit (1 MB)."""

    type = "long_text"
    kind = "text"
    widget = "textarea"

    options_schema = PERSONAL_ONLY

    def column_type(self, fdef):
        return sa.Text()

    def marshmallow_field(self, fdef):
        return ma.fields.String(allow_none=True, validate=[ma.validate.Length(max=1_000_000), NO_NUL])

    def coerce(self, fdef):
        return fast.text(1_000_000)

    def convert_from(self, fdef, value, source):
        return to_text(value, 1_000_000)


class EmailFieldType(FieldType):
    """An e-mail address, validated."""

    type = "email"
    kind = "text"
    widget = "email"

    options_schema = PERSONAL_ONLY

    def column_type(self, fdef):
        return sa.String(254)

    def marshmallow_field(self, fdef):
        return ma.fields.Email(allow_none=True)

    def json_schema(self, fdef):
        return {"type": ["string", "null"], "format": "email"}


class PhoneFieldType(FieldType):
    """A telephone number: digits with optional +, spaces, dashes and brackets."""

    type = "phone"
    kind = "text"
    widget = "tel"

    options_schema = PERSONAL_ONLY

    def column_type(self, fdef):
        return sa.String(32)

    def marshmallow_field(self, fdef):
        return ma.fields.String(
            allow_none=True, validate=ma.validate.Regexp(PHONE_PATTERN, error="Not a valid phone number.")
        )
