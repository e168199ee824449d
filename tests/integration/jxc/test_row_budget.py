"""JXC's postings under the rule row budget: how many rows a document line costs (so the default budget
leaves room for documents of a thousand lines), and a posting over a budget refused whole."""

from __future__ import annotations

import pytest

from lowcode.app import create_app
from lowcode.config import DEFAULTS
from tests.dbs import copy_of

BUDGET = 60
LINES_THAT_MUST_FIT = 1000


@pytest.fixture
def app(jxc_seed, tmp_path):
    """The seed copy with a small row budget (the tallies below do not depend on it)."""
    url, _ = jxc_seed
    with copy_of(url, tmp_path) as copy:
        application = create_app(
            {"DATABASE_URL": copy, "SECRET_KEY": "test-secret", "RULE_ROW_BUDGET": BUDGET}
        )
        yield application
        application.extensions["lowcode"].db.dispose()


@pytest.fixture
def tallies(app, monkeypatch) -> list:
    """The row tallies of the writes made through the API (one per write that set off rules)."""
    engine = app.extensions["lowcode"].records.rules
    seen: list = []
    run_rule = engine.run_rule

    def counting(ctx, rule, event, trigger=""):
        if ctx.rows is None and not any(t is event.rows for t in seen):
            seen.append(event.rows)
        return run_rule(ctx, rule, event, trigger)

    monkeypatch.setattr(engine, "run_rule", counting)
    return seen


def lines(product: int, count: int, qty: str, price: str) -> list[dict]:
    return [{"product": product, "qty": qty, "unit_price": price} for _ in range(count)]


def test_postings_cost_a_few_rows_per_line_so_long_documents_fit_the_default_budget(jxc, tallies):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]

    def rows_of(client, entity: str, body: dict, status: str) -> int:
        doc = j.create(client, entity, body)
        tallies.clear()
        j.set_status(client, entity, doc["id"], status)
        return sum(t.rows for t in tallies)

    def receipt(n: int) -> int:
        body = {
            "supplier": j.supplier,
            "warehouse": sh,
            "receipt_date": "2026-11-01",
            "lines": lines(ts, n, "10", "10.00"),
        }
        return rows_of(j.warehouse, "purchase_receipt", body, "posted")

    def delivery(n: int) -> int:
        body = {
            "customer": j.customer,
            "warehouse": sh,
            "delivery_date": "2026-11-02",
            "lines": lines(ts, n, "1", "29.90"),
        }
        return rows_of(j.warehouse, "delivery", body, "posted")

    def confirm(n: int) -> int:
        body = {
            "customer": j.customer,
            "warehouse": sh,
            "order_date": "2026-11-03",
            "lines": lines(ts, n, "1", "29.90"),
        }
        return rows_of(j.sales, "sales_order", body, "confirmed")

    default = DEFAULTS["RULE_ROW_BUDGET"]
    for flow in (receipt, delivery, confirm):
        one, three = flow(1), flow(3)
        per_line = (three - one) / 2
        assert 0 < per_line <= 15, (flow.__name__, one, three)  # measured: receipt 8, delivery 10, confirm 4
        assert one - per_line + LINES_THAT_MUST_FIT * per_line <= default, (flow.__name__, one, per_line)


def test_a_posting_over_the_budget_is_refused_whole(jxc):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    body = {
        "supplier": j.supplier,
        "warehouse": sh,
        "receipt_date": "2026-11-01",
        "lines": lines(ts, 10, "10", "10.00"),
    }
    big = j.create(j.warehouse, "purchase_receipt", body)
    error = j.set_status(j.warehouse, "purchase_receipt", big["id"], "posted", expect=422)["error"]
    assert error["code"] == "row_budget_exceeded"
    assert f"more than {BUDGET} rows in one write" in error["message"]
    assert j.get("purchase_receipt", big["id"])["status"] == "draft"
    assert j.ledger("purchase_receipt", big["id"]) == []
    assert j.balance(ts, sh) is None
    assert j.rows("payable") == []
    small = j.create(j.warehouse, "purchase_receipt", {**body, "lines": lines(ts, 3, "10", "10.00")})
    j.set_status(j.warehouse, "purchase_receipt", small["id"], "posted")  # 32 rows: within the budget
    assert j.balance(ts, sh)["on_hand"] == "30.000"
