"""The field-type contract: one small class per type owns its column, validation, output and widget."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from lowcode.core.number_styles import NumberStyle, StyleOf
from lowcode.errors import LowcodeError
from lowcode.fields.conversion import Converted, by_validation

SYSTEM_FIELDS = (
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "owner",
    "deleted_at",
)
"""System columns of every entity table."""
CHILD_SYSTEM_FIELDS = ("parent_id", "idx")
"""System columns a child table adds."""
SYSTEM_NAMES = frozenset(SYSTEM_FIELDS + CHILD_SYSTEM_FIELDS)
"""Names no field may take; computed fields may use them."""


@dataclass(frozen=True)
class FieldDef:
    """One field of an entity definition, as written in the JSON document."""

    name: str
    type: str
    label: Mapping[str, str] = field(default_factory=dict)
    required: bool = False
    unique: bool = False
    indexed: bool = False
    read_only: bool = False
    default: Any = None
    options: Mapping[str, Any] = field(default_factory=dict)
    help: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> FieldDef:
        """Build from a definition's field object (already JSON-Schema validated)."""
        return cls(
            name=doc["name"],
            type=doc["type"],
            label=normalise_label(doc.get("label"), doc["name"]),
            required=bool(doc.get("required", False)),
            unique=bool(doc.get("unique", False)),
            indexed=bool(doc.get("indexed", False)),
            read_only=bool(doc.get("read_only", False)),
            default=doc.get("default"),
            options=dict(doc.get("options") or {}),
            help=normalise_label(doc.get("help"), ""),
        )

    def label_for(self, language: str) -> str:
        """The label in ``language`` (``zh_CN`` or ``zh-CN``), falling back to English, then the key."""
        return pick_label(self.label, language, self.name)


def normalise_label(label: Any, fallback: str) -> dict[str, str]:
    """Labels may be a plain string or ``{"en": ..., "zh-CN": ...}``; always return the dict form."""
    if label is None:
        return {"en": fallback} if fallback else {}
    if isinstance(label, str):
        return {"en": label}
    return dict(label)


def pick_label(label: Mapping[str, str], language: str, fallback: str) -> str:
    """Choose the best label for a language code."""
    lang = language.replace("_", "-")
    return label.get(lang) or label.get(lang.split("-")[0]) or label.get("en") or fallback


class Doubt(Exception):  # noqa: N818 - not an error: a request to let the marshmallow field decide
    """Raised by a fast ``coerce`` converter that cannot decide a value alone: the field's marshmallow input
    then decides (and words any message), so fast and slow paths answer alike."""


Coerce = Callable[[Any], Any]
"""A fast converter of one field's non-null input: the typed value, or :class:`Doubt`."""


class ComputeContext:
    """What a computed field may use: the session, whether the write is a create, and the clock."""

    def __init__(self, session, is_create: bool, now, series):
        self.session = session
        self.is_create = is_create
        self.now = now
        self.series = series


class FieldType:
    """Base class of every field type. Subclasses set the class attributes and override a few hooks."""

    type: ClassVar[str] = ""
    """Stable key used in definitions (``"decimal"``)."""
    kind: ClassVar[str | None] = None
    """Value kind for the condition language (text/integer/decimal/boolean/date/datetime); None = not filterable."""
    widget: ClassVar[str] = "text"
    """Name of the form widget macro in ``templates/widgets.html``."""
    computed: ClassVar[bool] = False
    """The server computes the value; clients may not write it."""
    options_schema: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": False}
    """JSON Schema of this type's ``options`` object (used by definition validation and the designer)."""
    starter_options: ClassVar[dict[str, Any]] = {}
    """Options a field of this type starts with when the designer adds one (valid for ``options_schema``)."""

    def value_kind(self, fdef: FieldDef) -> str | None:
        """The condition-language kind of this field's values (``kind`` unless it depends on options)."""
        return self.kind

    def column_type(self, fdef: FieldDef) -> sa.types.TypeEngine | None:
        """The SQL column type, or None when the field has no column of its own (child tables)."""
        return sa.String(255)

    def marshmallow_field(self, fdef: FieldDef) -> ma.fields.Field:
        """The marshmallow field used to validate and convert input."""
        return ma.fields.String(allow_none=True)

    def coerce(self, fdef: FieldDef) -> Coerce | None:
        """A fast converter of plain input (built once per compiled entity) taking exactly the values the
        marshmallow field would take to the same result, raising :class:`Doubt` for anything else; None:
        the marshmallow field converts every value of this type."""
        return None

    def dump(self, fdef: FieldDef, value: Any) -> Any:
        """Python value -> JSON value for API output (Decimal as string, dates ISO)."""
        return value

    def format(self, fdef: FieldDef, value: Any, language: str) -> str:
        """Python value -> text shown in pages."""
        return "" if value is None else str(value)

    def number_style(self, fdef: FieldDef, style_of: StyleOf | None = None) -> NumberStyle | None:
        """How pages show this field's numbers (None: not a number). ``style_of`` resolves the style of the
        fields a computed value comes from, when the caller knows the entity (a sum of money is money)."""
        return None

    def check_definition(self, fdef: FieldDef, entity_names: set[str]) -> list[str]:
        """Semantic checks beyond the options schema (e.g. a link's target exists). Returns messages."""
        return []

    def check_in_entity(
        self,
        fdef: FieldDef,
        fields: Mapping[str, Mapping[str, Any]],
        entities: Mapping[str, Mapping[str, Any]],
    ) -> list[str]:
        """Checks against the field's own entity (``fields``: its field documents by key) and the app's
        entity documents: what a computed field is computed from must exist. Returns messages."""
        try:
            used = self.depends_on(fdef)
        except LowcodeError:
            return []  # a syntax error: check_definition reports it
        known = set(fields) | SYSTEM_NAMES
        return [
            f"field '{fdef.name}' is computed from unknown field '{name}'"
            for name in sorted(used)
            if not name.startswith("$") and name not in known
        ]

    def depends_on(self, fdef: FieldDef) -> set[str]:
        """For computed fields: the names of fields (or child tables) the value is computed from."""
        return set()

    def compute(self, fdef: FieldDef, record: dict[str, Any], children: dict[str, list], ctx) -> Any:
        """For computed fields: the value to store, from the record and its child rows."""
        raise NotImplementedError(self.type)

    def json_schema(self, fdef: FieldDef) -> dict[str, Any]:
        """JSON Schema of the value, for the OpenAPI document."""
        return {"type": ["string", "null"]}

    def convert_from(self, fdef: FieldDef, value: Any, source: FieldDef) -> Converted:
        """A value stored under the definition ``source`` converted into this type (``fdef``); the
        outcome says whether it kept its meaning. The default accepts what this type's input accepts."""
        return by_validation(self.marshmallow_field(fdef), value)
