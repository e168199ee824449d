"""Step 2 of the write path: turn client input into typed values, or per-field messages.

Checks everything the definition promises: types and formats (marshmallow schema from the field registry),
required fields, select options, unique values, link targets and users that exist, and no writes to
computed or system fields.
"""

from __future__ import annotations

import weakref
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from lowcode.core.texts import Text
from lowcode.errors import BadRequest, ValidationFailed
from lowcode.fields.base import Doubt
from lowcode.runtime.compiler import RESERVED_NAMES, CompiledEntity
from lowcode.runtime.context import WriteContext

MAX_CHILD_ROWS = 1000


def load_input(
    ctx: WriteContext, entity: CompiledEntity, data: Any, partial: bool, hidden: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Validate a record body: returns (typed field values, raw child-row lists by child field).

    :raises ValidationFailed: with per-field messages; :raises BadRequest: if the body is not an object.
    """
    values, children, errors = parse_input(ctx, entity, data, partial, hidden)
    if errors:
        raise ValidationFailed(Text("Some fields are not valid"), fields=errors)
    return values, children


def parse_input(
    ctx: WriteContext, entity: CompiledEntity, data: Any, partial: bool, hidden: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]]:
    """Like :func:`load_input` but returns the errors instead of raising (so child-row errors can be
    reported together with the parent's)."""
    if not isinstance(data, dict):
        raise BadRequest("The record body must be a JSON object")
    errors: dict[str, list[str]] = {}
    body = dict(data)
    body.pop("version", None)
    for name in list(body):
        cf = entity.fields.get(name)
        if name in RESERVED_NAMES or (cf is not None and cf.ftype.computed):
            errors.setdefault(name, []).append(Text("This field is set by the server and cannot be written."))
        elif name in hidden:
            errors.setdefault(name, []).append(Text("You may not write this field."))
    children = {cf.name: body.pop(cf.name) for cf in entity.child_fields if cf.name in body}
    for name in errors:
        body.pop(name, None)
    if not partial:
        for cf in entity.writable:
            if cf.name not in body and cf.fdef.default is not None:
                body[cf.name] = cf.fdef.default
    try:
        values = entity.input_loader(partial).load(body)
    except ma.ValidationError as exc:
        errors.update({k: v if isinstance(v, list) else [v] for k, v in _flatten(exc.messages).items()})
        values = {}
    for name, rows in list(children.items()):
        if not isinstance(rows, list) or len(rows) > MAX_CHILD_ROWS:
            errors.setdefault(name, []).append(f"Must be a list of at most {MAX_CHILD_ROWS} rows.")
            del children[name]
    return values, children, errors


def _flatten(messages: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(messages, dict):
        return {prefix or "_schema": messages}
    flat: dict[str, Any] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        else:
            flat[name] = (
                [Text(m) if isinstance(m, str) else m for m in value] if isinstance(value, list) else value
            )
    return flat


def load_child_rows(
    ctx: WriteContext, child: CompiledEntity, field_name: str, rows: list[Any]
) -> list[dict[str, Any]]:
    """Validate each child row; ``id`` identifies an existing row to keep/update.

    :raises ValidationFailed: with paths such as ``lines.2.qty``.
    """
    loaded: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors[f"{field_name}.{i}"] = ["Each row must be an object."]
            continue
        row = dict(row)
        row_id = row.pop("id", None)
        try:
            values, _ = load_input(ctx, child, row, partial=False)
        except ValidationFailed as exc:
            errors.update({f"{field_name}.{i}.{k}": v for k, v in exc.fields.items()})
            continue
        if row_id is not None and (isinstance(row_id, bool) or not isinstance(row_id, int)):
            errors[f"{field_name}.{i}.id"] = ["Row id must be an integer."]
            continue
        loaded.append({**values, "id": row_id})
    if errors:
        raise ValidationFailed(Text("Some rows are not valid"), fields=errors)
    return loaded


USED = "Must be unique: this value is already used."
"""The message of a unique value held by a record the writer may not read: nothing of that record."""


def check_unique(
    ctx: WriteContext, entity: CompiledEntity, values: dict[str, Any], record_id: int | None, permissions: Any
) -> dict[str, list[str]]:
    """Messages for unique fields whose value another record already holds (deleted ones included).

    The other record is never named; whether it is deleted (and may be restored) is only said when the
    writer may read it under their record rules (``permissions.read_filter``)."""
    errors: dict[str, list[str]] = {}
    table = entity.table
    readable: list[Any] = []  # the read filter, built when a value is looked up (most writes set none)

    def holder(*names: str):
        if not readable:
            where = permissions.read_filter(ctx.actor, entity, ctx.variables)
            readable.append(None if where is None else sa.case((where, sa.true()), else_=sa.false()))
        if readable[0] is None:  # every record readable: one prebuilt statement per table and fields
            params = {f"_lc_u{i}": values[n] for i, n in enumerate(names)}
            query = _holder_select(table, names, record_id is not None)
            return ctx.session.execute(query, {**params, "_lc_rid": record_id}).first()
        match = [table.c[n] == values[n] for n in names]
        query = sa.select(table.c.id, table.c.deleted_at, readable[0].label("readable")).where(*match)
        if record_id is not None:
            query = query.where(table.c.id != record_id)
        return ctx.session.execute(query.limit(1)).first()

    for cf in entity.fields.values():
        if not cf.fdef.unique or values.get(cf.name) is None:
            continue
        other = holder(cf.name)
        if other is None:
            continue
        if not other.readable:
            errors[cf.name] = [USED]
        elif other.deleted_at:
            errors[cf.name] = [
                "Must be unique: a deleted record already has this value (restore it or change the value)."
            ]
        else:
            errors[cf.name] = ["Must be unique: another record already has this value."]
    for group in entity.definition.get("unique_together", []):
        if any(values.get(n) is None for n in group):
            continue
        if holder(*group) is not None:
            errors[group[0]] = [
                f"Must be unique together with {', '.join(group[1:])}: another record has these values."
            ]
    return errors


_HOLDERS: weakref.WeakKeyDictionary[sa.Table, dict[tuple, sa.Select]] = weakref.WeakKeyDictionary()


def _holder_select(table: sa.Table, names: tuple[str, ...], other: bool) -> sa.Select:
    """``SELECT id, deleted_at, true AS readable WHERE <names> = :_lc_u<i> [AND id != :_lc_rid] LIMIT 1``,
    built once per table, fields and whether a record is left out (SQLAlchemy then reuses its compiled
    form instead of keying a new statement per write)."""
    built = _HOLDERS.get(table)
    if built is None:
        built = _HOLDERS[table] = {}
    query = built.get((names, other))
    if query is None:
        match = [table.c[n] == sa.bindparam(f"_lc_u{i}", type_=table.c[n].type) for i, n in enumerate(names)]
        query = sa.select(table.c.id, table.c.deleted_at, sa.true().label("readable")).where(*match)
        if other:
            query = query.where(table.c.id != sa.bindparam("_lc_rid"))
        built[(names, other)] = query = query.limit(1)
    return query


def check_values(entity: CompiledEntity, values: dict[str, Any]) -> dict[str, list[str]]:
    """Messages for typed values the server produced (a guarded update, a rule) that do not fit their
    fields: the type, precision and range a client's input would be held to, and required fields."""
    errors: dict[str, list[str]] = {}
    schema_fields = entity.input_schema(partial=True).fields
    converters = entity.input_loader(partial=True).converters
    for name, value in values.items():
        cf = entity.fields[name]
        dumped = cf.ftype.dump(cf.fdef, value)
        if dumped is not None and name in converters:
            try:  # the fast path takes only what the schema field takes (runtime/fast_input.py)
                converters[name][0](dumped)
                continue
            except Doubt:
                pass
        try:
            schema_fields[name].deserialize(dumped)
        except ma.ValidationError as exc:
            messages = exc.messages
            errors[name] = list(messages) if isinstance(messages, list) else [str(messages)]
    return errors
