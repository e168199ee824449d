"""``GET /api/changes``: every create, update, delete and restore after a position, in commit order, paged
without gaps or repeats, filtered by what the reader may see now (entities, record rules, hidden fields);
malformed positions and limits are 400s; on PostgreSQL a transaction that drew its audit ids first but
commits last is still delivered after a reader has passed the later one."""

from __future__ import annotations

import threading

import pytest

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment
from lowcode.runtime.context import Actor, WriteContext
from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "feed", "label": "Feed"},
    "entities": [
        {"name": "item", "label": "Item", "fields": [
            {"name": "code", "type": "text", "required": True},
            {"name": "kind", "type": "select", "default": "a",
             "options": {"choices": [{"value": "a"}, {"value": "b"}]}},
            {"name": "cost", "type": "money"}]},
        {"name": "memo", "label": "Memo", "fields": [{"name": "title", "type": "text", "required": True}]},
    ],
    "roles": [
        {"name": "clerk", "label": "Clerk", "grants": [{
            "entity": "item", "actions": ["read", "create", "update"],
            "record_rule": {"field": "kind", "op": "=", "value": "a"}, "fields": {"cost": "hidden"}}]},
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "item", "actions": ["read"]}]},
    ],
}  # fmt: skip
ITEMS = "/api/data/feed/item"


@pytest.fixture
def feed(app, api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    with app.extensions["lowcode"].db.write() as s:
        for name, role in [("cora", "clerk"), ("vic", "viewer")]:
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="feed", role=role, granted_by="test"))
    return api


def _as(app, username: str) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, username, PASSWORD))


def _all(client: ApiClient, since: str = "", limit: int = 100, **params) -> tuple[list[dict], str]:
    """Every entry from ``since`` on, page by page."""
    entries, position = [], since
    for _ in range(100):
        query = "&".join(f"{k}={v}" for k, v in {"since": position, "limit": limit, **params}.items())
        response = client.get(f"/api/changes?{query}")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        entries.extend(body["data"])
        assert position == "" or _key({"position": body["next"]}) >= _key({"position": position})
        position = body["next"]
        if not body["more"]:
            return entries, position
    raise AssertionError("the feed never ended")


def _key(entry: dict) -> tuple[int, int]:
    seq, ident = entry["position"].split("-")
    return int(seq), int(ident)


def test_every_change_in_order_and_pages_neither_skip_nor_repeat(feed):
    _, start = _all(feed, app="feed")
    a = feed.post(ITEMS, json={"code": "A1", "cost": "1.50"}).get_json()
    b = feed.post(ITEMS, json={"code": "B1", "kind": "b"}).get_json()
    feed.patch(f"{ITEMS}/{a['id']}", json={"code": "A2"}, headers={"If-Match": '"1"'})
    assert feed.delete(f"{ITEMS}/{b['id']}", headers={"If-Match": '"1"'}).status_code in (200, 204)
    assert feed.post(f"{ITEMS}/{b['id']}/restore").status_code == 200

    whole, end = _all(feed, start, app="feed")
    assert [(e["id"], e["version"], e["action"]) for e in whole] == [
        (a["id"], 1, "create"),
        (b["id"], 1, "create"),
        (a["id"], 2, "update"),
        (b["id"], 2, "delete"),
        (b["id"], 3, "restore"),
    ]
    assert whole[2]["changes"]["code"] == ["A1", "A2"]
    assert [_key(e) for e in whole] == sorted(_key(e) for e in whole)
    paged, paged_end = _all(feed, start, limit=2, app="feed")
    assert [e["position"] for e in paged] == [e["position"] for e in whole]
    assert paged_end == end
    again, _ = _all(feed, end, app="feed")
    assert again == []


def test_readers_see_only_what_they_may_read_now(app, feed):
    _, start = _all(feed)
    mine = feed.post(ITEMS, json={"code": "A", "cost": "9.99"}).get_json()
    other = feed.post(ITEMS, json={"code": "B", "kind": "b", "cost": "5.00"}).get_json()
    memo = feed.post("/api/data/feed/memo", json={"title": "secret"}).get_json()

    clerk, _ = _all(_as(app, "cora"), start)
    assert [e["id"] for e in clerk] == [mine["id"]]  # record rule kind = a; no grant on memo
    assert "cost" not in clerk[0]["changes"] and clerk[0]["changes"]["code"] == [None, "A"]

    viewer, _ = _all(_as(app, "vic"), start)
    assert [e["id"] for e in viewer] == [mine["id"], other["id"]]
    assert viewer[1]["changes"]["cost"] == [None, "5.00"]

    admin, _ = _all(feed, start)
    assert {(e["entity"], e["id"]) for e in admin} == {
        ("item", mine["id"]),
        ("item", other["id"]),
        ("memo", memo["id"]),
    }

    # a record moved out of the clerk's rule disappears from what they read, history included
    feed.patch(f"{ITEMS}/{mine['id']}", json={"kind": "b"}, headers={"If-Match": '"1"'})
    clerk_after, _ = _all(_as(app, "cora"), start)
    assert clerk_after == []


def test_a_reader_passes_entries_they_may_not_see_without_losing_their_place(app, feed):
    _, start = _all(feed)
    for i in range(7):
        feed.post(ITEMS, json={"code": f"B{i}", "kind": "b"})
    visible = feed.post(ITEMS, json={"code": "A"}).get_json()
    clerk = _as(app, "cora")
    body = clerk.get(f"/api/changes?since={start}&limit=2").get_json()
    assert [e["id"] for e in body["data"]] == [visible["id"]]
    follow = clerk.get(f"/api/changes?since={body['next']}&limit=2").get_json()
    assert follow["data"] == [] and follow["more"] is False


@pytest.mark.parametrize(
    "query",
    ["since=5", "since=-1-2", "since=a-b", "since=1-2-3", "since=" + "9" * 30 + "-1", "limit=0", "limit=1001",
     "limit=ten"],
)  # fmt: skip
def test_malformed_positions_and_limits_are_refused(feed, query):
    response = feed.get(f"/api/changes?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_the_feed_needs_a_signed_in_reader(app, feed):
    assert app.test_client().get("/api/changes").status_code == 401


def test_a_transaction_that_commits_last_is_not_skipped(app, feed):
    """PostgreSQL: transaction 1 appends its audit row (the lower id) and waits; transaction 2 appends and commits;
    a reader passes transaction 2; transaction 1 commits; the reader's next page holds it. (On SQLite the second
    writer waits for the first, so the order cannot invert.)"""
    svc = app.extensions["lowcode"]
    if svc.db.dialect != "postgresql":
        pytest.skip("SQLite commits one writer at a time: ids already follow commit order")
    _, start = _all(feed)
    first_written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_writer():
        try:
            with svc.db.write() as s:
                ctx = WriteContext(s, Actor.system("test"), svc.snapshots.get(s))
                svc.records.create(ctx, "feed", "memo", {"title": "first drawn"})
                first_written.set()
                assert release.wait(10)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            first_written.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert first_written.wait(10)
    feed.post("/api/data/feed/memo", json={"title": "second drawn"})
    seen, position = _all(feed, start)
    assert [e["changes"]["title"][1] for e in seen] == ["second drawn"]
    release.set()
    thread.join(10)
    assert not errors, errors
    later, _ = _all(feed, position)
    assert [e["changes"]["title"][1] for e in later] == ["first drawn"]
