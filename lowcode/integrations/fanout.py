"""Fan-out: each outbox record event becomes one ``lc_delivery`` row per matching subscription.

:class:`FanOutChannel` is the outbox's local channel of the record kinds (created/updated/deleted/
restored): it runs inside the outbox dispatcher's claiming transaction, so an event is fanned out exactly
once, in outbox (= commit, per record) order. A subscription's condition is checked against the record as
stored when the event is fanned out; the message carries the event's own version and changes plus that
record as the API shows it to an administrator (child rows included). A subscription that names a mapping
also carries ``payload``: the record in the external system's shape, made by the mapping's outbound direction
(:mod:`lowcode.mappings.reverse`), with the lookups read in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from lowcode.auth.lifecycle import as_utc
from lowcode.core.jsonutil import to_jsonable
from lowcode.core.models import Delivery, utcnow
from lowcode.delivery_channels import Channel, PendingEvent, builtin_channels
from lowcode.errors import NotFound
from lowcode.integrations.subscriptions import Subscription, subscriptions_for
from lowcode.mappings.lookups import SqlLookups
from lowcode.mappings.reverse import to_payload
from lowcode.registry import Registry
from lowcode.runtime.children import ChildRows
from lowcode.runtime.context import Actor, WriteContext
from lowcode.runtime.serialize import record_to_json
from lowcode.runtime.snapshot import SnapshotCache

_D = Delivery.__table__


class FanOutChannel(Channel):
    """Turns a record event into deliveries of the subscriptions that want it (see the module docstring)."""

    local = True

    def __init__(self, snapshots: SnapshotCache, handoff=None):
        self.snapshots = snapshots
        self.handoff = handoff
        """A :class:`~lowcode.integrations.dispatch.Dispatcher` new rows are leased to at once when their
        subscription's lane may take them (no earlier event of the record waits outside the lane): no claim
        round trip, and the lane sends them as soon as the fan-out commits."""
        self.adopted: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def deliver(self, event, settings):
        raise RuntimeError("fan-out runs inside the claiming transaction (deliver_in)")

    def deliver_in(self, session, event: PendingEvent, settings) -> None:
        snapshot = self.snapshots.get(session)
        subs = list(subscriptions_for(snapshot, event.app, event.entity, event.kind))
        if not subs or event.record_id is None:
            return
        try:
            entity = snapshot.entity(event.app, event.entity)
        except NotFound:
            return
        ctx = WriteContext(session, Actor.system("integrations"), snapshot, source="integrations")
        row = session.execute(sa.select(entity.table).where(entity.table.c.id == event.record_id)).mappings()
        stored = row.first()
        wanted = [s for s in subs if _matches(ctx, entity, s, event.record_id, stored)]
        if not wanted:
            return
        record = None
        if stored is not None:
            children = ChildRows(ctx, entity)
            record = record_to_json(
                entity, stored, children=children.fetch(event.record_id), child_entities=children.entities
            )
        now = utcnow()
        for sub in wanted:
            row = _delivery_row(event, sub, record, now, _mapped(session, snapshot, sub, record))
            key = (sub.app, sub.name)
            joining = {r["id"] for r in self.adopted.get(key, [])}
            adopt = self.handoff is not None and self.handoff.adopt(session, key, row["record_key"], joining)
            if adopt:
                row.update(self.handoff.lease_values(now))
            row["id"] = session.execute(_D.insert().returning(_D.c.id), row).scalar_one()
            if adopt:
                self.adopted.setdefault(key, []).append(row)

    def start_adopted(self) -> int:
        """After the fan-out's transaction committed: send the rows leased to the hand-off dispatcher."""
        adopted, self.adopted = self.adopted, {}
        for key, rows in adopted.items():
            self.handoff.start(key, rows)
        return sum(len(rows) for rows in adopted.values())

    def drop_adopted(self) -> None:
        """The fan-out's transaction rolled back: its rows and the lanes' reservations are void."""
        self.adopted = {}
        if self.handoff is not None:
            self.handoff.drop_reservations()


def _matches(ctx, entity, sub: Subscription, record_id: int, stored) -> bool:
    if sub.condition is None:
        return True
    if stored is None:
        return False
    cond = entity.condition(dict(sub.condition))
    columns = {name: entity.table.c[name] for name in entity.kinds}
    where = cond.to_sql(columns, {"now": ctx.now, "today": ctx.now.date(), "user": {}})
    found = ctx.session.execute(sa.select(entity.table.c.id).where(entity.table.c.id == record_id, where))
    return found.first() is not None


def _mapped(session, snapshot, sub: Subscription, record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The record in the shape of the subscription's mapping (None without a mapping or a record)."""
    mapping = snapshot.mappings.get((sub.app, sub.mapping)) if sub.mapping else None
    if mapping is None or record is None:
        return None
    return to_payload(mapping, record, SqlLookups(session))


def _delivery_row(
    event: PendingEvent, sub: Subscription, record: Any, now: dt.datetime, payload: dict[str, Any] | None
) -> dict[str, Any]:
    occurred = as_utc(event.created_at) if event.created_at else now
    message = {
        "id": event.message_id,
        "type": f"{event.entity}.{event.kind}",
        "app": event.app,
        "entity": event.entity,
        "record_id": event.record_id,
        "version": event.payload.get("version"),
        "occurred_at": occurred.isoformat(),
        "subscription": sub.name,
        "changes": event.payload.get("changes", {}),
        "record": record,
    }
    if sub.mapping:
        message["mapping"], message["payload"] = sub.mapping, payload
    return {
        "app": sub.app,
        "subscription": sub.name,
        "event_id": event.id,
        "message_id": event.message_id,
        "entity": event.entity,
        "record_key": f"{event.entity}:{event.record_id}",
        "kind": event.kind,
        "channel": str(sub.channel.get("kind", "")),
        "payload": to_jsonable(message),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": None,
        "lease_until": None,
        "lease_token": "",
        "last_error": "",
        "created_at": now,
        "delivered_at": None,
    }


def outbox_channels(snapshots: SnapshotCache, fan_out: FanOutChannel | None = None) -> Registry[Channel]:
    """The outbox's channels with the record kinds fanned out to subscriptions."""
    return builtin_channels(fan_out or FanOutChannel(snapshots))
