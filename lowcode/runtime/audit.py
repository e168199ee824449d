"""The audit log: one row per change, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.commit_clock import mark_changed
from lowcode.core.jsonutil import to_jsonable
from lowcode.core.models import AuditEntry, utcnow
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


def record_change(
    ctx: WriteContext,
    app: str,
    entity: str,
    record_id: int | None,
    version: int | None,
    action: str,
    changes: dict[str, list],
) -> None:
    """Append one audit row to the current transaction."""
    mark_changed(ctx.session)
    ctx.session.execute(
        _INSERT,
        dict(
            app=app,
            entity=entity,
            record_id=record_id,
            version=version,
            action=action,
            actor_id=ctx.actor.user_id,
            actor_name=ctx.actor.username,
            source=ctx.source[:_SOURCE_LENGTH],
            ip=ctx.ip,
            diff=changes,
            schema_version=AUDIT_SCHEMA_VERSION,
            unit=ctx.unit,
            at=utcnow(),
        ),
    )


def record_changes(
    ctx: WriteContext, app: str, entity: str, entries: list[tuple[int, int, str, dict[str, list]]]
) -> None:
    """Append one audit row per ``(record_id, version, action, changes)`` in one statement (bulk writes)."""
    if not entries:
        return
    mark_changed(ctx.session)
    common = dict(
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
    ctx.session.execute(
        _INSERT,
        [
            {**common, "record_id": record_id, "version": version, "action": action, "diff": changes}
            for record_id, version, action, changes in entries
        ],
    )


def history(session: Session, app: str, entity: str, record_id: int, limit: int = 200) -> list[AuditEntry]:
    """Audit rows of one record, newest first."""
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
    rows = session.scalars(
        sa.select(AuditEntry.diff).where(
            AuditEntry.app == app,
            AuditEntry.entity == entity,
            AuditEntry.record_id == record_id,
            AuditEntry.version > version,
        )
    )
    return {name for d in rows for name in (d or {})}
