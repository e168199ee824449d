"""The source's example: a salesperson confirming orders and a warehouse clerk posting deliveries of the
same SKU at the same moment - the stock is never oversold, and every refusal names the product."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

from tests.conftest import ApiClient, login
from tests.integration.jxc.conftest import PASSWORD


def test_sales_and_warehouse_on_the_same_sku_never_oversell(app, jxc):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    gr = j.create(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": sh, "receipt_date": "2026-11-01",
                                                    "lines": [{"product": ts, "qty": "12", "unit_price": "10.00"}]})  # fmt: skip
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")
    line = {"product": ts, "unit_price": "29.90"}
    orders = [j.create(j.sales, "sales_order", {"customer": j.customer, "warehouse": sh, "order_date": "2026-11-02",
                                                "lines": [{**line, "qty": "4"}]}) for _ in range(3)]  # fmt: skip
    deliveries = [j.create(j.warehouse, "delivery", {"customer": j.customer, "warehouse": sh, "delivery_date": "2026-11-02",
                                                     "lines": [{**line, "qty": "3"}]}) for _ in range(3)]  # fmt: skip
    jobs = [("sales", "sales_order", o["id"], "confirmed") for o in orders]
    jobs += [("warehouse", "delivery", d["id"], "posted") for d in deliveries]
    barrier, lock = threading.Barrier(len(jobs)), threading.Lock()
    outcome: dict = {}
    messages: list[str] = []
    errors: list[BaseException] = []

    def run(role, entity, record_id, status):
        try:
            client = app.test_client()
            user = ApiClient(client, login(client, role, PASSWORD))
            barrier.wait(timeout=30)
            response = user.patch(
                f"/api/data/jxc/{entity}/{record_id}", json={"status": status, "version": 1}
            )
            with lock:
                outcome[(entity, record_id)] = response.status_code
                if response.status_code != 200:
                    messages.append(response.get_json()["error"]["message"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert set(Counter(outcome.values())) <= {200, 422}
    confirmed = sum(1 for (e, _), code in outcome.items() if e == "sales_order" and code == 200)
    delivered = sum(1 for (e, _), code in outcome.items() if e == "delivery" and code == 200)
    assert 4 * confirmed + 3 * delivered <= 12  # never more promised or shipped than there is
    assert 4 * confirmed + 3 * delivered >= 9  # and no refusal while the stock sufficed (12 - 9 < 4)
    assert all("TS-WHT-M 纯棉T恤 白 M" in m and "，缺 " in m for m in messages), (
        messages
    )  # role users: Chinese
    b = j.balance(ts, sh)
    on_hand, reserved, available = (Decimal(b[k]) for k in ("on_hand", "reserved", "available"))
    assert (
        on_hand == 12 - 3 * delivered and reserved == 4 * confirmed and available == on_hand - reserved >= 0
    )
    ledger = j.rows("stock_ledger", {"field": "product", "op": "=", "value": ts})
    assert sum(Decimal(r["qty"]) for r in ledger) == on_hand
    assert sum(Decimal(r["amount"]) for r in ledger) == Decimal(b["value"]) == on_hand * 10
    statuses = Counter(j.get("sales_order", o["id"])["status"] for o in orders)
    assert statuses["confirmed"] == confirmed and statuses["draft"] == 3 - confirmed


def test_two_deliveries_of_one_order_at_once_never_ship_more_than_ordered(app, jxc):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    gr = j.create(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": sh, "receipt_date": "2026-11-01",
                                                    "lines": [{"product": ts, "qty": "50", "unit_price": "10.00"}]})  # fmt: skip
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")
    line = {"product": ts, "unit_price": "29.90"}
    so = j.create(j.sales, "sales_order", {"customer": j.customer, "warehouse": sh, "order_date": "2026-11-02",
                                           "lines": [{**line, "qty": "10"}]})  # fmt: skip
    j.set_status(j.sales, "sales_order", so["id"], "confirmed")
    so = j.get("sales_order", so["id"])
    deliveries = [j.create(j.warehouse, "delivery", {"sales_order": so["id"], "customer": j.customer, "warehouse": sh,
                                                     "delivery_date": "2026-11-03", "lines": [{**line, "qty": "6"}]})
                  for _ in range(2)]  # fmt: skip
    barrier, outcome, errors = threading.Barrier(2), {}, []

    def post(delivery_id):
        try:
            client = app.test_client()
            clerk = ApiClient(client, login(client, "warehouse", PASSWORD))
            barrier.wait(timeout=30)
            response = clerk.patch(
                f"/api/data/jxc/delivery/{delivery_id}", json={"status": "posted", "version": 1}
            )
            outcome[delivery_id] = (response.status_code, response.get_json().get("error", {}).get("message"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(d["id"],)) for d in deliveries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(code for code, _ in outcome.values()) == [200, 422], outcome
    (message,) = [m for code, m in outcome.values() if code == 422]
    assert message == f"销售订单 {so['number']} 商品 TS-WHT-M：本次出库 6，未发货仅 4"
    so = j.get("sales_order", so["id"])
    assert (so["status"], so["delivered_qty"], so["open_amount"]) == ("partially_shipped", "6.000", "119.60")
    b = j.balance(ts, sh)
    assert (b["on_hand"], b["reserved"], b["available"]) == ("44.000", "4.000", "40.000")
