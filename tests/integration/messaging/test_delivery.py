"""The outbox dispatcher: webhooks delivered after commit to a real local endpoint (JSON body, signature),
retries with backoff and the error recorded, local channels that keep record and published events from
piling up, the worker job - and concurrent dispatchers that never deliver one event twice."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lowcode import delivery
from lowcode.auth.lifecycle import as_utc
from lowcode.core.models import OutboxEvent, utcnow
from lowcode.delivery_channels import WebhookChannel
from lowcode.registry import Registry
from lowcode.worker import JOBS, Scheduler
from tests.dbs import backend

from .conftest import client_for, confirm, new_order

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
NOW = dt.datetime(2031, 5, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _no_env_secret(monkeypatch):
    monkeypatch.delenv("LOWCODE_WEBHOOK_SECRET", raising=False)


def _settings(app, **extra):
    return {**app.extensions["lowcode"].settings, **extra}


def _row(app, event_id) -> SimpleNamespace:
    """An outbox row's columns (times as aware UTC)."""
    table = OutboxEvent.__table__
    with app.extensions["lowcode"].db.read() as s:
        row = dict(s.execute(sa.select(table).where(table.c.id == event_id)).mappings().one())
    for name in ("created_at", "delivered_at", "next_attempt_at"):
        row[name] = as_utc(row[name])
    return SimpleNamespace(**row)


def _webhook_ids(app) -> list[int]:
    with app.extensions["lowcode"].db.read() as s:
        return list(
            s.scalars(sa.select(OutboxEvent.id).where(OutboxEvent.kind == "webhook").order_by(OutboxEvent.id))
        )


def _enqueue(app, rows: list[dict]) -> list[int]:
    base = {"app": "sales", "entity": "sales_order", "record_id": None, "payload": {}, "created_at": utcnow()}
    with app.extensions["lowcode"].db.write() as s:
        return [s.execute(sa.insert(OutboxEvent).values(**{**base, **row}).returning(OutboxEvent.id)).scalar_one()
                for row in rows]  # fmt: skip


def _event_id(headers: dict) -> int:
    """The outbox id named by a delivery's ``webhook-id`` (``msg_<id>_<microseconds>``)."""
    return int(headers["webhook-id"].split("_")[1])


class Receiver:
    """The receiver check of docs/API.md, written from its description: the signature is the base64
    HMAC-SHA256, keyed with the decoded ``whsec_`` secret, of ``id.timestamp.body``; the timestamp must be within
    5 minutes of the receiver's clock; each ``webhook-id`` is processed once."""

    def __init__(self, secret: str, clock=time.time):
        self.key = base64.b64decode(secret[len("whsec_") :])
        self.clock = clock
        self.processed: list[str] = []

    def receive(self, headers: dict, body: bytes) -> str:
        msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
        if abs(self.clock() - int(stamp)) > 300:
            return "too old"
        signed = msg_id.encode() + b"." + stamp.encode() + b"." + body
        mine = base64.b64encode(hmac.new(self.key, signed, hashlib.sha256).digest()).decode()
        sent = [s.removeprefix("v1,") for s in headers["webhook-signature"].split(" ") if s.startswith("v1,")]
        if not any(hmac.compare_digest(mine, s) for s in sent):
            return "bad signature"
        if msg_id in self.processed:
            return "duplicate"
        self.processed.append(msg_id)
        return "processed"


def test_the_webhook_is_delivered_after_commit_with_its_json_body_and_signature(app, sales, hook):
    dave = client_for(app, "dave")
    order = new_order(dave, amount="120.50")
    assert confirm(dave, order).status_code == 200
    assert hook.requests == []  # nothing left the process with the write
    [event_id] = _webhook_ids(app)
    sent_from = int(time.time())
    result = delivery.dispatch_pending(
        app.extensions["lowcode"].db, NOW, settings=_settings(app, WEBHOOK_SECRET=SECRET)
    )
    assert event_id in result.delivered and not result.failed
    [request] = hook.requests
    assert request["method"] == "POST" and request["path"] == "/hooks/orders"
    assert json.loads(request["body"]) == {
        "number": order["number"],
        "amount": "120.50",
        "by": "dave",
        "lines": 2,
    }
    headers = request["headers"]
    assert headers["webhook-id"].startswith(f"msg_{event_id}_") and "." not in headers["webhook-id"]
    assert sent_from <= int(headers["webhook-timestamp"]) <= time.time()  # the attempt's time, Unix seconds
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request["body"]
    key = bytes(range(32))  # the base64-decoded part of the whsec_ secret
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == expected
    assert "x-lowcode-signature" not in headers  # the body-only signature is gone
    assert headers["content-type"].startswith("application/json")
    assert headers["x-lowcode-delivery-attempt"] == "1"
    assert headers["x-source"] == f"sales {order['number']}"
    row = _row(app, event_id)
    assert (row.delivered_at) == NOW and row.attempts == 1 and row.last_error == ""
    again = delivery.dispatch_pending(
        app.extensions["lowcode"].db, NOW + dt.timedelta(hours=1), settings=_settings(app)
    )
    assert again.claimed == 0 and len(hook.requests) == 1


def test_without_a_secret_the_request_is_unsigned(app, sales, hook):
    dave = client_for(app, "dave")
    assert confirm(dave, new_order(dave, amount="1")).status_code == 200
    delivery.dispatch_pending(app.extensions["lowcode"].db, NOW, settings=_settings(app))
    [request] = hook.requests
    assert "webhook-signature" not in request["headers"]
    assert (
        request["headers"]["webhook-id"].startswith("msg_")
        and request["headers"]["webhook-timestamp"].isdigit()
    )


def test_a_replayed_delivery_is_rejected_and_a_fresh_one_accepted(app, sales, hook):
    db, settings = app.extensions["lowcode"].db, _settings(app, WEBHOOK_SECRET=SECRET)
    dave = client_for(app, "dave")
    assert confirm(dave, new_order(dave, amount="5")).status_code == 200
    delivery.dispatch_pending(db, NOW, settings=settings)
    [captured] = hook.requests
    headers, body = captured["headers"], captured["body"]
    receiver = Receiver(SECRET)
    assert receiver.receive(headers, body) == "processed"
    assert receiver.receive(headers, body) == "duplicate"  # replayed at once: the id was processed already
    # replayed later, to a receiver that no longer remembers the id: the signed timestamp is too old ...
    later = Receiver(SECRET, clock=lambda: time.time() + 6 * 60)
    assert later.receive(headers, body) == "too old"
    # ... and refreshing the timestamp breaks the signature, as does a new id to slip past de-duplication
    assert later.receive({**headers, "webhook-timestamp": str(int(later.clock()))}, body) == "bad signature"
    assert receiver.receive({**headers, "webhook-id": headers["webhook-id"] + "0"}, body) == "bad signature"
    assert Receiver(SECRET).receive(headers, body.replace(b'"5.00"', b'"500.00"')) == "bad signature"
    # a fresh delivery is accepted
    assert confirm(dave, new_order(dave, amount="6")).status_code == 200
    delivery.dispatch_pending(db, NOW, settings=settings)
    fresh = hook.requests[1]
    assert fresh["headers"]["webhook-id"] != headers["webhook-id"]
    assert receiver.receive(fresh["headers"], fresh["body"]) == "processed"


def test_a_malformed_secret_fails_the_delivery_with_the_reason(app, sales, hook):
    dave = client_for(app, "dave")
    assert confirm(dave, new_order(dave, amount="1")).status_code == 200
    for secret in ("hook-secret", "whsec_" + base64.b64encode(b"short").decode(), "whsec_not base64!"):
        [(event_id, error)] = delivery.dispatch_pending(
            app.extensions["lowcode"].db,
            NOW + dt.timedelta(days=1),
            settings=_settings(app, WEBHOOK_SECRET=secret),
        ).failed.items()
        assert error.startswith(
            "WEBHOOK_SECRET must be 'whsec_' followed by the base64 of 24 to 64 random bytes"
        )
        with app.extensions["lowcode"].db.write() as s:  # due again at once
            s.execute(sa.update(OutboxEvent).where(OutboxEvent.id == event_id).values(next_attempt_at=None))
    assert hook.requests == []  # nothing was sent unsigned or wrongly signed


def test_a_failing_endpoint_is_retried_with_backoff_and_the_error_recorded(app, sales, hook):
    db = app.extensions["lowcode"].db
    dave = client_for(app, "dave")
    assert confirm(dave, new_order(dave, amount="3")).status_code == 200
    [event_id] = _webhook_ids(app)
    hook.statuses.extend([500, 503])
    first = delivery.dispatch_pending(db, NOW, settings=_settings(app))
    assert first.failed == {event_id: "HTTP 500 Internal Server Error: endpoint is down"}
    row = _row(app, event_id)
    assert row.delivered_at is None and row.attempts == 1 and row.last_error.startswith("HTTP 500")
    assert (row.next_attempt_at) == NOW + dt.timedelta(seconds=10)
    assert (
        delivery.dispatch_pending(db, NOW + dt.timedelta(seconds=9), settings=_settings(app)).claimed == 0
    )  # backing off
    second = delivery.dispatch_pending(db, NOW + dt.timedelta(seconds=10), settings=_settings(app))
    assert second.failed[event_id].startswith("HTTP 503")
    row = _row(app, event_id)
    assert row.attempts == 2 and (row.next_attempt_at) == NOW + dt.timedelta(seconds=30)
    with db.read() as s:
        assert delivery.pending_counts(s, NOW + dt.timedelta(seconds=11)) == {
            "due": 0,
            "waiting": 1,
            "given_up": 0,
        }
    third = delivery.dispatch_pending(db, NOW + dt.timedelta(seconds=30), settings=_settings(app))
    assert third.delivered == [event_id]
    row = _row(app, event_id)
    assert row.attempts == 3 and row.last_error == "" and (row.delivered_at) == NOW + dt.timedelta(seconds=30)
    assert [r["headers"]["x-lowcode-delivery-attempt"] for r in hook.requests] == ["1", "2", "3"]
    assert len({r["headers"]["webhook-id"] for r in hook.requests}) == 1  # one event: one id on every attempt
    assert len({r["body"] for r in hook.requests}) == 1


def test_an_unreachable_endpoint_and_an_unknown_kind_are_recorded_then_given_up(app):
    db = app.extensions["lowcode"].db
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    unreachable, unknown = _enqueue(app, [
        {"kind": "webhook", "payload": {"url": f"http://127.0.0.1:{closed}/x", "body": {"a": 1}}},
        {"kind": "carrier_pigeon", "payload": {}},
    ])  # fmt: skip
    result = delivery.dispatch_pending(db, NOW, settings=_settings(app, WEBHOOK_TIMEOUT=2))
    assert "refused" in result.failed[unreachable].lower()
    assert result.failed[unknown] == "no delivery channel for kind 'carrier_pigeon'"
    with db.write() as s:  # one attempt short of giving up
        s.execute(sa.update(OutboxEvent).values(attempts=delivery.MAX_ATTEMPTS - 1, next_attempt_at=None))
    later = NOW + dt.timedelta(days=1)
    result = delivery.dispatch_pending(db, later, settings=_settings(app, WEBHOOK_TIMEOUT=2))
    assert set(result.failed) == {unreachable, unknown}
    row = _row(app, unknown)
    assert row.next_attempt_at is None and row.last_error.endswith(
        f"(gave up after {delivery.MAX_ATTEMPTS} attempts)"
    )
    assert delivery.dispatch_pending(db, later + dt.timedelta(days=30)).claimed == 0
    with db.read() as s:
        assert delivery.pending_counts(s, later) == {"due": 0, "waiting": 0, "given_up": 2}


def test_record_events_and_published_events_do_not_pile_up(app, sales, hook):
    db = app.extensions["lowcode"].db
    dave = client_for(app, "dave")
    orders = [new_order(dave, amount=str(i)) for i in range(1, 4)]
    assert confirm(dave, orders[0]).status_code == 200
    with db.read() as s:
        assert delivery.pending_counts(s)["due"] == 3 + 1 + 2  # created x3, updated, webhook, event
        [published] = s.scalars(sa.select(OutboxEvent).where(OutboxEvent.kind == "event")).all()
        assert published.payload == {"topic": "sales.order.confirmed", "rule": "tell_on_confirm",
                                     "data": {"id": orders[0]["id"], "amount": "1.00"}}  # fmt: skip
    result = delivery.dispatch_pending(db, NOW, limit=500, settings=_settings(app))
    assert result.claimed == 6 and len(result.delivered) == 6 and not result.failed
    with db.read() as s:
        assert delivery.pending_counts(s) == {"due": 0, "waiting": 0, "given_up": 0}
        undelivered = s.scalar(sa.select(sa.func.count()).where(OutboxEvent.delivered_at.is_(None)))
        assert undelivered == 0
    assert len(hook.requests) == 1


def test_the_worker_job_dispatches_every_few_seconds(app, sales, hook):
    svc = app.extensions["lowcode"]
    job = JOBS.get("deliver_outbox")
    assert job.interval <= dt.timedelta(seconds=5)
    jobs = Registry("job")
    jobs.register(job.name, job)
    scheduler = Scheduler(svc, jobs)
    dave = client_for(app, "dave")
    assert confirm(dave, new_order(dave, amount="9")).status_code == 200
    assert scheduler.run_pending(NOW) == {"deliver_outbox": {"delivered": 4, "failed": 0}}
    assert len(hook.requests) == 1
    assert scheduler.run_pending(NOW + dt.timedelta(seconds=1)) == {}  # not due yet
    assert scheduler.run_pending(NOW + job.interval) == {"deliver_outbox": {"delivered": 0, "failed": 0}}


def test_two_concurrent_dispatchers_never_deliver_one_event_twice(app, hook):
    db = app.extensions["lowcode"].db
    ids = _enqueue(
        app, [{"kind": "webhook", "payload": {"url": hook.url, "body": {"n": i}}} for i in range(40)]
    )
    hook.delay = 0.01
    barrier = threading.Barrier(2)
    delivered: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def dispatcher(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            while True:
                result = delivery.dispatch_pending(db, NOW, limit=4, settings=_settings(app))
                delivered[name].extend(result.delivered)
                if result.claimed == 0:
                    return
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher, args=(name,)) for name in delivered]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    received = [_event_id(r["headers"]) for r in hook.requests]
    assert sorted(received) == ids  # every event exactly once
    assert sorted(delivered["a"] + delivered["b"]) == ids
    assert delivered["a"] and delivered["b"]  # both dispatchers did part of the work


@pytest.mark.skipif(
    backend() != "postgresql", reason="SKIP LOCKED is PostgreSQL's (SQLite serialises claims)"
)
def test_a_dispatcher_skips_events_another_transaction_has_locked(app, hook):
    db = app.extensions["lowcode"].db
    ids = _enqueue(
        app, [{"kind": "webhook", "payload": {"url": hook.url, "body": {"n": i}}} for i in range(6)]
    )
    outcome: dict = {}
    with db.engine.connect() as conn, conn.begin():
        conn.execute(sa.select(OutboxEvent.id).where(OutboxEvent.id.in_(ids[:3])).with_for_update())
        worker = threading.Thread(
            target=lambda: outcome.update(r=delivery.dispatch_pending(db, NOW, settings=_settings(app)))
        )
        worker.start()
        worker.join(timeout=20)
        assert not worker.is_alive(), "the dispatcher waited for the locked rows instead of skipping them"
        assert sorted(outcome["r"].delivered) == ids[3:]
    assert sorted(delivery.dispatch_pending(db, NOW, settings=_settings(app)).delivered) == ids[:3]
    assert sorted(_event_id(r["headers"]) for r in hook.requests) == ids


def test_a_webhook_to_a_local_address_is_refused_unless_allowed(app, hook):
    """Without LOWCODE_WEBHOOK_ALLOW a call to 127.0.0.1 is refused (the error recorded, nothing sent)."""
    db = app.extensions["lowcode"].db
    [event_id] = _enqueue(app, [{"kind": "webhook", "payload": {"url": hook.url, "body": {"a": 1}}}])
    result = delivery.dispatch_pending(db, NOW, settings=_settings(app, WEBHOOK_ALLOW=""))
    assert "local or private address" in result.failed[event_id]
    assert hook.requests == []
    assert "LOWCODE_WEBHOOK_ALLOW" in _row(app, event_id).last_error


def test_the_call_goes_to_the_address_that_was_checked(app, hook):
    """DNS rebinding: the name is resolved once, checked, and that address is connected to (a second,
    different answer is never used)."""
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    seen = []

    def resolver(host, port):
        seen.append(host)
        return next(answers)

    channels = Registry("delivery channel")
    channels.register("webhook", WebhookChannel(resolver=resolver))
    port = hook.url.rsplit(":", 1)[1].split("/", 1)[0]
    db = app.extensions["lowcode"].db
    url = f"http://rebind.test:{port}/hook"
    [event_id] = _enqueue(app, [{"kind": "webhook", "payload": {"url": url, "body": {"a": 1}}}])
    result = delivery.dispatch_pending(
        db, NOW, settings=_settings(app, WEBHOOK_ALLOW="127.0.0.1/32"), channels=channels
    )
    assert result.delivered == [event_id], result.failed
    assert seen == ["rebind.test"]
    assert len(hook.requests) == 1 and hook.requests[0]["headers"]["host"] == f"rebind.test:{port}"
