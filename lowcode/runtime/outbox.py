"""The outbox: events written in the writing transaction, delivered by a worker only after commit."""

from __future__ import annotations

from typing import Any

from lowcode.core.jsonutil import to_jsonable
from lowcode.core.models import OutboxEvent, utcnow
from lowcode.runtime.context import WriteContext

EVENT_SCHEMA_VERSION = 1


_INSERT = OutboxEvent.__table__.insert()


def enqueue(
    ctx: WriteContext, app: str, entity: str, record_id: int | None, kind: str, payload: dict[str, Any]
) -> None:
    """Append one event (``kind`` = created/updated/deleted/restored) to the current transaction."""
    ctx.session.execute(
        _INSERT,
        dict(
            app=app,
            entity=entity,
            record_id=record_id,
            kind=kind,
            payload=to_jsonable(payload),
            schema_version=EVENT_SCHEMA_VERSION,
            created_at=utcnow(),
        ),
    )
