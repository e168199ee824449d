"""The autonumber field type: document numbers from gap-free naming series."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from lowcode.fields.computed import ServerComputedFieldType

SERIES_TOKEN = re.compile(r"\{(YYYY|YY|MM|DD|#+)\}")


class AutonumberFieldType(ServerComputedFieldType):
    """A document number from a naming series such as ``SO-{YYYY}{MM}-{####}``; gap-free per prefix.

    The date tokens come from the creation time, or from the record's own ``date_field`` where the
    definition names one (a receipt dated 1 December is numbered in December's series)."""

    type = "autonumber"
    kind = "text"
    options_schema = {
        "type": "object",
        "required": ["pattern"],
        "properties": {
            "pattern": {"type": "string", "pattern": r"\{#+\}", "maxLength": 60},
            "date_field": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "x-widget": "field"},
        },
        "additionalProperties": False,
    }
    starter_options = {"pattern": "{#####}"}
    date_types = frozenset({"date", "datetime"})

    def depends_on(self, fdef):
        date_field = fdef.options.get("date_field")
        return {date_field} if date_field else set()

    def check_in_entity(self, fdef, fields, entities):
        problems = super().check_in_entity(fdef, fields, entities)
        date_field = fdef.options.get("date_field")
        source = fields.get(date_field) if date_field else None
        if source is not None and self._date_kind(source) not in self.date_types:
            problems.append(f"field '{fdef.name}' is numbered by '{date_field}', which is not a date field")
        return problems

    @staticmethod
    def _date_kind(doc: Mapping[str, Any]) -> str | None:
        if doc.get("type") == "formula":
            return (doc.get("options") or {}).get("result")
        return doc.get("type")

    def result(self, fdef):
        return "text"

    def column_type(self, fdef):
        return sa.String(64)

    def json_schema(self, fdef):
        return {"type": ["string", "null"], "maxLength": 64, "readOnly": True}

    def compute(self, fdef, record, children, ctx):
        if not ctx.is_create or record.get(fdef.name):
            return record.get(fdef.name)  # numbered once, at creation
        dated = record.get(fdef.options.get("date_field", ""))
        prefix = self.prefix(fdef.options["pattern"], dated or ctx.now)
        number = ctx.series(f"{fdef.name}:{prefix}")
        return SERIES_TOKEN.sub(
            lambda m: str(number).zfill(len(m.group(1))) if "#" in m.group(1) else "", prefix
        )

    @staticmethod
    def prefix(pattern: str, now: dt.date) -> str:
        """The pattern with its date tokens filled in (the counter restarts when they change)."""
        parts = {"YYYY": f"{now:%Y}", "YY": f"{now:%y}", "MM": f"{now:%m}", "DD": f"{now:%d}"}
        return SERIES_TOKEN.sub(lambda m: parts.get(m.group(1), m.group(0)), pattern)
