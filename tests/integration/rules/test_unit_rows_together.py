"""A write's own platform rows join its rules' rows (``RecordService`` collects them with
``runtime/row_buffer.py``): one INSERT per platform table for the whole write - the before-rule's run-log row,
the record's audit and outbox rows, the after-rule's rows -, the same rows in the same order; and the answer is
not read again when the after-rules wrote no row of the record's table (``runtime/record_reads.py``)."""

from __future__ import annotations

import sqlalchemy as sa

from lowcode.core.models import AuditEntry, OutboxEvent, RuleRunEntry
from tests.integration.rules.test_rule_rows_batched import _rows, _shop


def _statements(app, send):
    engine = app.extensions["lowcode"].db.engine
    seen: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many):
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        response = send()
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    return response, seen


def test_a_confirm_inserts_each_platform_table_once_and_reads_the_order_once(app, api):
    warehouse, products, order = _shop(api)
    url = f"/api/data/shop/sales_order/{order['id']}"

    response, sql = _statements(app, lambda: api.patch(url, json={"status": "confirmed", "version": 1}))

    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["version"]) == ("confirmed", 2)
    for table in ("lc_audit", "lc_outbox", "lc_rule_run"):
        assert len([s for s in sql if s.startswith(f"INSERT INTO {table} ")]) == 1, table
    order_reads = [s for s in sql if s.startswith("SELECT") and "FROM e_shop_sales_order" in s]
    assert len(order_reads) == 1  # the current row; no re-read after the after-rules
    assert response.get_json() == api.get(url).get_json()
    # the rows are all there, in write order: the order's own first, then the rule's
    audit = _rows(app, AuditEntry, AuditEntry.unit.is_not(None), AuditEntry.id > 0)
    ours = [(a.entity, a.action) for a in audit if a.source in ("api", "rule:reserve_on_confirm")][-7:]
    assert ours == [("sales_order", "update"), *[("stock_balance", "update"), ("stock_ledger", "create")] * 3]
    events = _rows(app, OutboxEvent, OutboxEvent.id > 0)
    assert [(e.entity, e.kind) for e in events][-7:] == [
        (entity, {"update": "updated", "create": "created"}[action]) for entity, action in ours
    ]
    runs = _rows(
        app, RuleRunEntry, RuleRunEntry.record_id == order["id"], RuleRunEntry.entity == "sales_order"
    )
    assert [(r.rule, r.phase, r.outcome) for r in runs] == [
        ("needs_lines", "before", "ok"),
        ("reserve_on_confirm", "after", "ok"),
    ]


def test_a_receipt_answers_without_a_re_read_and_its_upsert_savepoint_keeps_every_row(app, api):
    warehouse, products, order = _shop(api)
    product = api.post("/api/data/shop/product", json={"sku": "NEW"}).get_json()["id"]
    receipt = {"product": product, "warehouse": warehouse, "kind": "receipt", "qty": "7"}

    # the after-rule creates the balance in a savepoint (its rows collected with the others), then updates it
    response, sql = _statements(app, lambda: api.post("/api/data/shop/stock_ledger", json=receipt))

    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created == api.get(f"/api/data/shop/stock_ledger/{created['id']}").get_json()
    assert not [s for s in sql if s.startswith("SELECT") and "WHERE e_shop_stock_ledger.id =" in s]
    balances = api.get("/api/data/shop/stock_balance?limit=100").get_json()["data"]
    assert [(b["on_hand"], b["version"]) for b in balances if b["product"] == product] == [("7.000", 2)]
    audit = _rows(app, AuditEntry, AuditEntry.id > 0)[-3:]
    assert [(a.entity, a.action, a.source) for a in audit] == [
        ("stock_ledger", "create", "api"),
        ("stock_balance", "create", "rule:receive_into_stock"),
        ("stock_balance", "update", "rule:receive_into_stock"),
    ]
    events = _rows(app, OutboxEvent, OutboxEvent.id > 0)[-3:]
    assert [(e.entity, e.kind) for e in events] == [
        ("stock_ledger", "created"),
        ("stock_balance", "created"),
        ("stock_balance", "updated"),
    ]


def test_a_refused_confirm_keeps_none_of_its_rows(app, api):
    warehouse, products, order = _shop(api)
    counts = [len(_rows(app, m, m.id > 0)) for m in (AuditEntry, OutboxEvent)]
    url = f"/api/data/shop/sales_order/{order['id']}"
    too_much = {"lines": [{"product": products[0], "qty": "1000"}], "version": 1}
    assert api.patch(url, json=too_much).status_code == 200
    counts = [len(_rows(app, m, m.id > 0)) for m in (AuditEntry, OutboxEvent)]

    response = api.patch(url, json={"status": "confirmed", "version": 2})

    assert response.status_code == 422
    assert "Not enough stock" in str(response.get_json()["error"])
    assert [len(_rows(app, m, m.id > 0)) for m in (AuditEntry, OutboxEvent)] == counts
    assert api.get(url).get_json()["status"] == "draft"
    runs = _rows(
        app, RuleRunEntry, RuleRunEntry.record_id == order["id"], RuleRunEntry.entity == "sales_order"
    )
    assert [(r.rule, r.outcome) for r in runs][-1] == ("reserve_on_confirm", "refused")
