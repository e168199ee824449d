"""Bulk writes through ``/api/data/<app>/<entity>``: POST a list, PATCH and DELETE a list - all or nothing by
default (the answer names each failing item), per-item results with ``?mode=each``; record rules, rules per
record, audit and outbox per record, limits; as an administrator, a user with a record rule and users
without the grant."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lowcode.auth.users import create_user
from lowcode.core.models import AuditEntry, OutboxEvent, RoleAssignment, SecurityEvent
from lowcode.runtime import bulk
from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "shop", "label": "Shop"},
    "entities": [
        {"name": "item", "label": "Item", "fields": [
            {"name": "code", "type": "text", "required": True, "unique": True},
            {"name": "qty", "type": "integer", "options": {"min": 0}},
            {"name": "price", "type": "money"},
            {"name": "kind", "type": "select", "default": "a",
             "options": {"choices": [{"value": "a"}, {"value": "b"}]}}]},
        {"name": "ticket", "label": "Ticket", "fields": [
            {"name": "title", "type": "text", "required": True},
            {"name": "note", "type": "text"}]},
    ],
    "roles": [
        {"name": "clerk", "label": "Clerk", "grants": [{
            "entity": "item", "actions": ["read", "create", "update", "delete"],
            "record_rule": {"field": "kind", "op": "=", "value": "a"}}]},
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "item", "actions": ["read"]}]},
    ],
    "rules": [
        {"name": "no_spam", "entity": "ticket",
         "trigger": {"events": ["create", "update"], "phase": "before"},
         "actions": [{"type": "refuse", "when": "title = 'spam'", "message": "No spam"},
                     {"type": "set_fields", "values": {"note": "'seen'"}}]},
    ],
}  # fmt: skip
ITEMS = "/api/data/shop/item"
TICKETS = "/api/data/shop/ticket"


@pytest.fixture
def shop(app, api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    svc = app.extensions["lowcode"]
    with svc.db.write() as s:
        for name, role in [("cora", "clerk"), ("vic", "viewer")]:
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="shop", role=role, granted_by="test"))
    return api


def _client(app, username: str) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, username, PASSWORD))


def _items(n: int, start: int = 0, **extra) -> list[dict]:
    return [{"code": f"C{i:05d}", "qty": i, "price": f"{i}.50", **extra} for i in range(start, start + n)]


def _count(app, model, **where) -> int:
    with app.extensions["lowcode"].db.read() as s:
        query = sa.select(sa.func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return s.scalar(query)


def _stored(api, url: str) -> list[dict]:
    return api.get(f"{url}?limit=500&sort=id").get_json()["data"]


def test_create_many_in_chunks_with_an_audit_row_and_an_outbox_event_each(app, shop, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 7)  # several chunks, the last one short
    response = shop.post(ITEMS, json=_items(20))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()["data"]
    assert [r["code"] for r in data] == [f"C{i:05d}" for i in range(20)]  # the items' order
    assert [r["price"] for r in data[:2]] == ["0.50", "1.50"] and {r["version"] for r in data} == {1}
    assert data[0]["kind"] == "a"  # the definition's default, as for a single create
    stored = _stored(shop, ITEMS)
    assert [r["id"] for r in stored] == [r["id"] for r in data]
    assert _count(app, AuditEntry, entity="item", action="create") == 20
    assert _count(app, OutboxEvent, entity="item", kind="created") == 20
    with app.extensions["lowcode"].db.read() as s:
        entry = s.scalars(sa.select(AuditEntry).where(AuditEntry.record_id == data[3]["id"])).one()
        event = s.scalars(sa.select(OutboxEvent).where(OutboxEvent.record_id == data[3]["id"])).one()
        assert entry.diff["code"] == [None, "C00003"] and entry.diff["price"] == [None, "3.50"]
        assert entry.actor_name == "admin" and entry.version == 1
        assert event.payload == {"id": data[3]["id"], "version": 1, "changes": entry.diff}


def test_all_or_nothing_names_each_failing_item_and_writes_nothing(app, shop):
    body = _items(6)
    body[2]["qty"] = -1  # below min
    body[4] = {"qty": 3}  # code missing
    body[5]["code"] = body[0]["code"]  # unique within the request
    response = shop.post(ITEMS, json=body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "bulk_failed"
    failing = {item["index"]: item for item in error["items"]}
    assert sorted(failing) == [2, 4, 5]
    assert "qty" in failing[2]["fields"] and failing[2]["status"] == 422
    assert "code" in failing[4]["fields"]
    assert "code" in failing[5]["fields"] and "unique" in failing[5]["fields"]["code"][0].lower()
    assert _stored(shop, ITEMS) == []
    assert _count(app, AuditEntry, entity="item") == 0 and _count(app, OutboxEvent, entity="item") == 0


def test_a_unique_value_held_by_a_stored_record_fails_that_item_only(shop):
    assert shop.post(ITEMS, json=_items(1)).status_code == 201
    response = shop.post(ITEMS, json=_items(3))  # C00000 is taken
    assert response.status_code == 422
    assert [i["index"] for i in response.get_json()["error"]["items"]] == [0]
    assert len(_stored(shop, ITEMS)) == 1


def test_mode_each_keeps_the_good_items_and_answers_each(app, shop):
    body = _items(4)
    body[1]["qty"] = "many"
    response = shop.post(f"{ITEMS}?mode=each", json=body)
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["written"], answer["failed"]) == (3, 1)
    assert [r["index"] for r in answer["data"]] == [0, 1, 2, 3]
    assert [r["status"] for r in answer["data"]] == [201, 422, 201, 201]
    assert "qty" in answer["data"][1]["fields"] and answer["data"][1]["code"] == "validation_failed"
    assert answer["data"][2]["record"]["code"] == "C00002"
    assert sorted(r["code"] for r in _stored(shop, ITEMS)) == ["C00000", "C00002", "C00003"]
    assert _count(app, AuditEntry, entity="item") == 3 and _count(app, OutboxEvent, entity="item") == 3


def test_update_many_with_versions_and_a_conflict(app, shop):
    created = shop.post(ITEMS, json=_items(3)).get_json()["data"]
    first = shop.patch(
        ITEMS, json=[{"id": r["id"], "version": 1, "qty": 100 + i} for i, r in enumerate(created)]
    )
    assert first.status_code == 200, first.get_json()
    assert [(r["qty"], r["version"]) for r in first.get_json()["data"]] == [(100, 2), (101, 2), (102, 2)]
    stale = shop.patch(ITEMS, json=[
        {"id": created[0]["id"], "version": 2, "qty": 7},
        {"id": created[1]["id"], "version": 1, "qty": 8},  # edited from an old version
    ])  # fmt: skip
    assert stale.status_code == 422
    (item,) = stale.get_json()["error"]["items"]
    assert (item["index"], item["status"], item["code"]) == (1, 409, "version_conflict")
    assert item["changed"] == {"qty": 101}
    assert [r["qty"] for r in _stored(shop, ITEMS)] == [100, 101, 102]  # the good item rolled back too
    each = shop.patch(f"{ITEMS}?mode=each", json=[
        {"id": created[0]["id"], "version": 2, "qty": 7},
        {"id": created[1]["id"], "qty": 8},  # no version
        {"id": 999999, "version": 1, "qty": 9},
        {"id": "x", "version": 1},
    ])  # fmt: skip
    assert [r["status"] for r in each.get_json()["data"]] == [200, 428, 404, 400]
    assert [r["qty"] for r in _stored(shop, ITEMS)] == [7, 101, 102]
    assert _count(app, AuditEntry, entity="item", action="update") == 4


def test_delete_many_soft_deletes_with_versions(app, shop):
    created = shop.post(ITEMS, json=_items(3)).get_json()["data"]
    response = shop.delete(ITEMS, json=[{"id": r["id"], "version": 1} for r in created[:2]])
    assert response.status_code == 200, response.get_json()
    assert all(r["deleted_at"] for r in response.get_json()["data"])
    assert [r["code"] for r in _stored(shop, ITEMS)] == ["C00002"]
    assert _count(app, OutboxEvent, entity="item", kind="deleted") == 2
    refused = shop.delete(
        ITEMS, json=[{"id": created[2]["id"], "version": 5}, {"id": created[0]["id"], "version": 2}]
    )
    assert refused.status_code == 422
    assert [(i["index"], i["status"]) for i in refused.get_json()["error"]["items"]] == [(0, 409), (1, 404)]
    assert [r["code"] for r in _stored(shop, ITEMS)] == ["C00002"]


def test_record_rule_refuses_the_items_outside_it_and_the_denial_is_logged(app, shop):
    cora = _client(app, "cora")
    refused = cora.post(ITEMS, json=[*_items(2), *_items(1, start=2, kind="b")])
    assert refused.status_code == 422
    (item,) = refused.get_json()["error"]["items"]
    assert (item["index"], item["status"], item["code"]) == (2, 403, "forbidden")
    assert _stored(shop, ITEMS) == []
    with app.extensions["lowcode"].db.read() as s:
        events = s.execute(
            sa.select(SecurityEvent.username, SecurityEvent.detail).where(
                SecurityEvent.kind == "permission_denied"
            )
        ).all()
    assert ("cora", [2]) in [(name, detail.get("items")) for name, detail in events]
    each = cora.post(f"{ITEMS}?mode=each", json=[*_items(1), *_items(1, start=1, kind="b")])
    assert [r["status"] for r in each.get_json()["data"]] == [201, 403]
    mine = _stored(cora, ITEMS)
    assert [r["code"] for r in mine] == ["C00000"] and mine[0]["owner"] is not None
    # an admin's kind-b record is outside cora's rule: refused (403) like a single update of it
    other = shop.post(ITEMS, json=_items(1, start=5, kind="b")).get_json()["data"][0]
    patched = cora.patch(ITEMS, json=[{"id": mine[0]["id"], "version": 1, "qty": 1},
                                      {"id": other["id"], "version": 1, "qty": 1}])  # fmt: skip
    assert [(i["index"], i["status"]) for i in patched.get_json()["error"]["items"]] == [(1, 403)]


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_users_without_the_grant_are_refused_whole(app, shop, method):
    vic = _client(app, "vic")
    response = vic._call(method, ITEMS, json=[{"id": 1, "version": 1, "code": "X"}])
    assert response.status_code == 403
    anonymous = app.test_client().open(ITEMS, method=method, json=[{"code": "X"}])
    assert anonymous.status_code == 401
    assert _stored(shop, ITEMS) == []


def test_rules_run_per_record_and_a_before_rule_refuses_one_item(app, shop):
    body = [{"title": "one"}, {"title": "spam"}, {"title": "three"}]
    refused = shop.post(TICKETS, json=body)
    assert refused.status_code == 422
    (item,) = refused.get_json()["error"]["items"]
    assert (item["index"], item["code"], item["message"]) == (1, "refused", "No spam")
    assert _stored(shop, TICKETS) == []
    ok = shop.post(TICKETS, json=[body[0], body[2]])
    assert ok.status_code == 201
    assert [r["note"] for r in ok.get_json()["data"]] == ["seen", "seen"]  # the before-rule ran on each
    each = shop.post(f"{TICKETS}?mode=each", json=body)
    assert [r["status"] for r in each.get_json()["data"]] == [201, 422, 201]
    assert len(_stored(shop, TICKETS)) == 4
    assert _count(app, AuditEntry, entity="ticket", action="create") == 4


@pytest.mark.parametrize(
    "body",
    [{"code": "X"}, [], [1, 2], [{"code": "X"}, "x"], [[{"code": "X"}]]],
    ids=["object", "empty", "numbers", "one-string", "nested"],
)
def test_malformed_lists_are_400_and_write_nothing(shop, body):
    response = shop.patch(ITEMS, json=body)
    assert response.status_code == 400, response.get_json()
    if isinstance(body, list):
        assert shop.post(ITEMS, json=body).status_code == 400
    assert _stored(shop, ITEMS) == []


def test_limits_items_and_bytes_413_and_a_bad_mode_400(app, shop):
    app.config["LOWCODE"]["BULK_MAX_ITEMS"] = 5
    too_many = shop.post(ITEMS, json=_items(6))
    assert too_many.status_code == 413 and too_many.get_json()["error"]["code"] == "payload_too_large"
    app.config["MAX_CONTENT_LENGTH"] = 200
    too_big = shop.post(ITEMS, json=_items(5))
    assert too_big.status_code == 413
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    assert shop.post(f"{ITEMS}?mode=some", json=_items(1)).status_code == 400
    assert _stored(shop, ITEMS) == []


def test_other_apps_and_unknown_entities_are_404(shop):
    assert shop.post("/api/data/nope/item", json=_items(1)).status_code == 404
    assert shop.patch("/api/data/shop/nope", json=[{"id": 1, "version": 1}]).status_code == 404


def test_template_demo_data_goes_through_bulk_creates(app, api):
    from lowcode.commands import install_template
    from tests.conftest import ROOT

    install_template(app, ROOT / "app_templates" / "demo")
    orders = api.get("/api/data/demo/order?limit=50").get_json()
    assert orders["total"] == 12 and all(o["customer"] for o in orders["data"])  # $key links resolved
    assert _count(app, AuditEntry, entity="order", action="create") == 12


def test_bulk_and_single_creates_store_the_same_audit_diff_and_event(app, shop):
    one = shop.post(ITEMS, json={"code": "S1", "qty": 2, "price": "2.50"}).get_json()
    many = shop.post(ITEMS, json=[{"code": "S2", "qty": 2, "price": "2.50"}]).get_json()["data"]
    with app.extensions["lowcode"].db.read() as s:
        diffs = dict(s.execute(sa.select(AuditEntry.record_id, AuditEntry.diff)).all())
        payloads = dict(s.execute(sa.select(OutboxEvent.record_id, OutboxEvent.payload)).all())
    single, batched = diffs[one["id"]], diffs[many[0]["id"]]
    assert single == {**batched, "code": [None, "S1"]} and batched["price"] == [None, "2.50"]
    assert payloads[many[0]["id"]] == {"id": many[0]["id"], "version": 1, "changes": batched}
    assert payloads[one["id"]]["changes"] == single


def test_updates_and_deletes_without_rules_take_the_batched_path(app, shop, monkeypatch):
    from lowcode.runtime.records import RecordService

    created = shop.post(ITEMS, json=_items(5)).get_json()["data"]

    def refuse(*args, **kwargs):
        raise AssertionError("written item by item")

    monkeypatch.setattr(RecordService, "update", refuse)
    monkeypatch.setattr(RecordService, "delete", refuse)
    body = [{"id": r["id"], "version": 1, "qty": 10 + i} for i, r in enumerate(created)]
    body[1]["price"] = "9.99"  # another set of changed columns: its own UPDATE
    response = shop.patch(ITEMS, json=body)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert [(r["qty"], r["version"]) for r in data] == [(10 + i, 2) for i in range(5)]
    assert data[1]["price"] == "9.99" and data[0]["price"] == "0.50"
    assert [(r["qty"], r["price"]) for r in _stored(shop, ITEMS)[:2]] == [(10, "0.50"), (11, "9.99")]
    with app.extensions["lowcode"].db.read() as s:
        diffs = dict(
            s.execute(
                sa.select(AuditEntry.record_id, AuditEntry.diff).where(AuditEntry.action == "update")
            ).all()
        )
        payloads = dict(
            s.execute(
                sa.select(OutboxEvent.record_id, OutboxEvent.payload).where(OutboxEvent.kind == "updated")
            ).all()
        )
    assert diffs[created[1]["id"]] == {"qty": [1, 11], "price": ["1.50", "9.99"]}
    assert payloads[created[1]["id"]] == {
        "id": created[1]["id"],
        "version": 2,
        "changes": diffs[created[1]["id"]],
    }
    gone = shop.delete(ITEMS, json=[{"id": r["id"], "version": 2} for r in created[:3]])
    assert gone.status_code == 200, gone.get_json()
    assert [r["version"] for r in gone.get_json()["data"]] == [3, 3, 3]
    assert len(_stored(shop, ITEMS)) == 2
    assert _count(app, AuditEntry, entity="item", action="delete") == 3
    assert _count(app, OutboxEvent, entity="item", kind="deleted") == 3


def test_a_failing_item_of_a_batched_update_is_named_and_nothing_is_kept(app, shop):
    created = shop.post(ITEMS, json=_items(4)).get_json()["data"]
    body = [{"id": r["id"], "version": 1, "qty": 50} for r in created]
    body[2]["code"] = created[0]["code"]  # unique: the database's index refuses the chunk
    body[3]["qty"] = -1  # below min
    response = shop.patch(ITEMS, json=body)
    assert response.status_code == 422
    items = {i["index"]: i for i in response.get_json()["error"]["items"]}
    assert sorted(items) == [2, 3]
    assert "unique" in items[2]["fields"]["code"][0].lower() and "qty" in items[3]["fields"]
    assert {r["qty"] for r in _stored(shop, ITEMS)} == {0, 1, 2, 3}  # nothing kept
    twice = shop.patch(f"{ITEMS}?mode=each", json=[
        {"id": created[0]["id"], "version": 1, "qty": 7},
        {"id": created[0]["id"], "version": 1, "qty": 8},  # the same record again: stale by then
    ])  # fmt: skip
    assert [r["status"] for r in twice.get_json()["data"]] == [200, 409]
    assert _stored(shop, ITEMS)[0]["qty"] == 7
    assert _count(app, AuditEntry, entity="item", action="update") == 1


def test_rules_run_per_record_on_bulk_updates(shop):
    created = shop.post(TICKETS, json=[{"title": "a"}, {"title": "b"}]).get_json()["data"]
    response = shop.patch(f"{TICKETS}?mode=each", json=[
        {"id": created[0]["id"], "version": created[0]["version"], "title": "spam"},
        {"id": created[1]["id"], "version": created[1]["version"], "title": "c", "note": "x"},
    ])  # fmt: skip
    results = response.get_json()["data"]
    assert results[0]["status"] == 422 and results[1]["status"] == 200
    assert results[1]["record"]["note"] == "seen"  # the before-rule's value
