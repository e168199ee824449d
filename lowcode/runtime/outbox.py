"""The outbox: events written in the writing transaction, delivered by a worker only after commit (which
rings :data:`lowcode.runtime.outbox_signal.OUTBOX_BELL`, so the worker's loop does not wait for its poll).
Each event also moves its entity's change counter at COMMIT (:mod:`lowcode.runtime.change_counters`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lowcode.core.jsonutil import to_jsonable
from lowcode.core.models import OutboxEvent, utcnow
from lowcode.runtime import change_counters, row_buffer
from lowcode.runtime.audit import encoded_insert
from lowcode.runtime.context import WriteContext
from lowcode.runtime.outbox_signal import ring_after_commit

EVENT_SCHEMA_VERSION = 1


_INSERT = OutboxEvent.__table__.insert()


def _event_row(
    app: str, entity: str, record_id: int | None, kind: str, created_at: dt.datetime, **payload: Any
) -> dict[str, Any]:
    """One outbox row's values; ``payload`` is ``payload=`` (JSON-safe) or ``payload_json=`` (encoded text)."""
    return dict(
        app=app,
        entity=entity,
        record_id=record_id,
        kind=kind,
        schema_version=EVENT_SCHEMA_VERSION,
        created_at=created_at,
        **payload,
    )


def enqueue(
    ctx: WriteContext, app: str, entity: str, record_id: int | None, kind: str, payload: dict[str, Any]
) -> None:
    """Append one event (``kind`` = created/updated/deleted/restored) to the current transaction (at the end
    of a rule run's collecting block, see :mod:`lowcode.runtime.row_buffer`)."""
    ring_after_commit(ctx.session)
    change_counters.touch(ctx.session, app, entity)
    row_buffer.insert(
        ctx.session,
        _INSERT,
        _event_row(app, entity, record_id, kind, utcnow(), payload=to_jsonable(payload)),
    )


def enqueue_many(
    ctx: WriteContext, app: str, entity: str, events: list[tuple[int, str, dict[str, Any]]]
) -> None:
    """Append one event per ``(record_id, kind, payload)`` in one statement (bulk writes). The payloads
    must be JSON-safe already (built from :func:`lowcode.runtime.audit.diff`'s values)."""
    if not events:
        return
    now = utcnow()
    ring_after_commit(ctx.session)
    change_counters.touch(ctx.session, app, entity)
    row_buffer.insert_many(
        ctx.session,
        _INSERT,
        [
            _event_row(app, entity, record_id, kind, now, payload=payload)
            for record_id, kind, payload in events
        ],
    )


def enqueue_many_encoded(
    ctx: WriteContext, app: str, entity: str, events: list[tuple[int, str, str]]
) -> None:
    """Like :func:`enqueue_many` with each payload as JSON text already encoded."""
    if not events:
        return
    now = utcnow()
    ring_after_commit(ctx.session)
    change_counters.touch(ctx.session, app, entity)
    statement = encoded_insert(OutboxEvent.__table__, "payload", ctx.session.get_bind().dialect.name)
    ctx.session.execute(
        statement,
        [
            _event_row(app, entity, record_id, kind, now, payload_json=text)
            for record_id, kind, text in events
        ],
    )
