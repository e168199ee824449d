"""The whole cycle through the REST API as the role users - purchase -> receipt -> sale -> delivery ->
receivable -> payment - with stock, moving-average cost, ledger and voucher figures computed by hand."""

from __future__ import annotations

from tests.integration.jxc.conftest import D, entries


def test_purchase_receipt_sale_delivery_receivable_payment(jxc, accounts):
    j, sh = jxc, jxc.wh["WH-SH"]
    ts, jn = j.product["TS-WHT-M"], j.product["JN-BLU-32"]

    # -- purchase order: the purchaser writes it, only the administrator may approve it (管理员审核)
    po = j.create(j.purchaser, "purchase_order", {
        "supplier": j.supplier, "warehouse": sh, "order_date": "2026-11-02",
        "lines": [{"product": ts, "qty": "100", "unit_price": "10.00"}, {"product": jn, "qty": "40", "unit_price": "45.00"}]})  # fmt: skip
    assert po["number"].startswith("PO-") and po["total"] == "2800.00" and po["status"] == "draft"
    refused = j.set_status(j.purchaser, "purchase_order", po["id"], "approved", expect=403)
    assert "执行流程操作「approve」" in refused["error"]["message"]
    j.set_status(j.admin, "purchase_order", po["id"], "approved")

    # -- receipt 1 against the order: 100 @ 10.00 and 40 @ 45.00
    gr = j.create(j.warehouse, "purchase_receipt", {
        "purchase_order": po["id"], "supplier": j.supplier, "warehouse": sh, "receipt_date": "2026-11-03",
        "lines": [{"product": ts, "qty": "100", "unit_price": "10.00"}, {"product": jn, "qty": "40", "unit_price": "45.00"}]})  # fmt: skip
    assert gr["cost_center"] is not None  # taken from the warehouse
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")
    assert j.get("purchase_order", po["id"])["status"] == "received"
    b = j.balance(ts, sh)
    assert (b["on_hand"], b["reserved"], b["available"], b["avg_cost"], b["value"]) == (
        "100.000",
        "0.000",
        "100.000",
        "10.0000",
        "1000.00",
    )
    assert [(r["qty"], r["unit_cost"], r["amount"], r["balance_qty"], r["balance_value"]) for r in j.ledger("purchase_receipt", gr["id"])] == [
        ("100.000", "10.0000", "1000.00", "100.000", "1000.00"), ("40.000", "45.0000", "1800.00", "40.000", "1800.00")]  # fmt: skip
    (v,) = j.vouchers("purchase_receipt", gr["number"])
    assert entries(v, accounts) == [("1405", "2800.00", "0.00"), ("2202", "0.00", "2800.00")]
    assert (
        v["status"] == "posted"
        and v["period"] == "2026-11"
        and v["lines"][0]["cost_center"] == gr["cost_center"]
    )
    (payable,) = j.rows("payable", {"field": "purchase_receipt", "op": "=", "value": gr["id"]})
    assert (payable["amount"], payable["balance"], payable["status"]) == ("2800.00", "2800.00", "open")

    # -- receipt 2 without an order: 50 @ 13.00 moves the average to (1000 + 650) / 150 = 11.0000
    gr2 = j.create(j.warehouse, "purchase_receipt", {
        "supplier": j.supplier, "warehouse": sh, "receipt_date": "2026-11-05",
        "lines": [{"product": ts, "qty": "50", "unit_price": "13.00"}]})  # fmt: skip
    j.set_status(j.warehouse, "purchase_receipt", gr2["id"], "posted")
    b = j.balance(ts, sh)
    assert (b["on_hand"], b["avg_cost"], b["value"]) == ("150.000", "11.0000", "1650.00")
    assert j.get("supplier", j.supplier)["payable_balance"] == "3450.00"

    # -- sales order: confirming reserves stock and books the open order against the customer
    so = j.create(j.sales, "sales_order", {
        "customer": j.customer, "warehouse": sh, "order_date": "2026-11-10",
        "lines": [{"product": ts, "qty": "60", "unit_price": "29.90"}, {"product": jn, "qty": "10", "unit_price": "119.00"}]})  # fmt: skip
    assert so["total"] == "2984.00" and so["salesperson"] == j.user_ids["sales"]
    j.set_status(j.sales, "sales_order", so["id"], "confirmed")
    b = j.balance(ts, sh)
    assert (b["on_hand"], b["reserved"], b["available"]) == ("150.000", "60.000", "90.000")
    assert j.get("customer", j.customer)["open_orders"] == "2984.00"
    told = [n["title"] for n in j.warehouse.get("/api/notifications").get_json()["data"]]
    assert f"销售订单 {so['number']} 已确认，待发货" in told  # 任务分配: the warehouse is told, in Chinese
    bodies = [n["body"] for n in j.warehouse.get("/api/notifications").get_json()["data"]]
    assert "合计 2,984.00 CNY" in bodies  # money in its style, for the reader's language

    # -- delivery of the order: 60 x 1650/150 = 660.00 and 10 x 1800/40 = 450.00 leave at moving average
    dn = j.create(j.warehouse, "delivery", {
        "sales_order": so["id"], "customer": j.customer, "warehouse": sh, "delivery_date": "2026-11-11",
        "lines": [{"product": ts, "qty": "60", "unit_price": "29.90"}, {"product": jn, "qty": "10", "unit_price": "119.00"}]})  # fmt: skip
    j.set_status(j.warehouse, "delivery", dn["id"], "posted")
    dn = j.get("delivery", dn["id"])
    assert (dn["total"], dn["cost_total"]) == ("2984.00", "1110.00")
    assert j.get("sales_order", so["id"])["status"] == "shipped"
    told = [n["title"] for n in j.sales.get("/api/notifications").get_json()["data"]]
    assert told == [f"销售订单 {so['number']} 已发货"]  # the order's salesperson
    b = j.balance(ts, sh)
    assert (b["on_hand"], b["reserved"], b["available"], b["avg_cost"], b["value"]) == (
        "90.000",
        "0.000",
        "90.000",
        "11.0000",
        "990.00",
    )
    b = j.balance(jn, sh)
    assert (b["on_hand"], b["reserved"], b["available"], b["avg_cost"], b["value"]) == (
        "30.000",
        "0.000",
        "30.000",
        "45.0000",
        "1350.00",
    )
    assert [(r["qty"], r["unit_cost"], r["amount"], r["balance_qty"], r["balance_value"]) for r in j.ledger("delivery", dn["id"])] == [
        ("-60.000", "11.0000", "-660.00", "90.000", "990.00"), ("-10.000", "45.0000", "-450.00", "30.000", "1350.00")]  # fmt: skip
    (v,) = j.vouchers("delivery", dn["number"])
    assert entries(v, accounts) == [("1122", "2984.00", "0.00"), ("6001", "0.00", "2984.00"),
                                    ("6401", "1110.00", "0.00"), ("1405", "0.00", "1110.00")]  # fmt: skip
    assert (v["total_debit"], v["total_credit"]) == ("4094.00", "4094.00")
    (rv,) = j.rows("receivable", {"field": "delivery", "op": "=", "value": dn["id"]}, client=j.finance)
    assert (rv["amount"], rv["balance"], rv["status"], rv["due_date"]) == (
        "2984.00",
        "2984.00",
        "open",
        "2026-12-11",
    )
    customer = j.get("customer", j.customer)
    assert (customer["receivable_balance"], customer["open_orders"]) == ("2984.00", "0.00")

    # -- receipts from the customer (收款) settle the receivable; overpaying is refused
    pay = j.create(j.finance, "customer_payment", {"customer": j.customer, "receivable": rv["id"],
                                                   "payment_date": "2026-11-20", "amount": "2000.00"})  # fmt: skip
    j.set_status(j.finance, "customer_payment", pay["id"], "posted")
    rv = j.get("receivable", rv["id"])
    assert (rv["received"], rv["balance"], rv["status"]) == ("2000.00", "984.00", "open")
    (v,) = j.vouchers("customer_payment", pay["number"])
    assert entries(v, accounts) == [("1002", "2000.00", "0.00"), ("1122", "0.00", "2000.00")]
    over = j.create(j.finance, "customer_payment", {"customer": j.customer, "receivable": rv["id"],
                                                    "payment_date": "2026-11-21", "amount": "984.01"})  # fmt: skip
    message = j.set_status(j.finance, "customer_payment", over["id"], "posted", expect=422)["error"][
        "message"
    ]
    assert (
        message == f"收款单金额 984.01 CNY 超过 {rv['number']} 的未结余额 984.00 CNY"
    )  # finance reads Chinese
    rest = j.create(j.finance, "customer_payment", {"customer": j.customer, "receivable": rv["id"],
                                                    "payment_date": "2026-11-21", "amount": "984.00"})  # fmt: skip
    j.set_status(j.finance, "customer_payment", rest["id"], "posted")
    rv = j.get("receivable", rv["id"])
    assert (rv["received"], rv["balance"], rv["status"]) == ("2984.00", "0.00", "settled")
    assert j.get("customer", j.customer)["receivable_balance"] == "0.00"

    # -- payment to the supplier (付款) settles the first payable
    paid = j.create(j.finance, "supplier_payment", {"supplier": j.supplier, "payable": payable["id"],
                                                    "payment_date": "2026-11-25", "amount": "2800.00"})  # fmt: skip
    j.set_status(j.finance, "supplier_payment", paid["id"], "posted")
    assert j.get("payable", payable["id"])["status"] == "settled"
    assert j.get("supplier", j.supplier)["payable_balance"] == "650.00"
    (v,) = j.vouchers("supplier_payment", paid["number"])
    assert entries(v, accounts) == [("2202", "2800.00", "0.00"), ("1002", "0.00", "2800.00")]

    # -- the books: every voucher balances, inventory account = stock value, AR and AP = open balances
    totals: dict[str, D] = {}
    for voucher in j.rows("voucher", client=j.finance):
        voucher = j.get("voucher", voucher["id"])
        assert voucher["total_debit"] == voucher["total_credit"]
        for code, debit, credit in entries(voucher, accounts):
            totals[code] = totals.get(code, D(0)) + D(debit) - D(credit)
    stock_value = sum(D(b["value"]) for b in j.rows("stock_balance"))
    assert totals["1405"] == stock_value == D("2340.00")  # 990.00 + 1350.00
    assert totals["1122"] == D(0) and totals["2202"] == D("-650.00")
    assert totals["6001"] == D("-2984.00") and totals["6401"] == D("1110.00")
    assert totals["1002"] == D("184.00")  # 2984.00 received, 2800.00 paid

    # -- posted documents are frozen
    dn = j.get("delivery", dn["id"])
    frozen = j.warehouse.patch(j.url("delivery", dn["id"]), json={"note": "edit", "version": dn["version"]})
    assert frozen.status_code == 409 and "不能修改" in frozen.get_json()["error"]["message"]
    assert j.warehouse.delete(j.url("delivery", dn["id"])).status_code == 409


def test_moving_average_rounds_per_movement(jxc):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]

    def receive(qty, price):
        gr = j.create(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": sh, "receipt_date": "2026-11-03",
                                                        "lines": [{"product": ts, "qty": qty, "unit_price": price}]})  # fmt: skip
        j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")

    def deliver(qty):
        dn = j.create(j.warehouse, "delivery", {"customer": j.customer, "warehouse": sh, "delivery_date": "2026-11-04",
                                                "lines": [{"product": ts, "qty": qty, "unit_price": "29.90"}]})  # fmt: skip
        j.set_status(j.warehouse, "delivery", dn["id"], "posted")
        return j.get("delivery", dn["id"])

    receive("90", "11.00")
    receive("7", "12.35")  # 990.00 + 86.45 = 1076.45 over 97 -> 11.0974 (rounded to 4 places)
    b = j.balance(ts, sh)
    assert (b["on_hand"], b["value"], b["avg_cost"]) == ("97.000", "1076.45", "11.0974")
    assert deliver("10")["cost_total"] == "110.97"  # round(10 x 1076.45 / 97, 2)
    b = j.balance(ts, sh)
    assert (b["on_hand"], b["value"], b["avg_cost"]) == ("87.000", "965.48", "11.0975")
    assert j.purchaser.get("/api/notifications").get_json()["data"] == []
    assert deliver("87")["cost_total"] == "965.48"  # the last unit takes the remaining value, no residue
    (alert,) = j.purchaser.get("/api/notifications").get_json()["data"]  # once, when it crossed the level
    assert alert["title"] == "补货提醒：TS-WHT-M 纯棉T恤 白 M 可用 0，低于补货点 20"
    b = j.balance(ts, sh)
    assert (b["on_hand"], b["value"], b["avg_cost"]) == ("0.000", "0.00", "11.0975")
