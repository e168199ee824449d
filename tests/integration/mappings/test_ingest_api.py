"""``POST /api/integrations/<app>/<mapping>/ingest``: one record or a batch through a mapping, each applied once
per idempotency key (also when the same batch arrives twice at the same time), rules running as for any write,
every item answered (accepted / duplicate / rejected with its source path), limits as 400 and 413, and the
caller's grants."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment
from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "inb", "label": "Inbound"},
    "entities": [
        {"name": "product", "label": "Product", "fields": [
            {"name": "sku", "type": "text", "required": True, "unique": True},
            {"name": "title", "type": "text"}]},
        {"name": "order", "label": "Order", "fields": [
            {"name": "external_no", "type": "text", "unique": True},
            {"name": "status", "type": "select", "default": "draft",
             "options": {"choices": [{"value": "draft"}, {"value": "confirmed"}]}},
            {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}}]},
        {"name": "order_line", "label": "Line", "child": True, "fields": [
            {"name": "product", "type": "link", "options": {"entity": "product"}},
            {"name": "qty", "type": "integer", "options": {"min": 1}},
            {"name": "price", "type": "money"}]},
    ],
    "mappings": [{
        "name": "shop_order", "source": {"kind": "payload"}, "target": "order",
        "key": {"source": "order_id", "field": "external_no"},
        "fields": [{"field": "status", "source": "state", "values": {"map": {"PAID": "confirmed"},
                                                                      "default": "draft"}}],
        "children": [{"field": "lines", "source": "items[*]", "fields": [
            {"field": "product", "source": "sku", "lookup": {"entity": "product", "by": "sku"}},
            {"field": "qty", "source": "qty", "required": True},
            {"field": "price", "source": "price"}]}],
    }],
    "rules": [{"name": "no_huge", "entity": "order", "trigger": {"events": ["create"], "phase": "before"},
               "actions": [{"type": "refuse", "when": "external_no = 'HUGE'", "message": "Too big"}]}],
    "roles": [
        {"name": "feeder", "label": "Feeder", "grants": [
            {"entity": "order", "actions": ["read", "create", "update"]},
            {"entity": "product", "actions": ["read"]}]},
        {"name": "looker", "label": "Looker", "grants": [{"entity": "order", "actions": ["read"]}]},
    ],
}  # fmt: skip
URL = "/api/integrations/inb/shop_order/ingest"


def _setup(app, api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    for sku in ("A", "B"):
        assert api.post("/api/data/inb/product", json={"sku": sku}).status_code == 201
    with app.extensions["lowcode"].db.write() as s:
        for name, role in [("fee", "feeder"), ("lou", "looker")]:
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="inb", role=role, granted_by="test"))


def _as(app, username: str) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, username, PASSWORD))


def _order(no: str, *skus: str, state: str = "PAID") -> dict:
    return {"order_id": no, "state": state, "items": [{"sku": s, "qty": 2, "price": "9.50"} for s in skus]}


def _orders(app) -> list[tuple]:
    with app.extensions["lowcode"].db.read() as s:
        table = app.extensions["lowcode"].snapshots.get(s).entity("inb", "order").table
        return list(s.execute(sa.select(table.c.external_no, table.c.status).order_by(table.c.id)))


def test_a_batch_is_applied_once_per_key_with_an_answer_for_every_item(app, api):
    _setup(app, api)
    feeder = _as(app, "fee")
    items = [
        {"idempotency_key": "k1", "data": _order("O1", "A", "B")},
        {"idempotency_key": "k2", "data": _order("O2", "ZZZ")},  # unknown SKU
        {"idempotency_key": "k3", "data": _order("HUGE", "A")},  # refused by the rule
        {"idempotency_key": "k4", "data": _order("O4", "B", state="NEW")},
    ]
    first = feeder.post(URL, json={"items": items}).get_json()
    assert [(a["idempotency_key"], a["status"]) for a in first["data"]] == [
        ("k1", "accepted"), ("k2", "rejected"), ("k3", "rejected"), ("k4", "accepted"),
    ]  # fmt: skip
    assert (first["accepted"], first["duplicate"], first["rejected"]) == (2, 0, 2)
    assert any("items[0].sku" in e["source"] for e in first["data"][1]["errors"]), first["data"][1]
    assert "Too big" in str(first["data"][2]["errors"])
    assert _orders(app) == [("O1", "confirmed"), ("O4", "draft")]
    lines = api.get(f"/api/data/inb/order/{first['data'][0]['id']}").get_json()["lines"]
    assert [(line["qty"], line["price"]) for line in lines] == [(2, "9.50"), (2, "9.50")]

    again = feeder.post(URL, json={"items": items}).get_json()
    assert [a["status"] for a in again["data"]] == ["duplicate", "rejected", "rejected", "duplicate"]
    assert again["data"][0]["id"] == first["data"][0]["id"]
    assert _orders(app) == [("O1", "confirmed"), ("O4", "draft")]

    fixed = {"idempotency_key": "k2", "data": _order("O2", "A")}  # a rejected key may come again
    assert feeder.post(URL, json=fixed).get_json()["data"][0]["status"] == "accepted"
    assert [o[0] for o in _orders(app)] == ["O1", "O4", "O2"]


def test_the_same_batch_sent_twice_at_the_same_time_is_applied_once(app, api):
    _setup(app, api)
    items = [{"idempotency_key": f"c{i}", "data": _order(f"C{i}", "A")} for i in range(30)]
    answers: list[dict] = []
    barrier = threading.Barrier(2)

    def send():
        client = _as(app, "fee")
        barrier.wait(10)
        answers.append(client.post(URL, json={"items": items}).get_json())

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 2, answers
    assert sum(a["accepted"] for a in answers) == 30
    assert sum(a["duplicate"] for a in answers) == 30
    assert len(_orders(app)) == 30


def test_limits_and_malformed_bodies_are_refused_and_change_nothing(app, api):
    _setup(app, api)
    bad = [
        [],
        {"items": []},
        {"items": [{"data": {}}]},
        {"items": [{"idempotency_key": "", "data": {}}]},
        {"items": [{"idempotency_key": "x" * 201, "data": {}}]},
        {"items": [{"idempotency_key": "a", "data": {}}, {"idempotency_key": "a", "data": {}}]},
        {"idempotency_key": "a", "data": {}, "extra": 1},
    ]
    for body in bad:
        assert api.post(URL, json=body).status_code == 400, body
    deep = '{"idempotency_key": "d", "data": ' + "[" * 10000 + "]" * 10000 + "}"
    response = api.post(URL, data=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    many = {"items": [{"idempotency_key": f"m{i}", "data": {}} for i in range(5001)]}
    assert api.post(URL, json=many).status_code == 413
    huge = '{"idempotency_key": "h", "data": {"x": "' + "y" * (3 * 1024 * 1024) + '"}}'
    assert api.post(URL, data=huge, headers={"Content-Type": "application/json"}).status_code == 413
    assert api.get("/api/data/inb/order").status_code == 200  # still serving
    assert _orders(app) == []


def test_the_caller_needs_a_write_grant_and_the_mapping_must_exist(app, api):
    _setup(app, api)
    body = {"idempotency_key": "k", "data": _order("X", "A")}
    assert _as(app, "lou").post(URL, json=body).status_code == 403
    assert app.test_client().post(URL, json=body).status_code == 401
    assert api.post("/api/integrations/inb/nope/ingest", json=body).status_code == 404
    assert _orders(app) == []
