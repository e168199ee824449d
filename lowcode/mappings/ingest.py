"""The inbound API's service: records sent by an external system, each with an idempotency key, mapped by a
published mapping and written through the record service (rules, audit, outbox as for any write).

One call of :func:`ingest_chunk` is one write transaction (the view commits a large batch in chunks). Each
item's key is claimed first in ``lc_ingest_key`` with an insert that skips keys already there (``ON CONFLICT
DO NOTHING``): on PostgreSQL a concurrent request holding the same key makes this insert wait for its commit,
so of two requests sending the same order at the same time exactly one applies it; the other answers
``duplicate`` with the first one's outcome. A rejected item's claim is given back, so the corrected item can
be sent again under the same key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lowcode.core.models import IngestKey, utcnow
from lowcode.errors import BadRequest, PayloadTooLarge
from lowcode.mappings.compiled import CompiledMapping
from lowcode.mappings.service import REJECTED, MappingService, Outcome
from lowcode.runtime.context import WriteContext

MAX_ITEMS = 5000
CHUNK = 200
MAX_KEY = 200
ACCEPTED, DUPLICATE = "accepted", "duplicate"
_K = IngestKey.__table__


@dataclass(frozen=True)
class IngestItem:
    """One record sent: its idempotency key and the payload the mapping reads."""

    index: int
    key: str
    data: Any


def parse_items(body: Any) -> list[IngestItem]:
    """``{"idempotency_key", "data"}`` or ``{"items": [...]}`` of them, checked.

    :raises BadRequest: malformed; :raises PayloadTooLarge: more than :data:`MAX_ITEMS` items.
    """
    if isinstance(body, dict) and "items" in body and set(body) == {"items"}:
        raw = body["items"]
        if not isinstance(raw, list) or not raw:
            raise BadRequest("'items' must be a non-empty list")
    elif isinstance(body, dict):
        raw = [body]
    else:
        raise BadRequest('Send {"idempotency_key": ..., "data": {...}} or {"items": [...]}')
    if len(raw) > MAX_ITEMS:
        raise PayloadTooLarge(f"At most {MAX_ITEMS} items per request")
    items, seen = [], set()
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {"idempotency_key", "data"}:
            raise BadRequest(f'items[{index}]: send {{"idempotency_key": "...", "data": {{...}}}}')
        key = item["idempotency_key"]
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
            raise BadRequest(f"items[{index}].idempotency_key: 1 to {MAX_KEY} characters")
        if key in seen:
            raise BadRequest(f"items[{index}].idempotency_key '{key}' is sent twice")
        seen.add(key)
        items.append(IngestItem(index, key, item["data"]))
    return items


def ingest_chunk(
    ctx: WriteContext,
    service: MappingService,
    mapping: CompiledMapping,
    items: Sequence[IngestItem],
    batched: bool = False,
) -> list[dict[str, Any]]:
    """Apply the items whose key is new, answer the others as duplicates; per-item answers in ``items`` order.
    ``batched``: plain creates through the bulk create (:meth:`MappingService.create_batch_from_source`)."""
    claimed = _claim(ctx, mapping, [i.key for i in items])
    fresh = [i for i in items if i.key in claimed]
    answers = {i.key: _duplicate(i, row) for i, row in _stored(ctx, mapping, items, claimed)}
    write = service.create_batch_from_source if batched else service.create_from_source
    outcomes = write(ctx, mapping, [i.data for i in fresh]) if fresh else []
    for item, outcome in zip(fresh, outcomes, strict=True):
        answers[item.key] = _answer(item, outcome)
    _settle(ctx, mapping, fresh, outcomes)
    return [answers[i.key] for i in items]


def _claim(ctx: WriteContext, mapping: CompiledMapping, keys: list[str]) -> set[str]:
    dialect = ctx.session.get_bind().dialect.name
    insert = pg_insert(_K) if dialect == "postgresql" else sqlite_insert(_K)
    now = utcnow()
    rows = [
        dict(app=mapping.app, mapping=mapping.name, key=k, status="pending", created_at=now) for k in keys
    ]
    statement = insert.values(rows).on_conflict_do_nothing(index_elements=["app", "mapping", "key"])
    return set(ctx.session.scalars(statement.returning(_K.c.key)))


def _stored(ctx: WriteContext, mapping: CompiledMapping, items: Sequence[IngestItem], claimed: set[str]):
    taken = [i for i in items if i.key not in claimed]
    if not taken:
        return []
    rows = ctx.session.execute(
        sa.select(_K.c.key, _K.c.status, _K.c.record_id).where(
            _K.c.app == mapping.app, _K.c.mapping == mapping.name, _K.c.key.in_([i.key for i in taken])
        )
    )
    by_key = {row.key: row for row in rows}
    return [(i, by_key.get(i.key)) for i in taken]


def _duplicate(item: IngestItem, row: Any) -> dict[str, Any]:
    return {
        "index": item.index,
        "idempotency_key": item.key,
        "status": DUPLICATE,
        "id": row.record_id if row is not None else None,
        "first": row.status if row is not None else None,
        "errors": [],
    }


def _settle(
    ctx: WriteContext, mapping: CompiledMapping, items: Sequence[IngestItem], outcomes: Sequence[Outcome]
) -> None:
    """Keep the applied items' outcomes under their keys (one executemany); give the rejected ones' keys back
    (not applied: the corrected item may come again)."""
    scope = (_K.c.app == mapping.app) & (_K.c.mapping == mapping.name)
    rejected = [i.key for i, o in zip(items, outcomes, strict=True) if o.status == REJECTED]
    applied = [
        {"k": i.key, "s": o.status, "r": o.record_id}
        for i, o in zip(items, outcomes, strict=True)
        if o.status != REJECTED
    ]
    if rejected:
        ctx.session.execute(_K.delete().where(scope, _K.c.key.in_(rejected)))
    if applied:
        statement = (
            _K.update()
            .where(scope, _K.c.key == sa.bindparam("k"))
            .values(status=sa.bindparam("s"), record_id=sa.bindparam("r"))
        )
        ctx.session.connection().execute(statement, applied)


def _answer(item: IngestItem, outcome: Outcome) -> dict[str, Any]:
    answer = outcome.as_json()
    return {
        "index": item.index,
        "idempotency_key": item.key,
        "status": REJECTED if outcome.status == REJECTED else ACCEPTED,
        "applied": outcome.status,
        "id": answer["id"],
        "errors": answer["errors"],
    }
