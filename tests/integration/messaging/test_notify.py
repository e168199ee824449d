"""The ``notify`` action (a role, a user, a record's user field) and the notifications API, in which a user
only ever sees and changes their own notifications."""

from __future__ import annotations

import sqlalchemy as sa

from lowcode.core.models import Notification, OutboxEvent, RuleRunEntry

from .conftest import client_for, confirm, new_order
from .sales_bundle import sales_bundle


def _mine(client) -> dict:
    response = client.get("/api/notifications")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_confirming_notifies_the_role_the_record_user_and_the_confirming_user(app, sales):
    dave = client_for(app, "dave")
    order = new_order(dave, amount="120.50", salesperson=sales["carol"], note="rush")
    assert confirm(dave, order).status_code == 200
    link = f"/a/sales/sales_order/{order['id']}"
    for name in ("alice", "bob", "carol"):  # the managers and the order's salesperson
        inbox = _mine(client_for(app, name))
        assert inbox["unread"] == 1
        [note] = inbox["data"]
        assert note["title"] == f"Order {order['number']} confirmed"
        assert note["body"] == "Amount 120.5 by dave. Note: rush"  # the field's style: decimals trimmed
        assert note["link"] == link and note["record_id"] == order["id"] and note["read"] is False
        assert (note["app"], note["entity"], note["rule"]) == ("sales", "sales_order", "tell_on_confirm")
    [mine] = _mine(dave)["data"]  # the user expression: the one who confirmed
    assert (
        mine["title"] == f"You confirmed {order['number']}" and mine["link"] == "/a/sales/sales_order?mine=1"
    )
    assert _mine(client_for(app, "erin"))["data"] == []  # her manager assignment has ended
    with app.extensions["lowcode"].db.read() as s:
        run = s.scalars(sa.select(RuleRunEntry).where(RuleRunEntry.rule == "tell_on_confirm")).one()
        assert run.outcome == "ok"
        assert run.actions[:2] == ["notified 3 users", "notified 1 user"]


def test_a_user_named_twice_is_notified_once(app, sales):
    dave = client_for(app, "dave")
    order = new_order(dave, amount="10", salesperson=sales["alice"])  # alice is also a manager
    assert confirm(dave, order).status_code == 200
    assert [n["title"] for n in _mine(client_for(app, "alice"))["data"]] == [
        f"Order {order['number']} confirmed"
    ]
    assert _mine(client_for(app, "carol"))["data"] == []


def test_a_refused_write_notifies_nobody_and_queues_nothing(app, sales):
    dave = client_for(app, "dave")
    order = new_order(dave, amount="5000", salesperson=sales["carol"])
    response = confirm(dave, order)
    assert response.status_code == 422
    assert (
        response.get_json()["error"]["message"]
        == f"Order {order['number']} needs approval: 5,000 is over 1000"  # the field's style: decimals trimmed
    )
    with app.extensions["lowcode"].db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
        kinds = s.scalars(sa.select(OutboxEvent.kind).where(OutboxEvent.record_id == order["id"])).all()
        assert kinds == ["created"]  # no webhook, no published event, no "updated"
    assert dave.get(f"/api/data/sales/sales_order/{order['id']}").get_json()["status"] == "draft"


def test_users_see_and_change_only_their_own_notifications(app, api, sales):
    dave = client_for(app, "dave")
    for amount in ("1", "2"):
        assert confirm(dave, new_order(dave, amount=amount)).status_code == 200
    alice, bob = client_for(app, "alice"), client_for(app, "bob")
    alice_ids = [n["id"] for n in _mine(alice)["data"]]
    bob_ids = [n["id"] for n in _mine(bob)["data"]]
    assert len(alice_ids) == len(bob_ids) == 2 and not set(alice_ids) & set(bob_ids)
    assert alice_ids == sorted(alice_ids, reverse=True)  # newest first
    # nobody marks another's notification - not even the administrator
    for intruder in (alice, api):
        assert intruder.post(f"/api/notifications/{bob_ids[0]}/read").status_code == 404
    assert _mine(bob)["unread"] == 2 and _mine(api)["data"] == []
    marked = alice.post(f"/api/notifications/{alice_ids[0]}/read")
    assert (
        marked.status_code == 200 and marked.get_json()["read"] is True and marked.get_json()["unread"] == 1
    )
    assert alice.post(f"/api/notifications/{alice_ids[0]}/read").get_json()["unread"] == 1  # idempotent
    assert alice.post("/api/notifications/read-all").get_json() == {"marked": 1, "unread": 0}
    assert _mine(alice)["unread"] == 0 and _mine(bob)["unread"] == 2
    unread_only = bob.get("/api/notifications?unread=1&limit=1").get_json()
    assert [n["id"] for n in unread_only["data"]] == bob_ids[:1] and unread_only["next_before"] == bob_ids[0]
    older = bob.get(f"/api/notifications?before={bob_ids[0]}").get_json()
    assert [n["id"] for n in older["data"]] == bob_ids[1:]
    assert bob.get("/api/notifications?limit=0").status_code == 400


def test_cookie_writes_need_the_csrf_token_and_anonymous_callers_are_refused(app, sales):
    anonymous = app.test_client()
    assert anonymous.get("/api/notifications").status_code == 401
    browser = app.test_client()
    response = browser.post("/api/auth/login", json={"username": "alice", "password": "user-pass-123"})
    csrf = response.get_json()["csrf_token"]
    assert browser.post("/api/notifications/read-all").status_code == 403  # session cookie, no token
    assert browser.post("/api/notifications/read-all", headers={"X-CSRF-Token": csrf}).status_code == 200


def test_publishing_checks_recipients_templates_urls_and_topics(api, hook):
    bundle = sales_bundle(hook.url)
    bundle["rules"][0]["actions"] = [
        {"type": "notify", "to": {"group": "x"}, "title": "Hi"},
        {"type": "notify", "to": {"role": "manager"}, "title": "Order {number +}"},
        {"type": "call_webhook", "url": "file:///etc/passwd", "payload": {"n": "number"}},
        {
            "type": "call_webhook",
            "url": hook.url,
            "headers": {"Bad Header": "x"},
            "payload": {"n": "number +"},
        },
        {"type": "publish_event", "topic": "has spaces"},
    ]
    response = api.post("/api/templates/import", json=bundle)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    paths = " ".join(fields)
    for index in range(5):
        assert f"rules/tell_on_confirm.json: $.actions[{index}]" in paths, (index, fields)
