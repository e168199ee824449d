"""Subscriptions delivered to webhooks: payload, condition, order per record, isolation of a hung
receiver, a receiver down and back, dead letters and their replay, health - admin only."""

from __future__ import annotations

import time

import sqlalchemy as sa

from lowcode.core.models import Delivery, User
from tests.integration.pages.helpers import Browser

from .conftest import create, update, webhook


def _rows(app) -> list:
    with app.extensions["lowcode"].db.read() as s:
        return list(s.execute(sa.select(Delivery.__table__).order_by(Delivery.id)).all())


def test_an_event_arrives_with_its_id_version_and_record(app, api, install, receivers, loop):
    install([webhook("all_items", receivers["a"].url)])
    item = create(api, name="bolt", qty=3)
    item = update(api, item, qty=4)
    loop.until(lambda: [r.status for r in _rows(app)] == ["delivered"] * 2)
    first, second = receivers["a"].arrivals
    assert (first["type"], first["version"], first["changes"]["qty"][-1]) == ("item.created", 1, 3)
    # the record as stored when the event was fanned out (here: after both writes), the API's JSON form
    assert (first["record"]["id"], first["record"]["name"]) == (item["id"], "bolt")
    assert (second["type"], second["version"], second["changes"]["qty"]) == ("item.updated", 2, [3, 4])
    assert first["id"] != second["id"] and first["id"].startswith("msg_")


def test_a_condition_picks_the_records_that_match(app, api, install, receivers, loop):
    install([webhook("big", receivers["a"].url, condition={"field": "qty", "op": ">", "value": 10})])
    create(api, name="small", qty=1)
    big = create(api, name="big", qty=50)
    loop.until(lambda: len(receivers["a"].seen) == 1)
    loop.until(lambda: loop.step() == 0)
    assert [e["record_id"] for e in receivers["a"].arrivals] == [big["id"]]


def test_a_publish_with_an_unknown_entity_or_a_bad_condition_is_refused(api, install):
    install([])
    bad = webhook("bad", "http://127.0.0.1:9/x", condition={"field": "nope", "op": "=", "value": 1})
    assert api.put("/api/definitions/shop/subscription/bad", json=bad).status_code == 200
    response = api.post("/api/definitions/shop/subscription/bad/publish")
    assert response.status_code == 422, response.get_json()
    wrong = {**webhook("wrong", "http://127.0.0.1:9/x"), "entity": "ghost"}
    api.put("/api/definitions/shop/subscription/wrong", json=wrong)
    assert api.post("/api/definitions/shop/subscription/wrong/publish").status_code == 422
    secretless = {
        **webhook("s", "http://x"),
        "channel": {"kind": "webhook", "url": "http://x", "password": "p"},
    }
    assert api.put("/api/definitions/shop/subscription/s", json=secretless).status_code == 422


def test_events_of_a_record_arrive_in_commit_order_through_failures(app, api, install, receivers, loop):
    install([webhook("all_items", receivers["a"].url)])
    records = [create(api, name=f"r{i}", qty=0) for i in range(5)]
    for step in range(1, 9):
        receivers["a"].down = step in (3, 4)  # failures and retries in the middle
        for i, record in enumerate(records):
            records[i] = update(api, record, qty=step)
        loop.step()
    receivers["a"].down = False
    loop.until(lambda: len(receivers["a"].seen) == 5 * 9)
    inverted = 0
    last: dict[int, int] = {}
    for event in receivers["a"].arrivals:
        if event["version"] < last.get(event["record_id"], 0):
            inverted += 1
        last[event["record_id"]] = max(last.get(event["record_id"], 0), event["version"])
    assert inverted == 0
    assert receivers["a"].duplicates == 0


def test_a_receiver_down_for_a_while_then_back_gets_everything_once(app, api, install, receivers, loop):
    install([webhook("all_items", receivers["a"].url)])
    receivers["a"].down = True
    made = [create(api, name=f"n{i}", qty=i) for i in range(20)]
    loop.until(lambda: all(r.attempts >= 2 for r in _rows(app)))  # every event failed twice at least
    assert receivers["a"].seen == {}
    receivers["a"].down = False
    loop.until(lambda: len(receivers["a"].seen) == 20)
    assert sorted(e["record_id"] for e in receivers["a"].seen.values()) == sorted(m["id"] for m in made)
    assert receivers["a"].duplicates == 0


def test_a_hung_receiver_does_not_delay_another_subscription(app, api, install, receivers, loop):
    install([webhook("slow", receivers["a"].url), webhook("quick", receivers["b"].url)])
    receivers["a"].hang = 3.0  # longer than the 1 s timeout: every call to it times out
    for i in range(10):
        create(api, name=f"h{i}", qty=i)
    started = time.monotonic()
    loop.until(lambda: len(receivers["b"].seen) == 10)
    # one after another behind the hung one would take 10 timeouts of 1 s
    assert time.monotonic() - started < 5.0
    slow = [r for r in _rows(app) if r.subscription == "slow"]
    assert all(r.status == "pending" for r in slow)


def test_dead_letters_are_listed_and_replayed_by_an_admin_only(app, api, install, receivers, loop):
    app.extensions["lowcode"].settings["DELIVERY_MAX_ATTEMPTS"] = 2
    loop.dispatcher.numbers.max_attempts = 2
    install([webhook("all_items", receivers["a"].url)])
    receivers["a"].down = True
    create(api, name="x", qty=1)
    loop.until(lambda: any(r.status == "dead" for r in _rows(app)))
    health = api.get("/api/integrations/health").get_json()
    (sub,) = health["subscriptions"]
    assert (sub["subscription"], sub["dead"], sub["pending"]) == ("all_items", 1, 0)
    assert (
        "503" in sub["last_error"] and "gave up after 2 attempts" in health["dead_letters"][0]["last_error"]
    )
    assert api.post("/api/integrations/replay", json={"since": "2026-01-01T00:00:00"}).status_code == 400
    receivers["a"].down = False
    assert api.post("/api/integrations/replay", json={"dead": True}).get_json() == {"replayed": 1}
    loop.until(lambda: [r.status for r in _rows(app)] == ["delivered"])
    assert len(receivers["a"].seen) == 1


def test_health_and_replay_refuse_a_non_admin(app, api, install):
    from lowcode.auth.users import create_user
    from tests.conftest import ApiClient, login

    install([])
    with app.extensions["lowcode"].db.write() as s:
        create_user(s, "carol", "user-pass-123")
    client = app.test_client()
    carol = ApiClient(client, login(client, "carol", "user-pass-123"))
    assert carol.get("/api/integrations/health").status_code == 403
    assert carol.post("/api/integrations/replay", json={"dead": True}).status_code == 403


def test_the_health_page_shows_dead_letters_in_both_languages_to_admins_only(
    app, api, install, receivers, loop
):
    from lowcode.auth.users import create_user

    loop.dispatcher.numbers.max_attempts = 1
    install([webhook("all_items", receivers["a"].url)])
    receivers["a"].down = True
    create(api, name="x", qty=1)
    loop.until(lambda: any(r.status == "dead" for r in _rows(app)))
    with app.extensions["lowcode"].db.write() as s:
        create_user(s, "carol", "user-pass-123")
    for language, title in (("en", "Integration health"), ("zh_CN", "集成健康状况")):
        with app.extensions["lowcode"].db.write() as s:
            s.execute(sa.update(User).where(User.username == "admin").values(language=language))
        admin = Browser(app.test_client())
        assert admin.login("admin", "root-pass-2026").status_code == 303
        html = admin.get("/admin/integrations").get_data(as_text=True)
        assert title in html and "shop/all_items" in html and "HTTP 503" in html
    receivers["a"].down = False
    form = {"what": "dead", "subscription": "shop/all_items"}
    assert admin.post("/admin/integrations/replay", form).status_code == 303
    loop.until(lambda: [r.status for r in _rows(app)] == ["delivered"])
    carol = Browser(app.test_client())
    assert carol.login("carol", "user-pass-123").status_code == 303
    assert carol.get("/admin/integrations").status_code == 403
    assert carol.post("/admin/integrations/replay", form).status_code == 403
