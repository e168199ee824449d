"""Entity definition -> CompiledEntity: a SQLAlchemy ``Table``, the input schema and field lookup.

Compiled entities are immutable and belong to one :class:`~lowcode.runtime.snapshot.Snapshot`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from lowcode.fields import FieldDef, FieldType, field_types
from lowcode.fields.base import SYSTEM_NAMES, normalise_label, pick_label
from lowcode.fields.fetch import fetch_spec
from lowcode.runtime.fast_input import FastInput
from lowcode.runtime.indexes import composite_index

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
RESERVED_NAMES = SYSTEM_NAMES
SYSTEM_KINDS = {
    "id": "integer",
    "version": "integer",
    "created_at": "datetime",
    "updated_at": "datetime",
    "created_by": "integer",
    "updated_by": "integer",
    "owner": "integer",
}


def table_name(app: str, entity: str) -> str:
    """Physical table name of an entity."""
    return f"e_{app}_{entity}"


@dataclass(frozen=True)
class CompiledField:
    """A field definition bound to its field type."""

    fdef: FieldDef
    ftype: FieldType
    has_column: bool = field(init=False)
    """Whether the field is stored in a column of the entity's table (decided once, at compile time)."""
    name: str = field(init=False)
    """The field key (also its column name); a plain attribute, read for every field of every write."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "has_column", self.ftype.column_type(self.fdef) is not None)
        object.__setattr__(self, "name", self.fdef.name)


@dataclass(frozen=True)
class EntityStatements:
    """Statements the write path runs on every write, built once per compiled entity.

    SQLAlchemy caches compiled SQL per statement object; building a new ``insert().values(...)`` per
    write costs more than SQLite's own work, so the hot path binds parameters to these instead.
    """

    insert: sa.Insert
    insert_many: sa.Insert
    insert_rows: sa.Insert
    top_id: sa.Select
    guarded_update: sa.Update

    @classmethod
    def for_table(cls, table: sa.Table) -> EntityStatements:
        """``INSERT ... RETURNING id`` (one row; many rows with their ids in parameter order) and ``UPDATE ... WHERE id = :b_id AND version = :b_version``
        (the SET clause comes from the keys of the parameters)."""
        return cls(
            insert=table.insert().returning(table.c.id),
            insert_many=table.insert().returning(table.c.id, sort_by_parameter_order=True),
            insert_rows=table.insert(),
            top_id=sa.select(sa.func.max(table.c.id)),
            guarded_update=table.update().where(
                table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_version")
            ),
        )


@dataclass
class CompiledEntity:
    """Everything the runtime needs about one published entity."""

    app: str
    name: str
    label: dict[str, str]
    is_child: bool
    fields: dict[str, CompiledField]
    table: sa.Table
    title_field: str | None
    definition: dict[str, Any]
    version: int
    kinds: dict[str, str] = field(default_factory=dict)
    access: Any = None
    """The roles' grants on this entity (``lowcode.auth.grants.EntityAccess``), set by the snapshot."""
    workflow: Any = None
    """Its workflow (``lowcode.workflows.model.CompiledWorkflow``), set by the snapshot; None without one."""
    form_rules: Any = None
    """The conditional fields of its form (``lowcode.runtime.form_rules.FormRules``), set by the snapshot."""

    def label_for(self, language: str) -> str:
        """The entity label in a language."""
        return pick_label(self.label, language, self.name)

    @property
    def writable(self) -> list[CompiledField]:
        """Fields a client may send (stored, not computed, not child tables); worked out once."""
        return self._once(
            "_writable", lambda: [f for f in self.fields.values() if f.has_column and not f.ftype.computed]
        )

    @property
    def child_fields(self) -> list[CompiledField]:
        """Child-table fields (line items); worked out once."""
        return self._once(
            "_child_fields",
            lambda: [f for f in self.fields.values() if getattr(f.ftype, "holds_children", False)],
        )

    @property
    def references(self) -> list[CompiledField]:
        """Link and user fields (values naming a record or a user that writes check); worked out once."""
        return self._once(
            "_references",
            lambda: [
                f
                for f in self.fields.values()
                if getattr(f.ftype, "references_entity", False) or getattr(f.ftype, "references_user", False)
            ],
        )

    @property
    def computed(self) -> list[CompiledField]:
        """Computed fields in dependency order (a field after the fields it is computed from); worked out
        once."""
        return self._once(
            "_computed", lambda: _dependency_order([f for f in self.fields.values() if f.ftype.computed])
        )

    @property
    def fetches(self) -> bool:
        """Whether a write may fill fields from linked records (``fetch_from`` here, or child rows, whose
        entities may fetch): if not, the write path skips the fetch step."""
        return self._once(
            "_fetches",
            lambda: (
                bool(self.child_fields)
                or any(fetch_spec(f.fdef.options) is not None for f in self.fields.values() if f.has_column)
            ),
        )

    def _once(self, key: str, build: Any) -> Any:
        """A value derived from the (never changed) fields, built on first use and kept on the instance."""
        cached = self.__dict__.get(key)
        if cached is None:
            cached = self.__dict__[key] = build()
        return cached

    @property
    def statements(self) -> EntityStatements:
        """Prebuilt INSERT/UPDATE statements of the table (built once; executed with parameter dicts)."""
        cached = self.__dict__.get("_statements")
        if cached is None:
            cached = self.__dict__["_statements"] = EntityStatements.for_table(self.table)
        return cached

    def condition(self, doc: dict[str, Any], path: str = "") -> Any:
        """A parsed condition over this entity's fields, cached by its JSON text (rules reuse a few)."""
        from lowcode.conditions import parse_condition

        cache = self.__dict__.setdefault("_conditions", {})
        key = (json.dumps(doc, sort_keys=True, default=str), path)
        if key not in cache:
            if len(cache) > 1000:
                cache.clear()
            cache[key] = parse_condition(doc, self.kinds, path=path)
        return cache[key]

    def input_schema(self, partial: bool) -> ma.Schema:
        """A marshmallow schema for client input; ``partial`` for updates (no field is required)."""
        cache = self.__dict__.setdefault("_schemas", {})
        if partial not in cache:
            cache[partial] = _build_schema(self, partial)
        return cache[partial]

    def input_loader(self, partial: bool) -> FastInput:
        """The input schema behind the fast path of :mod:`lowcode.runtime.fast_input` (built once)."""
        cache = self.__dict__.setdefault("_loaders", {})
        if partial not in cache:
            hooks = {cf.name: cf.ftype.coerce(cf.fdef) for cf in self.writable}
            cache[partial] = FastInput(self.input_schema(partial), hooks)
        return cache[partial]


def _build_schema(entity: CompiledEntity, partial: bool) -> ma.Schema:
    declared: dict[str, ma.fields.Field] = {}
    relaxed = entity.form_rules.relaxed if entity.form_rules is not None else frozenset()
    for cf in entity.writable:
        required = cf.fdef.required and cf.name not in relaxed  # the form decides (runtime/form_guard.py)
        mfield = cf.ftype.marshmallow_field(cf.fdef)
        mfield.required = required and not partial
        mfield.allow_none = not required
        declared[cf.name] = mfield
    schema_cls = ma.Schema.from_dict(declared, name=f"{entity.app}_{entity.name}_input")
    return schema_cls(partial=partial)


def _dependency_order(computed: list[CompiledField]) -> list[CompiledField]:
    by_name = {f.name: f for f in computed}
    ordered: list[CompiledField] = []
    seen: set[str] = set()

    def visit(f: CompiledField, chain: tuple[str, ...]) -> None:
        if f.name in seen:
            return
        for dep in sorted(f.ftype.depends_on(f.fdef)):
            if dep in by_name and dep not in chain:
                visit(by_name[dep], (*chain, f.name))
        seen.add(f.name)
        ordered.append(f)

    for f in computed:
        visit(f, ())
    return ordered


def compile_entity(app: str, body: Mapping[str, Any], version: int, metadata: sa.MetaData) -> CompiledEntity:
    """Build the compiled form of a validated entity definition inside ``metadata``."""
    fields: dict[str, CompiledField] = {}
    for doc in body["fields"]:
        fdef = FieldDef.from_json(doc)
        fields[fdef.name] = CompiledField(fdef, field_types.get(fdef.type))
    is_child = bool(body.get("child", False))
    table = _build_table(app, body["name"], fields, is_child, metadata, body.get("unique_together", []))
    for group in body.get("indexes", []):
        composite_index(table, group)  # attached to the table
    kinds = dict(SYSTEM_KINDS)
    for cf in fields.values():
        kind = cf.ftype.value_kind(cf.fdef)
        if kind and cf.has_column:
            kinds[cf.name] = kind
    return CompiledEntity(
        app=app,
        name=body["name"],
        label=normalise_label(body.get("label"), body["name"]),
        is_child=is_child,
        fields=fields,
        table=table,
        title_field=body.get("title_field") or _first_text(fields),
        definition=dict(body),
        version=version,
        kinds=kinds,
    )


def _first_text(fields: dict[str, CompiledField]) -> str | None:
    for cf in fields.values():
        if cf.ftype.value_kind(cf.fdef) == "text" and cf.has_column:
            return cf.name
    return None


def _build_table(
    app: str,
    entity: str,
    fields: dict[str, CompiledField],
    is_child: bool,
    metadata: sa.MetaData,
    unique_together: list[list[str]] = (),
) -> sa.Table:
    name = table_name(app, entity)
    columns: list[sa.schema.SchemaItem] = [
        sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("owner", sa.BigInteger(), nullable=True, index=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
    ]
    if is_child:
        columns.append(sa.Column("parent_id", sa.BigInteger(), nullable=False, index=True))
        columns.append(sa.Column("idx", sa.Integer(), nullable=False, server_default="0"))
    for cf in fields.values():
        col_type = cf.ftype.column_type(cf.fdef)
        if col_type is None:
            continue
        columns.append(sa.Column(cf.name, col_type, nullable=True))
        if cf.fdef.unique:
            columns.append(sa.Index(f"ux_{name}_{cf.name}", cf.name, unique=True))
        elif cf.fdef.indexed or getattr(cf.ftype, "references_entity", False):
            columns.append(sa.Index(f"ix_{name}_{cf.name}", cf.name))
    for group in unique_together:
        columns.append(sa.Index(f"ux_{name}_{'_'.join(group)}"[:63], *group, unique=True))
    return sa.Table(name, metadata, *columns)
