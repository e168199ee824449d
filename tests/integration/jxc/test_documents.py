"""Reservations, credit limits, returns, transfers, stocktakes, closed periods and balanced vouchers."""

from __future__ import annotations

import pytest

from tests.integration.jxc.conftest import entries


@pytest.fixture
def stocked(jxc):
    """TS-WHT-M in WH-SH: 100 @ 10.00 received, 30 delivered, 50 @ 13.00 received -> 120, 1350.00, 11.2500."""
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    receipt(j, sh, ts, "100", "10.00", "2026-11-01")
    dn = delivery(j, sh, ts, "30", "2026-11-02")
    receipt(j, sh, ts, "50", "13.00", "2026-11-03")
    return dn


def receipt(j, wh, product, qty, price, day):
    gr = j.create(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": wh, "receipt_date": day,
                                                    "lines": [{"product": product, "qty": qty, "unit_price": price}]})  # fmt: skip
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")
    return j.get("purchase_receipt", gr["id"])


def delivery(j, wh, product, qty, day, price="29.90"):
    dn = j.create(j.warehouse, "delivery", {"customer": j.customer, "warehouse": wh, "delivery_date": day,
                                            "lines": [{"product": product, "qty": qty, "unit_price": price}]})  # fmt: skip
    j.set_status(j.warehouse, "delivery", dn["id"], "posted")
    return j.get("delivery", dn["id"])


def order(j, qty, price="29.90", product=None):
    return j.create(j.sales, "sales_order", {
        "customer": j.customer, "warehouse": j.wh["WH-SH"], "order_date": "2026-11-10",
        "lines": [{"product": product or j.product["TS-WHT-M"], "qty": qty, "unit_price": price}]})  # fmt: skip


def figures(b):
    return b["on_hand"], b["reserved"], b["available"], b["avg_cost"], b["value"]


def test_confirm_refuses_a_shortage_with_product_and_shortfall_and_cancel_releases(jxc, stocked):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    big = order(j, "130")
    message = j.set_status(j.sales, "sales_order", big["id"], "confirmed", expect=422)["error"]["message"]
    assert (
        message
        == "库存不足：TS-WHT-M 纯棉T恤 白 M 可用 120，订购 130，缺 10"  # the salesperson reads Chinese
    )
    assert j.get("sales_order", big["id"])["status"] == "draft"
    none_here = order(j, "1", product=j.product["JN-BLU-32"])  # never stocked: the whole quantity is short
    message = j.set_status(j.sales, "sales_order", none_here["id"], "confirmed", expect=422)["error"][
        "message"
    ]
    assert message.endswith("可用 0，订购 1，缺 1")
    assert j.balance(j.product["JN-BLU-32"], sh) is None  # the refused write left nothing behind
    small = order(j, "70")
    j.set_status(j.sales, "sales_order", small["id"], "confirmed")
    assert figures(j.balance(ts, sh))[:3] == ("120.000", "70.000", "50.000")
    shipped = j.set_status(
        j.sales, "sales_order", small["id"], "shipped", expect=403
    )  # only a delivery ships it
    assert "由系统自动设置，不能手工操作" in shipped["error"]["message"]
    j.set_status(j.sales, "sales_order", small["id"], "cancelled")
    assert figures(j.balance(ts, sh))[:3] == ("120.000", "0.000", "120.000")
    assert j.get("customer", j.customer)["open_orders"] == "0.00"
    j.set_status(j.sales, "sales_order", small["id"], "confirmed", expect=409)  # cancelled is final


def test_direct_delivery_cannot_take_reserved_stock(jxc, stocked):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    j.set_status(j.sales, "sales_order", order(j, "100")["id"], "confirmed")
    dn = j.create(j.warehouse, "delivery", {"customer": j.customer, "warehouse": sh, "delivery_date": "2026-11-12",
                                            "lines": [{"product": ts, "qty": "21", "unit_price": "29.90"}]})  # fmt: skip
    message = j.set_status(j.warehouse, "delivery", dn["id"], "posted", expect=422)["error"]["message"]
    assert message.startswith("可用库存不足：TS-WHT-M 纯棉T恤 白 M 可用 20（已预留 100）")
    assert message.endswith("需要 21，缺 1")
    assert figures(j.balance(ts, sh)) == ("120.000", "100.000", "20.000", "11.2500", "1350.00")


def test_credit_limit_is_checked_on_confirm(jxc, stocked):
    j = jxc
    customer = j.get("customer", j.customer)
    assert (
        j.sales.patch(
            j.url("customer", j.customer), json={"credit_limit": "9999", "version": customer["version"]}
        ).status_code
        == 403
    )
    changed = j.finance.patch(
        j.url("customer", j.customer), json={"credit_limit": "1000", "version": customer["version"]}
    )
    assert changed.status_code == 200
    # the posted delivery of 30 x 29.90 = 897.00 is still owed
    first = order(j, "3")  # 89.70 -> exposure 986.70
    j.set_status(j.sales, "sales_order", first["id"], "confirmed")
    second = order(j, "1")  # 29.90 more would make 1016.60
    message = j.set_status(j.sales, "sales_order", second["id"], "confirmed", expect=422)["error"]["message"]
    assert (
        message
        == "超出信用额度：华联服饰 额度 1,000.00 CNY，应收 897.00 CNY，未结订单 89.70 CNY，本单 29.90 CNY"
    )
    j.set_status(j.sales, "sales_order", first["id"], "cancelled")
    j.set_status(j.sales, "sales_order", second["id"], "confirmed")


def test_returns_transfer_and_stocktake(jxc, accounts, stocked):
    j, sh, gz, ts = jxc, jxc.wh["WH-SH"], jxc.wh["WH-GZ"], jxc.product["TS-WHT-M"]
    assert figures(j.balance(ts, sh)) == ("120.000", "0.000", "120.000", "11.2500", "1350.00")

    # sales return of 5 from the delivery comes back at the delivered cost 10.0000 -> 125, 1400.00
    sr = j.create(j.sales, "sales_return", {"delivery": stocked["id"], "customer": j.customer, "warehouse": sh,
                                            "return_date": "2026-11-15", "reason": "尺码不合",
                                            "lines": [{"product": ts, "qty": "5", "unit_price": "29.90"}]})  # fmt: skip
    assert "cost_total" not in sr  # the salesperson never sees costs
    refused = j.set_status(
        j.sales, "sales_return", sr["id"], "posted", expect=403
    )  # the warehouse receives it
    assert "执行流程操作「post」" in refused["error"]["message"]
    j.set_status(j.warehouse, "sales_return", sr["id"], "posted")
    assert figures(j.balance(ts, sh)) == ("125.000", "0.000", "125.000", "11.2000", "1400.00")
    sr = j.get("sales_return", sr["id"])
    assert (sr["total"], sr["cost_total"]) == ("149.50", "50.00")
    (credit,) = j.rows("receivable", {"field": "sales_return", "op": "=", "value": sr["id"]})
    assert (credit["amount"], credit["balance"]) == ("-149.50", "-149.50")
    (v,) = j.vouchers("sales_return", sr["number"])
    assert entries(v, accounts) == [("6001", "149.50", "0.00"), ("1122", "0.00", "149.50"),
                                    ("1405", "50.00", "0.00"), ("6401", "0.00", "50.00")]  # fmt: skip
    assert j.get("customer", j.customer)["receivable_balance"] == "747.50"  # 897.00 - 149.50

    # purchase return of 20 @ 13.00 leaves at moving average 20 x 1400/125 = 224.00; price difference 36.00
    pr = j.create(j.warehouse, "purchase_return", {"supplier": j.supplier, "warehouse": sh, "return_date": "2026-11-16",
                                                   "lines": [{"product": ts, "qty": "20", "unit_price": "13.00"}]})  # fmt: skip
    j.set_status(j.warehouse, "purchase_return", pr["id"], "posted")
    assert figures(j.balance(ts, sh)) == ("105.000", "0.000", "105.000", "11.2000", "1176.00")
    pr = j.get("purchase_return", pr["id"])
    (v,) = j.vouchers("purchase_return", pr["number"])
    assert entries(v, accounts) == [
        ("2202", "260.00", "0.00"),
        ("1405", "0.00", "224.00"),
        ("6401", "0.00", "36.00"),
    ]
    assert j.get("supplier", j.supplier)["payable_balance"] == "1390.00"  # 1000.00 + 650.00 - 260.00

    # transfer 25 to Guangzhou at cost 25 x 1176/105 = 280.00
    tr = j.create(j.warehouse, "stock_transfer", {"warehouse": sh, "to_warehouse": gz, "transfer_date": "2026-11-17",
                                                  "lines": [{"product": ts, "qty": "25"}]})  # fmt: skip
    j.set_status(j.warehouse, "stock_transfer", tr["id"], "posted")
    assert figures(j.balance(ts, sh)) == ("80.000", "0.000", "80.000", "11.2000", "896.00")
    assert figures(j.balance(ts, gz)) == ("25.000", "0.000", "25.000", "11.2000", "280.00")
    same = j.warehouse.post(
        j.url("stock_transfer"), json={"warehouse": sh, "to_warehouse": sh, "transfer_date": "2026-11-17"}
    )
    assert same.status_code == 422

    # stocktakes: Guangzhou counts 23 of 25 (loss 2 x 11.20 = 22.40), Shanghai 81 of 80 (gain 11.20)
    st = j.create(j.warehouse, "stocktake", {"warehouse": gz, "stocktake_date": "2026-11-18",
                                             "lines": [{"product": ts, "book_qty": "25", "counted_qty": "23"}]})  # fmt: skip
    j.set_status(j.warehouse, "stocktake", st["id"], "posted")
    st = j.get("stocktake", st["id"])
    assert (st["qty_total"], st["gain_value"], st["loss_value"]) == ("-2.000", "0.00", "22.40")
    assert figures(j.balance(ts, gz)) == ("23.000", "0.000", "23.000", "11.2000", "257.60")
    (v,) = j.vouchers("stocktake", st["number"])
    assert entries(v, accounts) == [("1901", "22.40", "0.00"), ("1405", "0.00", "22.40")]
    # the book quantity is checked against the system at posting: a stale count is refused, nothing booked
    stale = j.create(j.warehouse, "stocktake", {"warehouse": sh, "stocktake_date": "2026-11-18",
                                                "lines": [{"product": ts, "book_qty": "79", "counted_qty": "81"}]})  # fmt: skip
    refused = j.set_status(j.warehouse, "stocktake", stale["id"], "posted", expect=422)["error"]["message"]
    assert "现为 80，盘点单为 79" in refused
    assert figures(j.balance(ts, sh)) == ("80.000", "0.000", "80.000", "11.2000", "896.00")
    st = j.create(j.warehouse, "stocktake", {"warehouse": sh, "stocktake_date": "2026-11-18",
                                             "lines": [{"product": ts, "book_qty": "80", "counted_qty": "81"}]})  # fmt: skip
    j.set_status(j.warehouse, "stocktake", st["id"], "posted")
    assert figures(j.balance(ts, sh)) == ("81.000", "0.000", "81.000", "11.2000", "907.20")
    (v,) = j.vouchers("stocktake", j.get("stocktake", st["id"])["number"])
    assert entries(v, accounts) == [("1405", "11.20", "0.00"), ("1901", "0.00", "11.20")]
    kinds = [
        (r["doc_type"], r["qty"], r["amount"])
        for r in j.rows("stock_ledger", {"field": "product", "op": "=", "value": ts})
    ]
    assert kinds[3:] == [("sales_return", "5.000", "50.00"), ("purchase_return", "-20.000", "-224.00"),
                         ("transfer_out", "-25.000", "-280.00"), ("transfer_in", "25.000", "280.00"),
                         ("stocktake", "-2.000", "-22.40"), ("stocktake", "1.000", "11.20")]  # fmt: skip


def test_a_document_dated_in_a_closed_period_is_refused(jxc):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    period = j.create(j.finance, "accounting_period", {"period": "2026-10"})
    late = j.create(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": sh, "receipt_date": "2026-10-30",
                                                      "lines": [{"product": ts, "qty": "5", "unit_price": "10.00"}]})  # fmt: skip
    assert late["period"] == "2026-10"
    # a draft dated in the period keeps it from closing (test_period_close.py); here the clerk posts it first
    message = j.set_status(j.finance, "accounting_period", period["id"], "closed", expect=422)["error"][
        "message"
    ]
    assert message.endswith(f"（或勾选结账时作废）：{late['number']}")
    j.set_status(j.warehouse, "purchase_receipt", late["id"], "posted")
    j.set_status(j.finance, "accounting_period", period["id"], "closed")
    body = {"supplier": j.supplier, "warehouse": sh, "receipt_date": "2026-10-15",
            "lines": [{"product": ts, "qty": "5", "unit_price": "10.00"}]}  # fmt: skip
    response = j.warehouse.post(j.url("purchase_receipt"), json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["message"].startswith("会计期间 2026-10 已结账：采购入库单")
    moved = j.create(j.warehouse, "purchase_receipt", {**body, "receipt_date": "2026-11-01"})
    response = j.warehouse.patch(
        j.url("purchase_receipt", moved["id"]), json={"receipt_date": "2026-10-31", "version": 1}
    )
    assert (
        response.status_code == 422 and "会计期间 2026-10 已结账" in response.get_json()["error"]["message"]
    )
    assert j.balance(ts, sh)["on_hand"] == "5.000"
    voucher = {
        "voucher_date": "2026-10-31",
        "lines": [{"account": 1, "debit": "1"}, {"account": 2, "credit": "1"}],
    }
    assert j.finance.post(j.url("voucher"), json=voucher).status_code == 422
    reopen = j.set_status(
        j.finance, "accounting_period", period["id"], "open", expect=403
    )  # 反结账: admin only
    assert "执行流程操作「reopen」" in reopen["error"]["message"]
    j.set_status(j.admin, "accounting_period", period["id"], "open")
    again = j.create(j.warehouse, "purchase_receipt", body)
    j.set_status(j.warehouse, "purchase_receipt", again["id"], "posted")
    assert j.balance(ts, sh)["on_hand"] == "10.000"


def test_vouchers_must_balance(jxc):
    j = jxc
    acc = {a["code"]: a["id"] for a in j.rows("account", client=j.finance)}
    unbalanced = {"voucher_date": "2026-11-30", "description": "费用报销",
                  "lines": [{"account": acc["6602"], "debit": "100.00"}, {"account": acc["1002"], "credit": "90.00"}]}  # fmt: skip
    response = j.finance.post(j.url("voucher"), json=unbalanced)
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "借贷不平衡：借方 100.00 CNY，贷方 90.00 CNY"
    both = {
        **unbalanced,
        "lines": [{"account": acc["6602"], "debit": "10", "credit": "10"}, {"account": acc["1002"]}],
    }
    assert (
        "每条分录只能有借方或贷方金额"
        in j.finance.post(j.url("voucher"), json=both).get_json()["error"]["message"]
    )
    one = {**unbalanced, "lines": [{"account": acc["6602"]}]}
    assert "凭证至少两条分录" in j.finance.post(j.url("voucher"), json=one).get_json()["error"]["message"]
    good = j.create(j.finance, "voucher", {**unbalanced, "lines": [
        {"account": acc["6602"], "debit": "100.00"}, {"account": acc["1002"], "credit": "100.00"}]})  # fmt: skip
    assert good["number"].startswith("V-") and good["status"] == "draft"
    edit = j.finance.patch(j.url("voucher", good["id"]), json={"version": 1, "lines": [
        {"account": acc["6602"], "debit": "100.00"}, {"account": acc["1002"], "credit": "99.00"}]})  # fmt: skip
    assert edit.status_code == 422
    j.set_status(j.finance, "voucher", good["id"], "posted")
    posted = j.get("voucher", good["id"])
    edit = j.finance.patch(
        j.url("voucher", good["id"]), json={"description": "x", "version": posted["version"]}
    )
    assert edit.status_code == 409
    assert edit.get_json()["error"]["message"] == f"记账凭证 {good['id']} 处于「已过账」状态，摘要 不能修改"
