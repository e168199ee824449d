"""Field types that point elsewhere: link (another entity's record), user, attachment, child table."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa

from lowcode.fields import fast
from lowcode.fields.base import FieldDef, FieldType
from lowcode.fields.inputs import IntegerInput

MAX_USER_ID = 2**31 - 1

TARGET_SCHEMA = {
    "type": "object",
    "required": ["entity"],
    "properties": {"entity": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,47}$", "x-widget": "entity"}},
    "additionalProperties": False,
}


class LinkFieldType(FieldType):
    """The id of a record of another entity of the same app; the record service checks it exists."""

    type = "link"
    kind = "integer"
    widget = "link"
    options_schema = TARGET_SCHEMA
    references_entity = True
    """The value is the id of a record of ``options.entity``; writes check that record exists."""

    def column_type(self, fdef):
        return sa.BigInteger()

    def marshmallow_field(self, fdef):
        return IntegerInput(allow_none=True)

    def coerce(self, fdef):
        return fast.whole(None, None)

    def check_definition(self, fdef, entity_names):
        target = fdef.options.get("entity")
        return [] if target in entity_names else [f"link target entity '{target}' does not exist"]

    def json_schema(self, fdef):
        return {"type": ["integer", "null"], "description": f"id of a {fdef.options.get('entity')} record"}


class UserFieldType(FieldType):
    """A platform user (id of ``lc_user``); the record service checks the user exists."""

    type = "user"
    kind = "integer"
    widget = "user"
    references_user = True
    """The value is a user id; writes check the user exists."""

    def column_type(self, fdef):
        return sa.BigInteger()

    def marshmallow_field(self, fdef):
        # lc_user.id is a 32-bit INTEGER: a larger id names no user (and PostgreSQL would refuse to compare it)
        return IntegerInput(
            allow_none=True,
            validate=ma.validate.Range(min=1, max=MAX_USER_ID, error="No user with id {input}."),
        )

    def coerce(self, fdef):
        return fast.whole(1, MAX_USER_ID)

    def json_schema(self, fdef):
        return {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_USER_ID, "description": "user id"}


class AttachmentInput(ma.Schema):
    """One attached file's reference, as returned by the upload endpoint."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    key = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9_\-]{8,80}$"))
    size = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    content_type = ma.fields.String(load_default="application/octet-stream")


class AttachmentFieldType(FieldType):
    """A list of uploaded files (stored as JSON references to the file store)."""

    type = "attachment"
    kind = None
    widget = "attachment"
    options_schema = {
        "type": "object",
        "properties": {"max_files": {"type": "integer", "minimum": 1, "maximum": 50}},
        "additionalProperties": False,
    }

    def column_type(self, fdef):
        return sa.JSON()

    def marshmallow_field(self, fdef):
        limit = int(fdef.options.get("max_files", 10))
        return ma.fields.List(
            ma.fields.Nested(AttachmentInput), allow_none=True, validate=ma.validate.Length(max=limit)
        )

    def format(self, fdef, value, language):
        return ", ".join(item["name"] for item in value or [])

    def json_schema(self, fdef):
        return {"type": ["array", "null"], "items": {"type": "object"}}


class ChildTableFieldType(FieldType):
    """Rows of a child entity (order lines) owned by this record; no column of its own."""

    type = "child_table"
    kind = None
    widget = "child_table"
    options_schema = {
        **TARGET_SCHEMA,
        "properties": {"entity": {**TARGET_SCHEMA["properties"]["entity"], "x-widget": "child_entity"}},
    }
    holds_children = True
    """Rows live in the child entity's table with ``parent_id`` pointing here."""

    def column_type(self, fdef):
        return None

    def check_definition(self, fdef: FieldDef, entity_names):
        target = fdef.options.get("entity")
        return [] if target in entity_names else [f"child entity '{target}' does not exist"]

    def json_schema(self, fdef):
        return {"type": "array", "items": {"$ref": f"#/components/schemas/{fdef.options.get('entity')}"}}
