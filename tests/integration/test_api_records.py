"""CRUD through /api/data: child rows, computed fields, ETags, conflicts, soft delete, errors."""

from __future__ import annotations

import sqlalchemy as sa

from lowcode.core.models import AuditEntry, OutboxEvent


def _first_ids(api, entity, n=1):
    data = api.get(f"/api/data/demo/{entity}?limit={n}&sort=id").get_json()["data"]
    return [r["id"] for r in data]


def _order(api, **overrides):
    (customer,) = _first_ids(api, "customer")
    p1, p2 = _first_ids(api, "product", 2)
    body = {
        "customer": customer,
        "order_date": "2026-11-20",
        "discount": "10",
        "lines": [
            {"product": p1, "qty": "3", "unit_price": "19.99"},
            {"product": p2, "qty": "0.5", "unit_price": "100.01"},
        ],
    }
    body.update(overrides)
    return body


def test_create_computes_formulas_rollups_and_number(demo_api):
    response = demo_api.post("/api/data/demo/order", json=_order(demo_api))
    assert response.status_code == 201, response.get_json()
    rec = response.get_json()
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/api/data/demo/order/{rec['id']}"
    assert [line["amount"] for line in rec["lines"]] == ["59.97", "50.01"]  # 0.5 * 100.01 = 50.005 -> 50.01
    assert rec["subtotal"] == "109.98"
    assert rec["total"] == "98.98"  # 109.98 * 0.9 = 98.982
    assert rec["status"] == "draft"  # the definition's default
    assert rec["number"].startswith("SO-") and rec["number"].endswith("-0013")  # 12 demo orders before it


def test_update_with_if_match_and_conflict_reports_changed_fields(demo_api):
    rec = demo_api.post("/api/data/demo/order", json=_order(demo_api)).get_json()
    url = f"/api/data/demo/order/{rec['id']}"
    ok = demo_api.patch(url, json={"note": "first"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    stale = demo_api.patch(url, json={"status": "confirmed"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409
    err = stale.get_json()["error"]
    assert err["code"] == "version_conflict"
    assert err["current_version"] == 2
    assert err["changed"] == {"note": "first"}
    assert demo_api.get(url).get_json()["status"] == "draft"  # the stale write changed nothing


def test_update_requires_a_version(demo_api):
    rec = demo_api.post("/api/data/demo/order", json=_order(demo_api)).get_json()
    response = demo_api.patch(f"/api/data/demo/order/{rec['id']}", json={"note": "x"})
    assert response.status_code == 428
    assert response.get_json()["error"]["code"] == "precondition_required"


def test_replacing_lines_recomputes_totals_and_keeps_row_ids(demo_api):
    rec = demo_api.post("/api/data/demo/order", json=_order(demo_api)).get_json()
    first = rec["lines"][0]
    lines = [{"id": first["id"], "product": first["product"], "qty": "10", "unit_price": first["unit_price"]}]
    response = demo_api.patch(f"/api/data/demo/order/{rec['id']}", json={"lines": lines, "version": 1})
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert [line["id"] for line in updated["lines"]] == [first["id"]]
    assert updated["subtotal"] == "199.90"
    assert updated["total"] == "179.91"


def test_validation_errors_are_per_field_and_write_nothing(app, demo_api):
    before = demo_api.get("/api/data/demo/order?limit=1").get_json()["total"]
    body = _order(demo_api, customer=None, discount="1.234", status="shipped")
    body["lines"][1]["qty"] = "abc"
    body["lines"][0]["product"] = 999999
    response = demo_api.post("/api/data/demo/order", json=body)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) >= {"customer", "discount", "status", "lines.1.qty"}
    assert demo_api.get("/api/data/demo/order?limit=1").get_json()["total"] == before
    bad_link = demo_api.post(
        "/api/data/demo/order",
        json=_order(demo_api, lines=[{"product": 999999, "qty": "1", "unit_price": "1"}]),
    )
    assert bad_link.status_code == 422
    assert "lines.0.product" in bad_link.get_json()["error"]["fields"]


def test_float_free_money_and_unknown_fields(demo_api):
    response = demo_api.post("/api/data/demo/product", json={"sku": "X-1", "name": "x", "price": "1.005"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["price"] == ["At most 2 decimal places."]
    response = demo_api.post(
        "/api/data/demo/product", json={"sku": "X-1", "name": "x", "price": 12.5, "colour": "red"}
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"colour"}
    created = demo_api.post("/api/data/demo/product", json={"sku": "X-1", "name": "x", "price": 12.5})
    assert created.status_code == 201 and created.get_json()["price"] == "12.50"


def test_unique_field_refuses_duplicates(demo_api):
    body = {"sku": "DUP-1", "name": "a", "price": "1"}
    assert demo_api.post("/api/data/demo/product", json=body).status_code == 201
    response = demo_api.post("/api/data/demo/product", json=body)
    assert response.status_code == 422
    assert "sku" in response.get_json()["error"]["fields"]


def test_computed_and_system_fields_cannot_be_written(demo_api):
    response = demo_api.post("/api/data/demo/order", json=_order(demo_api, total="1.00", id=5))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"total", "id"}


def test_soft_delete_and_restore(app, demo_api):
    rec = demo_api.post("/api/data/demo/product", json={"sku": "DEL-1", "name": "d", "price": "2"}).get_json()
    url = f"/api/data/demo/product/{rec['id']}"
    assert demo_api.delete(url, headers={"If-Match": '"5"'}).status_code == 409
    assert demo_api.delete(url).status_code == 204
    assert demo_api.get(url).status_code == 404
    listed = demo_api.get("/api/data/demo/product?deleted=1").get_json()["data"]
    assert [r["id"] for r in listed] == [rec["id"]]
    restored = demo_api.post(f"{url}/restore")
    assert restored.status_code == 200 and restored.get_json()["version"] == 3
    history = demo_api.get(f"{url}/history").get_json()["data"]
    assert [h["action"] for h in history] == ["restore", "delete", "create"]


def test_audit_and_outbox_written_with_the_change(app, demo_api):
    rec = demo_api.post("/api/data/demo/product", json={"sku": "AU-1", "name": "a", "price": "3"}).get_json()
    demo_api.patch(f"/api/data/demo/product/{rec['id']}", json={"price": "4.50", "version": 1})
    with app.extensions["lowcode"].db.read() as s:
        audits = s.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.entity == "product", AuditEntry.record_id == rec["id"])
            .order_by(AuditEntry.id)
        ).all()
        events = s.scalars(
            sa.select(OutboxEvent)
            .where(OutboxEvent.entity == "product", OutboxEvent.record_id == rec["id"])
            .order_by(OutboxEvent.id)
        ).all()
        assert [a.action for a in audits] == ["create", "update"]
        assert audits[1].diff == {"price": ["3.00", "4.50"]}
        assert audits[1].actor_name == "admin" and audits[1].source == "api"
        assert [e.kind for e in events] == ["created", "updated"]
        assert events[1].payload["changes"] == {"price": ["3.00", "4.50"]}


def test_failed_write_leaves_no_audit_or_outbox(app, demo_api):
    def counts():
        with app.extensions["lowcode"].db.read() as s:
            return s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)), s.scalar(
                sa.select(sa.func.count()).select_from(OutboxEvent)
            )

    before = counts()
    assert demo_api.post("/api/data/demo/order", json=_order(demo_api, customer=424242)).status_code == 422
    assert counts() == before


def test_not_found_and_unknown_entity(demo_api):
    assert demo_api.get("/api/data/demo/order/999999").status_code == 404
    response = demo_api.get("/api/data/demo/nothing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert demo_api.post("/api/data/demo/order_line", json={}).status_code == 400


def test_anonymous_is_401(app):
    client = app.test_client()
    response = client.get("/api/data/demo/order")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
    assert (
        client.get("/api/data/demo/order", headers={"Authorization": "Bearer lc_forged"}).status_code == 401
    )
