"""Step 2 of the write path: turn client input into typed values, or per-field messages.

Checks everything the definition promises: types and formats (marshmallow schema from the field registry),
required fields, select options, unique values, link targets and users that exist, and no writes to
computed or system fields.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from lowcode.core.models import User
from lowcode.errors import BadRequest, ValidationFailed
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
        raise ValidationFailed("Some fields are not valid", fields=errors)
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
            errors.setdefault(name, []).append("This field is set by the server and cannot be written.")
        elif name in hidden:
            errors.setdefault(name, []).append("You may not write this field.")
    children = {cf.name: body.pop(cf.name) for cf in entity.child_fields if cf.name in body}
    for name in errors:
        body.pop(name, None)
    if not partial:
        for cf in entity.writable:
            if cf.name not in body and cf.fdef.default is not None:
                body[cf.name] = cf.fdef.default
    try:
        values = entity.input_schema(partial).load(body)
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
            flat[name] = value
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
        raise ValidationFailed("Some rows are not valid", fields=errors)
    return loaded


def check_references(
    ctx: WriteContext, entity: CompiledEntity, values: dict[str, Any], prefix: str = ""
) -> dict[str, list[str]]:
    """Messages for link values whose record does not exist (or is deleted) and unknown user ids."""
    errors: dict[str, list[str]] = {}
    for cf in entity.fields.values():
        value = values.get(cf.name)
        if value is None:
            continue
        if getattr(cf.ftype, "references_entity", False):
            target = ctx.snapshot.entity(entity.app, cf.fdef.options["entity"]).table
            if not _link_target_exists(ctx, target, value):
                errors[prefix + cf.name] = [f"No {cf.fdef.options['entity']} record with id {value}."]
        elif getattr(cf.ftype, "references_user", False) and ctx.session.get(User, value) is None:
            errors[prefix + cf.name] = [f"No user with id {value}."]
    return errors


LINK_CACHE = "lowcode_live_links"
"""``session.info`` key: (table, id) pairs known to exist in this transaction (soft deletes discard them)."""


def _link_target_exists(ctx: WriteContext, target, value) -> bool:
    seen = ctx.session.info.setdefault(LINK_CACHE, set())
    if (target.name, value) in seen:
        return True
    exists = ctx.session.execute(
        sa.select(target.c.id).where(target.c.id == value, target.c.deleted_at.is_(None))
    ).first()
    if exists is not None:
        seen.add((target.name, value))
    return exists is not None


def forget_link_target(session, table_name: str, record_id: int) -> None:
    """A record stopped being a valid link target in this transaction (it was soft-deleted)."""
    session.info.get(LINK_CACHE, set()).discard((table_name, record_id))


def check_unique(
    ctx: WriteContext, entity: CompiledEntity, values: dict[str, Any], record_id: int | None
) -> dict[str, list[str]]:
    """Messages for unique fields whose value another record already holds (deleted ones included)."""
    errors: dict[str, list[str]] = {}
    table = entity.table
    for cf in entity.fields.values():
        if not cf.fdef.unique or values.get(cf.name) is None:
            continue
        query = sa.select(table.c.id, table.c.deleted_at).where(table.c[cf.name] == values[cf.name])
        if record_id is not None:
            query = query.where(table.c.id != record_id)
        other = ctx.session.execute(query.limit(1)).first()
        if other is not None:
            # the other record is not named: the writer may not be allowed to see it
            errors[cf.name] = [
                "Must be unique: a deleted record already has this value (restore it or change the value)."
                if other.deleted_at
                else "Must be unique: another record already has this value."
            ]
    for group in entity.definition.get("unique_together", []):
        if any(values.get(n) is None for n in group):
            continue
        query = sa.select(table.c.id).where(*[table.c[n] == values[n] for n in group])
        if record_id is not None:
            query = query.where(table.c.id != record_id)
        other = ctx.session.execute(query.limit(1)).first()
        if other is not None:
            errors[group[0]] = [
                f"Must be unique together with {', '.join(group[1:])}: another record has these values."
            ]
    return errors


def check_values(entity: CompiledEntity, values: dict[str, Any]) -> dict[str, list[str]]:
    """Messages for typed values the server produced (a guarded update, a rule) that do not fit their
    fields: the type, precision and range a client's input would be held to, and required fields."""
    errors: dict[str, list[str]] = {}
    schema_fields = entity.input_schema(partial=True).fields
    for name, value in values.items():
        cf = entity.fields[name]
        try:
            schema_fields[name].deserialize(cf.ftype.dump(cf.fdef, value))
        except ma.ValidationError as exc:
            messages = exc.messages
            errors[name] = list(messages) if isinstance(messages, list) else [str(messages)]
    return errors
