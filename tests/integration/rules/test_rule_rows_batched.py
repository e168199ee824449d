"""A rule run's platform rows written together (``runtime/row_buffer.py``) and a loop's link checks made in
one query (``rules/lockahead.prefetch_links``): the same rows, in write order, in the same unit of work;
a link the loop's prefetch did not find is still refused, and a refused write leaves nothing behind."""

from __future__ import annotations

import sqlalchemy as sa

from lowcode.core.models import AuditEntry, OutboxEvent, RuleRunEntry
from tests.integration.rules.stock_bundle import BUNDLE


def _shop(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    warehouse = api.post("/api/data/shop/warehouse", json={"code": "WH1"}).get_json()["id"]
    products = []
    for sku in ("A", "B", "C"):
        product = api.post("/api/data/shop/product", json={"sku": sku}).get_json()["id"]
        receipt = {"product": product, "warehouse": warehouse, "kind": "receipt", "qty": "50"}
        assert api.post("/api/data/shop/stock_ledger", json=receipt).status_code == 201
        products.append(product)
    lines = [{"product": p, "qty": str(n + 1)} for n, p in enumerate(products)]
    order = api.post("/api/data/shop/sales_order", json={"warehouse": warehouse, "lines": lines})
    assert order.status_code == 201, order.get_json()
    return warehouse, products, order.get_json()


def _rows(app, model, *where):
    with app.extensions["lowcode"].db.read() as s:
        table = model.__table__
        return s.execute(sa.select(table).where(*where).order_by(table.c.id)).all()


def test_a_confirm_writes_every_audit_outbox_and_run_row_in_order(app, api):
    warehouse, products, order = _shop(api)
    url = f"/api/data/shop/sales_order/{order['id']}"
    assert api.patch(url, json={"status": "confirmed", "version": 1}).status_code == 200

    unit = _rows(app, AuditEntry, AuditEntry.entity == "sales_order", AuditEntry.action == "update")[0].unit
    audit = _rows(app, AuditEntry, AuditEntry.unit == unit)
    assert [(a.entity, a.action, a.source) for a in audit] == [
        ("sales_order", "update", "api"),
        *[
            pair
            for _ in products
            for pair in (
                ("stock_balance", "update", "rule:reserve_on_confirm"),
                ("stock_ledger", "create", "rule:reserve_on_confirm"),
            )
        ],
    ]
    ledger = [a for a in audit if a.entity == "stock_ledger"]
    assert [a.diff["product"][1] for a in ledger] == products
    assert [a.diff["qty"][1] for a in ledger] == ["1.000", "2.000", "3.000"]
    events = _rows(app, OutboxEvent, OutboxEvent.id > 0)
    written = [(e.entity, e.record_id, e.kind) for e in events]
    assert written[-7:] == [
        (a.entity, a.record_id, {"update": "updated", "create": "created"}[a.action]) for a in audit
    ]
    runs = _rows(
        app, RuleRunEntry, RuleRunEntry.entity == "sales_order", RuleRunEntry.record_id == order["id"]
    )
    assert [(r.rule, r.outcome) for r in runs] == [("needs_lines", "ok"), ("reserve_on_confirm", "ok")]
    assert runs[1].actions[-2:] == ["updated 1 stock_balance", f"created stock_ledger {ledger[-1].record_id}"]


def test_a_link_the_prefetch_did_not_find_is_refused_and_nothing_is_kept(app, api):
    warehouse, products, order = _shop(api)
    assert api.delete(f"/api/data/shop/product/{products[1]}").status_code == 204
    audit_before = len(_rows(app, AuditEntry, AuditEntry.id > 0))
    events_before = len(_rows(app, OutboxEvent, OutboxEvent.id > 0))

    url = f"/api/data/shop/sales_order/{order['id']}"
    response = api.patch(url, json={"status": "confirmed", "version": 1})

    assert response.status_code == 422
    assert f"No product record with id {products[1]}." in str(response.get_json()["error"])
    assert api.get(url).get_json()["status"] == "draft"
    balances = api.get("/api/data/shop/stock_balance").get_json()["data"]
    assert {b["reserved"] for b in balances} == {"0.000"}
    assert len(_rows(app, AuditEntry, AuditEntry.id > 0)) == audit_before
    assert len(_rows(app, OutboxEvent, OutboxEvent.id > 0)) == events_before
    refused = _rows(app, RuleRunEntry, RuleRunEntry.outcome == "refused")
    assert [(r.rule, r.entity, r.record_id) for r in refused] == [
        ("reserve_on_confirm", "sales_order", order["id"])
    ]
