"""The audit log: one row per change, written in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.commit_clock import mark_changed
from lowcode.core.jsonutil import to_jsonable
from lowcode.core.models import AuditEntry, utcnow
from lowcode.runtime import row_buffer
from lowcode.runtime.context import WriteContext

AUDIT_SCHEMA_VERSION = 1


_INSERT = AuditEntry.__table__.insert()
_SOURCE_LENGTH = AuditEntry.__table__.c.source.type.length
"""Where a change came from (``api``, ``rule:<name>``...) is cut to its column; a rule's full name is kept in
``actor_name`` (``system:rule:<name>``), so a long rule name never fails the write."""


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None, names: list[str]) -> dict[str, list]:
    """``{field: [old, new]}`` for each named field whose value differs (JSON-safe values)."""
    before, after = before or {}, after or {}
    return {
        n: [to_jsonable(before.get(n)), to_jsonable(after.get(n))]
        for n in names
        if before.get(n) != after.get(n)
    }


def _same(value: Any) -> Any:
    return value


def _iso(value: dt.date) -> str:
    return value.isoformat()


_JSONABLE_BY_TYPE = {
    str: _same,
    int: _same,
    bool: _same,
    Decimal: lambda value: format(value, "f"),
    dt.date: _iso,
    dt.datetime: _iso,
}
"""The common values' JSON forms by exact type (as :func:`to_jsonable` gives them); others go through it."""


def created(after: dict[str, Any]) -> dict[str, list]:
    """The diff of a create, ``diff(None, after, list(after))``, for the plain values a create holds."""
    by_type = _JSONABLE_BY_TYPE
    return {n: [None, by_type.get(type(v), to_jsonable)(v)] for n, v in after.items() if v is not None}


@functools.cache
def encoded_insert(table: sa.Table, column: str, dialect: str) -> sa.Insert:
    """``INSERT`` into ``table`` whose JSON ``column`` is bound as JSON text already encoded (parameter
    ``<column>_json``), so a bulk write encodes a diff once for its audit row and its outbox event."""
    text = sa.bindparam(f"{column}_json", type_=sa.Text())
    value = sa.cast(text, table.c[column].type) if dialect == "postgresql" else text
    return table.insert().values({column: value})


def _common_columns(ctx: WriteContext, app: str, entity: str) -> dict[str, Any]:
    """The columns every audit row of one write shares: where, who, from where, when."""
    return dict(
        app=app,
        entity=entity,
        actor_id=ctx.actor.user_id,
        actor_name=ctx.actor.username,
        source=ctx.source[:_SOURCE_LENGTH],
        ip=ctx.ip,
        schema_version=AUDIT_SCHEMA_VERSION,
        unit=ctx.unit,
        at=utcnow(),
    )


def record_changes_encoded(
    ctx: WriteContext, app: str, entity: str, entries: list[tuple[int, int, str, str]]
) -> None:
    """Like :func:`record_changes` with each diff as JSON text (``jsonutil.dumps`` of it)."""
    if not entries:
        return
    mark_changed(ctx.session)
    statement = encoded_insert(AuditEntry.__table__, "diff", ctx.session.get_bind().dialect.name)
    common = _common_columns(ctx, app, entity)
    ctx.session.execute(
        statement,
        [
            {**common, "record_id": record_id, "version": version, "action": action, "diff_json": text}
            for record_id, version, action, text in entries
        ],
    )


def record_change(
    ctx: WriteContext,
    app: str,
    entity: str,
    record_id: int | None,
    version: int | None,
    action: str,
    changes: dict[str, list],
) -> None:
    """Append one audit row to the current transaction (at the end of a rule run's collecting block, see
    :mod:`lowcode.runtime.row_buffer`)."""
    mark_changed(ctx.session)
    row_buffer.insert(
        ctx.session,
        _INSERT,
        {
            **_common_columns(ctx, app, entity),
            "record_id": record_id,
            "version": version,
            "action": action,
            "diff": changes,
        },
    )


def record_changes(
    ctx: WriteContext, app: str, entity: str, entries: list[tuple[int, int, str, dict[str, list]]]
) -> None:
    """Append one audit row per ``(record_id, version, action, changes)`` in one statement (bulk writes)."""
    if not entries:
        return
    mark_changed(ctx.session)
    common = _common_columns(ctx, app, entity)
    row_buffer.insert_many(
        ctx.session,
        _INSERT,
        [
            {**common, "record_id": record_id, "version": version, "action": action, "diff": changes}
            for record_id, version, action, changes in entries
        ],
    )


def history(session: Session, app: str, entity: str, record_id: int, limit: int = 200) -> list[AuditEntry]:
    """Audit rows of one record, newest first."""
    row_buffer.flush(session)
    return list(
        session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.app == app, AuditEntry.entity == entity, AuditEntry.record_id == record_id)
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )


def fields_changed_since(session: Session, app: str, entity: str, record_id: int, version: int) -> set[str]:
    """Names of the fields changed by writes after ``version`` (for a 409's merge hint)."""
    row_buffer.flush(session)
    rows = session.scalars(
        sa.select(AuditEntry.diff).where(
            AuditEntry.app == app,
            AuditEntry.entity == entity,
            AuditEntry.record_id == record_id,
            AuditEntry.version > version,
        )
    )
    return {name for d in rows for name in (d or {})}
