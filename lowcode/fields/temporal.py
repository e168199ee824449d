"""Date and date-time field types. Date-times are stored in UTC."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
import sqlalchemy as sa

from lowcode.fields import fast
from lowcode.fields.base import FieldType
from lowcode.fields.conversion import EXACT, LOSSY, Converted


class UtcDateTimeInput(ma.fields.DateTime):
    """ISO 8601 input; aware values are converted to UTC, naive values are taken as UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        return parsed


class DateFieldType(FieldType):
    """A calendar date (YYYY-MM-DD)."""

    type = "date"
    kind = "date"
    widget = "date"

    def column_type(self, fdef):
        return sa.Date()

    def marshmallow_field(self, fdef):
        return ma.fields.Date(allow_none=True)

    def coerce(self, fdef):
        return fast.date

    def dump(self, fdef, value):
        return None if value is None else value.isoformat()

    def convert_from(self, fdef, value, source):
        if isinstance(value, dt.datetime):  # the time of day is dropped
            return Converted(value.date(), LOSSY if value.time() != dt.time() else EXACT)
        return super().convert_from(fdef, value, source)

    def json_schema(self, fdef):
        return {"type": ["string", "null"], "format": "date"}


class DateTimeFieldType(FieldType):
    """A moment in time, stored as UTC and returned as ISO 8601 with a ``Z``."""

    type = "datetime"
    kind = "datetime"
    widget = "datetime"

    def column_type(self, fdef):
        return sa.DateTime()

    def marshmallow_field(self, fdef):
        return UtcDateTimeInput(allow_none=True)

    def dump(self, fdef, value):
        return None if value is None else value.replace(tzinfo=None).isoformat() + "Z"

    def format(self, fdef, value, language):
        return "" if value is None else value.strftime("%Y-%m-%d %H:%M")

    def convert_from(self, fdef, value, source):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return Converted(dt.datetime.combine(value, dt.time()))  # midnight UTC
        return super().convert_from(fdef, value, source)

    def json_schema(self, fdef):
        return {"type": ["string", "null"], "format": "date-time"}
