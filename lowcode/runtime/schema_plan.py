"""What publishing an entity will do to its table, worked out before anything changes: the schema plan.

The plan compares three things: the table as the database has it (reflected), the previously published
definition (what each column means) and the new one. Columns are never reused under a new meaning: a
removed field's column goes to the trash, a column that no published field explains (an orphan, left by
an earlier version of the platform) goes to the trash too, and a type change writes the converted values to
a fresh column while the original goes to the trash. Conversions are counted row by row through the target
field type's conversion hook, so the plan says how many values convert exactly, with loss or not at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lowcode.core.types import ExactDecimal
from lowcode.errors import BadRequest, SchemaChangeRefused
from lowcode.fields.base import CHILD_SYSTEM_FIELDS, SYSTEM_FIELDS
from lowcode.fields.conversion import EXACT, FAILED, LOSSY
from lowcode.runtime.compiler import CompiledEntity, CompiledField

TRASH_PREFIX = "_trash_"
"""Trash column names start with this; a field key (``^[a-z]``) never does."""
EXAMPLES = 5


@dataclass(frozen=True)
class PublishOptions:
    """What the publisher says beyond the definition: renamed keys, consent to lossy conversions, and
    fields to bring back from the trash instead of starting empty."""

    renames: Mapping[str, str] = field(default_factory=dict)
    """Old field key -> new field key (the column is renamed; its data stays)."""
    consent: frozenset[str] = frozenset()
    """Field keys whose conversion may round, truncate or empty values (the originals stay in the trash)."""
    restore: Mapping[str, int] = field(default_factory=dict)
    """Field key -> id of a trashed column to restore as that field's column."""

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> PublishOptions:
        """Options from a request body; :raises BadRequest: on a malformed one."""
        doc = doc or {}
        renames, consent, restore = doc.get("renames", {}), doc.get("consent", []), doc.get("restore", {})
        if not isinstance(renames, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in renames.items()
        ):
            raise BadRequest("'renames' must map old field keys to new field keys")
        if not isinstance(consent, list) or not all(isinstance(k, str) for k in consent):
            raise BadRequest("'consent' must be a list of field keys")
        if not isinstance(restore, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in restore.items()
        ):
            raise BadRequest("'restore' must map field keys to trash entry ids")
        return cls(dict(renames), frozenset(consent), dict(restore))


NO_OPTIONS = PublishOptions()
"""A publish with nothing renamed, consented to or restored."""


@dataclass
class Step:
    """One change of the plan. ``op`` is one of: create_table, add_column, rename_column, convert_column,
    widen_column, trash_column, restore_column, drop_index, add_index."""

    op: str
    field: str | None = None
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)
    needs_consent: bool = False

    def as_json(self) -> dict[str, Any]:
        """The step as the API shows it."""
        return {"op": self.op, "field": self.field, **self.detail, "needs_consent": self.needs_consent}


@dataclass
class SchemaPlan:
    """Every change publishing will make to one table, in the order they are applied."""

    table: str
    steps: list[Step] = field(default_factory=list)
    consent: frozenset[str] = frozenset()

    @property
    def missing_consent(self) -> list[str]:
        """Fields whose conversion would lose data and that the publisher has not consented to."""
        return [s.field for s in self.steps if s.needs_consent and s.field not in self.consent]

    def as_json(self) -> dict[str, Any]:
        """The plan as the API shows it."""
        return {
            "table": self.table,
            "steps": [s.as_json() for s in self.steps],
            "needs_consent": self.missing_consent,
        }


def signature(col_type: sa.types.TypeEngine) -> str:
    """A column type's identity for comparison (ExactDecimal's repr hides precision and scale)."""
    if isinstance(col_type, ExactDecimal):
        return f"ExactDecimal({col_type.precision}, {col_type.scale})"
    return repr(col_type)


def widens(before: sa.types.TypeEngine, after: sa.types.TypeEngine) -> bool:
    """Whether ``after`` only makes a VARCHAR longer (every value fits unchanged)."""
    if not isinstance(before, sa.String) or isinstance(before, sa.Text) or not isinstance(after, sa.String):
        return False
    if isinstance(after, sa.Text) or after.length is None:
        return True
    return before.length is not None and after.length >= before.length


def plan_entity(
    connection: sa.Connection,
    old: CompiledEntity | None,
    new: CompiledEntity,
    options: PublishOptions,
    trashed: Mapping[int, Any],
) -> SchemaPlan:
    """The plan that brings ``new.table`` in line with ``new`` (``old`` = the published version, if any).

    ``trashed`` maps trash ids to restorable :class:`~lowcode.core.definition_models.TrashedColumn` rows of this entity.
    :raises BadRequest: for renames or restores that do not fit the definitions.
    """
    plan = SchemaPlan(new.table.name, consent=options.consent)
    if not sa.inspect(connection).has_table(new.table.name):
        if options.renames or options.restore:
            raise BadRequest("Nothing to rename or restore: the table does not exist yet")
        plan.steps.append(Step("create_table", detail={"columns": len(new.table.columns)}))
        return plan
    if old is not None and old.is_child != new.is_child:
        raise SchemaChangeRefused(
            f"Entity '{new.name}' cannot change between a child table and a top-level entity once published; "
            "create a new entity instead",
            fields={"child": ["cannot change once published"]},
        )
    inspector = sa.inspect(connection)
    existing = {c["name"]: c["type"] for c in inspector.get_columns(new.table.name)}
    old_fields = _stored(old) if old is not None else {}
    new_fields = _stored(new)
    _check_options(options, old_fields, new_fields, trashed)
    renamed_from = {new_key: old_key for old_key, new_key in options.renames.items()}
    system = set(SYSTEM_FIELDS) | set(CHILD_SYSTEM_FIELDS)
    moved: set[str] = set(options.renames) | set(options.renames.values()) | set(options.restore)
    for name in existing:
        if name in system or name.startswith(TRASH_PREFIX) or name in options.renames:
            continue
        if not (name in old_fields and name in new_fields):
            reason = "field removed" if name in old_fields else "orphan column (no published field uses it)"
            plan.steps.append(Step("trash_column", name, {"reason": reason, "column": name}))
            moved.add(name)
    for key, cf in new_fields.items():
        source = renamed_from.get(key, key)
        if source != key:
            plan.steps.append(Step("rename_column", key, {"from": source, "to": key}))
        if key in options.restore:
            entry = trashed[options.restore[key]]
            plan.steps.append(
                Step("restore_column", key, {"trash_id": entry.id, "column": entry.column_name})
            )
        elif source in existing and source in old_fields:
            step = _change_step(connection, new.table.name, source, old_fields[source], cf)
            if step is not None:
                plan.steps.append(step)
                moved.add(key)
        else:
            available = [e.id for e in trashed.values() if e.field_key == key]
            plan.steps.append(Step("add_column", key, {"type": cf.fdef.type, "trash_available": available}))
    plan.steps += _index_steps(inspector, new, moved)
    return plan


def _stored(entity: CompiledEntity) -> dict[str, CompiledField]:
    return {k: cf for k, cf in entity.fields.items() if cf.has_column}


def _check_options(options, old_fields, new_fields, trashed) -> None:
    for old_key, new_key in options.renames.items():
        if old_key not in old_fields or old_key in new_fields:
            raise BadRequest(
                f"Cannot rename '{old_key}': the published definition must have it and the new one not"
            )
        if new_key not in new_fields or new_key in old_fields:
            raise BadRequest(
                f"Cannot rename to '{new_key}': the new definition must have it and the published one not"
            )
    for key, trash_id in options.restore.items():
        entry = trashed.get(trash_id)
        if entry is None:
            raise BadRequest(
                f"Trash entry {trash_id} does not exist for this entity or is no longer restorable"
            )
        if key not in new_fields or key in old_fields or key in options.renames.values():
            raise BadRequest(f"Field '{key}' must be new in this version to be restored from the trash")
        wanted = signature(new_fields[key].ftype.column_type(new_fields[key].fdef))
        if entry.field is None or _field_signature(entry.field) != wanted:
            raise BadRequest(
                f"Trash entry {trash_id} holds values of another type than field '{key}'; restore it with "
                "its own type, then change the type"
            )


def _field_signature(doc: Mapping[str, Any]) -> str:
    from lowcode.fields import FieldDef, field_types

    fdef = FieldDef.from_json(doc)
    return signature(field_types.get(fdef.type).column_type(fdef))


def _change_step(connection, table_name: str, column: str, before: CompiledField, after: CompiledField):
    """How a kept field's column changes: nothing, a widening, or a conversion (counted row by row)."""
    old_type, new_type = before.ftype.column_type(before.fdef), after.ftype.column_type(after.fdef)
    same_column = signature(old_type) == signature(new_type)
    if same_column and before.fdef.type == after.fdef.type and before.fdef.options == after.fdef.options:
        return None
    if not same_column and before.fdef.type == after.fdef.type and widens(old_type, new_type):
        return Step("widen_column", after.name, {"from": signature(old_type), "to": signature(new_type)})
    counts = count_conversions(connection, table_name, column, before, after)
    if same_column and counts[LOSSY] == counts[FAILED] == 0:
        return None  # e.g. new choices or a label: every stored value is still valid as it is
    detail = {"from": _describe(before), "to": _describe(after), "column": column, **counts}
    return Step("convert_column", after.name, detail, needs_consent=bool(counts[LOSSY] or counts[FAILED]))


def _describe(cf: CompiledField) -> str:
    options = {
        k: v for k, v in cf.fdef.options.items() if k in ("precision", "scale", "max_length", "result")
    }
    return cf.fdef.type + (f" {options}" if options else "")


def count_conversions(connection, table_name, column, before: CompiledField, after: CompiledField) -> dict:
    """How each stored value of ``column`` would convert: counts per outcome and a few example ids."""
    counts: dict[str, Any] = {"rows": 0, EXACT: 0, LOSSY: 0, FAILED: 0, "examples": []}
    for row_id, converted in iter_conversions(connection, table_name, column, before, after):
        counts["rows"] += 1
        counts[converted.outcome] += 1
        if converted.outcome != EXACT and len(counts["examples"]) < EXAMPLES:
            counts["examples"].append(row_id)
    return counts


def iter_conversions(connection, table_name, column, before: CompiledField, after: CompiledField):
    """(id, Converted) for every non-empty value of ``column`` read as ``before`` and converted into ``after``."""
    source = sa.table(table_name, sa.column("id"), sa.column(column, before.ftype.column_type(before.fdef)))
    query = (
        sa.select(source.c.id, source.c[column]).where(source.c[column].is_not(None)).order_by(source.c.id)
    )
    for row_id, value in connection.execute(query):
        yield row_id, after.ftype.convert_from(after.fdef, value, before.fdef)


def _index_steps(inspector, new: CompiledEntity, moved: set[str]) -> list[Step]:
    """Indexes follow the definition both ways; an index on a column that moves is rebuilt."""
    wanted = {ix.name: ix for ix in new.table.indexes}
    steps: list[Step] = []
    have = set()
    for ix in inspector.get_indexes(new.table.name):
        touches_moved = any(c in moved for c in ix["column_names"])
        if ix["name"] in wanted and not touches_moved:
            have.add(ix["name"])
            continue
        if ix["name"] in wanted or ix["name"].startswith(("ux_", "ix_")):
            steps.append(Step("drop_index", None, {"index": ix["name"], "columns": ix["column_names"]}))
    for name, ix in sorted(wanted.items()):
        if name not in have:
            columns = [c.name for c in ix.columns]
            steps.append(
                Step(
                    "add_index",
                    columns[0] if len(columns) == 1 else None,
                    {"index": name, "columns": columns, "unique": bool(ix.unique)},
                )
            )
    return steps
