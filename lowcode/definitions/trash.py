"""The trash of an entity's table: columns moved aside by publishes, restored or purged on request.

A removed field's column, a column converted to another type (its original values) and an orphan column all
land here (see :mod:`lowcode.runtime.schema_plan`). Restoring republishes the entity with the field back and
its old column under the field's key; purging drops the column for good.
"""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.definition_models import Definition, TrashedColumn
from lowcode.core.models import utcnow
from lowcode.definitions import publisher, store
from lowcode.definitions.tables import restorable_trash
from lowcode.errors import BadRequest, NotFound, SchemaChangeRefused
from lowcode.runtime.schema_plan import PublishOptions


def list_trash(session: Session, app: str, entity: str) -> list[dict[str, Any]]:
    """Every trash entry of an entity, newest first, restorable or not."""
    _entity_definition(session, app, entity)
    rows = session.scalars(
        sa.select(TrashedColumn)
        .where(TrashedColumn.app == app, TrashedColumn.entity == entity)
        .order_by(TrashedColumn.id.desc())
    )
    return [_as_json(row) for row in rows]


def _as_json(row: TrashedColumn) -> dict[str, Any]:
    state = "purged" if row.purged_at else "restored" if row.restored_at else "restorable"
    return {
        "id": row.id,
        "field_key": row.field_key,
        "field": row.field,
        "column": row.column_name,
        "reason": row.reason,
        "values_count": row.values_count,
        "definition_version": row.definition_version,
        "trashed_at": row.trashed_at,
        "trashed_by": row.trashed_by,
        "state": state,
        "restored_at": row.restored_at,
        "purged_at": row.purged_at,
        "purged_by": row.purged_by,
    }


def _entity_definition(session: Session, app: str, entity: str) -> Definition:
    found = session.scalar(
        sa.select(Definition).where(
            Definition.app == app, Definition.kind == "entity", Definition.name == entity
        )
    )
    if found is None or found.published_version is None:
        raise NotFound(f"No published entity '{entity}' in app '{app}'")
    return found


def _restorable(session: Session, app: str, entity: str, trash_id: int) -> TrashedColumn:
    entry = restorable_trash(session, app, entity).get(trash_id)
    if entry is None:
        raise NotFound(f"Trash entry {trash_id} of '{entity}' does not exist or was restored or purged")
    return entry


def restore(
    session: Session,
    app: str,
    entity: str,
    trash_id: int,
    actor_name: str,
    as_key: str | None = None,
    *,
    settings: publisher.Settings = None,
) -> publisher.Published:
    """Bring a trashed column back as a field (its old definition, under ``as_key`` if given) and publish.

    :raises SchemaChangeRefused: when the entity already has a field of that key.
    """
    d = _entity_definition(session, app, entity)
    entry = _restorable(session, app, entity, trash_id)
    if entry.field is None:
        raise BadRequest(
            f"Trash entry {trash_id} is an orphan column whose type is unknown; it can only be purged"
        )
    key = as_key or entry.field_key
    body = copy.deepcopy(store.published_body(session, d))
    if any(f["name"] == key for f in body["fields"]):
        raise SchemaChangeRefused(
            f"Entity '{entity}' already has a field '{key}'; restore under another key or rename it first",
            fields={key: ["a field with this key exists"]},
        )
    body["fields"].append({**entry.field, "name": key})
    d.draft = copy.deepcopy(body)
    options = PublishOptions(restore={key: trash_id})
    note = f"restored '{key}' from the trash"
    return publisher.publish_body(session, d, body, actor_name, note, options, settings=settings)


def purge(session: Session, app: str, entity: str, trash_id: int, actor_name: str) -> dict[str, Any]:
    """Drop a trashed column for good (its values are gone); the trash entry stays as a record."""
    _entity_definition(session, app, entity)
    entry = _restorable(session, app, entity, trash_id)
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(
        f"ALTER TABLE {quote(entry.table_name)} DROP COLUMN {quote(entry.column_name)}"
    )
    entry.purged_at, entry.purged_by = utcnow(), actor_name
    session.flush()
    return _as_json(entry)
