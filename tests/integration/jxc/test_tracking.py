"""Deliveries, receipts and returns checked against their orders, partial deliveries and receipts, figures
computed by hand. TS-WHT-M is received 100 @ 10.00 into WH-SH first, so every unit leaves at cost 10.00."""

from __future__ import annotations

import pytest

from tests.integration.jxc.conftest import PASSWORD, entries
from tests.integration.pages.helpers import Browser


@pytest.fixture
def stocked(jxc):
    j = jxc
    gr = j.create(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": j.wh["WH-SH"], "receipt_date": "2026-11-01",
                                                    "lines": [{"product": j.product["TS-WHT-M"], "qty": "100", "unit_price": "10.00"}]})  # fmt: skip
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")
    return j


def confirmed_order(j, qty="10", price="29.90"):
    so = j.create(j.sales, "sales_order", {"customer": j.customer, "warehouse": j.wh["WH-SH"], "order_date": "2026-11-10",
                                           "lines": [{"product": j.product["TS-WHT-M"], "qty": qty, "unit_price": price}]})  # fmt: skip
    j.set_status(j.sales, "sales_order", so["id"], "confirmed")
    return j.get("sales_order", so["id"])


def delivery(j, so, qty, sku="TS-WHT-M", wh="WH-SH"):
    """A draft delivery of the order as the data generator makes it: customer and product/qty/price only."""
    return j.create(j.warehouse, "delivery", {"sales_order": so["id"], "customer": j.customer, "warehouse": j.wh[wh],
                                              "delivery_date": "2026-11-12",
                                              "lines": [{"product": j.product[sku], "qty": qty, "unit_price": "29.90"}]})  # fmt: skip


def post(j, client, entity, doc, expect=200):
    """Post a document; the refusal's message when refused."""
    answer = j.set_status(client, entity, doc["id"], "posted", expect=expect)
    return j.get(entity, doc["id"]) if expect == 200 else answer["error"]["message"]


def stock(j):
    b = j.balance(j.product["TS-WHT-M"], j.wh["WH-SH"])
    return b["on_hand"], b["reserved"], b["available"], b["avg_cost"], b["value"]


def progress(j, entity, key, doc_id):
    (row,) = j.rows(entity, {"field": key, "op": "=", "value": doc_id})
    return tuple(v for k, v in row.items() if k.endswith("_qty"))


def order_state(j, so):
    so = j.get("sales_order", so["id"])
    return so["status"], so["delivered_qty"], so["open_amount"]


def customer(j):
    c = j.get("customer", j.customer)
    return c["receivable_balance"], c["open_orders"]


def test_an_order_of_10_delivered_4_then_6(stocked, accounts):
    j = stocked
    so = confirmed_order(j)  # 10 x 29.90 = 299.00
    assert stock(j) == ("100.000", "10.000", "90.000", "10.0000", "1000.00")
    assert order_state(j, so) == ("confirmed", "0.000", "299.00") and customer(j) == ("0.00", "299.00")
    assert progress(j, "sales_order_progress", "sales_order", so["id"]) == ("10.000", "0.000", "10.000")

    # more than is left, a product the order does not hold, another warehouse: refused, nothing changed
    too_many = delivery(j, so, "25")
    assert post(j, j.warehouse, "delivery", too_many, 422) == (
        f"销售订单 {so['number']} 商品 TS-WHT-M：本次出库 25，未发货仅 10"
    )  # the clerk reads Chinese
    assert post(j, j.warehouse, "delivery", delivery(j, so, "1", sku="JN-BLU-32"), 422) == (
        f"销售订单 {so['number']} 没有商品 JN-BLU-32 牛仔裤 蓝 32"
    )
    elsewhere = post(j, j.warehouse, "delivery", delivery(j, so, "1", wh="WH-GZ"), 422)
    assert elsewhere == "出库仓库与销售订单不一致"
    assert stock(j) == ("100.000", "10.000", "90.000", "10.0000", "1000.00")
    assert order_state(j, so) == ("confirmed", "0.000", "299.00") and customer(j) == ("0.00", "299.00")
    assert progress(j, "sales_order_progress", "sales_order", so["id"]) == ("10.000", "0.000", "10.000")
    assert (
        j.get("delivery", too_many["id"])["status"] == "draft" and j.ledger("delivery", too_many["id"]) == []
    )
    assert j.rows("receivable") == [] and j.vouchers("delivery", too_many["number"]) == []

    # 4 of 10: the reservation of those 4 is released and they leave at 10.00; 6 stay reserved
    first = post(j, j.warehouse, "delivery", delivery(j, so, "4"))
    assert (first["total"], first["cost_total"]) == ("119.60", "40.00")
    assert stock(j) == ("96.000", "6.000", "90.000", "10.0000", "960.00")
    assert order_state(j, so) == ("partially_shipped", "4.000", "179.40")  # 299.00 - 119.60
    assert customer(j) == ("119.60", "179.40")
    assert progress(j, "sales_order_progress", "sales_order", so["id"]) == ("10.000", "4.000", "6.000")
    (rv,) = j.rows("receivable", {"field": "delivery", "op": "=", "value": first["id"]})
    assert (rv["amount"], rv["balance"]) == ("119.60", "119.60")
    (v,) = j.vouchers("delivery", first["number"])
    assert entries(v, accounts) == [("1122", "119.60", "0.00"), ("6001", "0.00", "119.60"),
                                    ("6401", "40.00", "0.00"), ("1405", "0.00", "40.00")]  # fmt: skip
    assert j.sales.get("/api/notifications").get_json()["data"] == []  # not shipped yet
    assert j.set_status(j.sales, "sales_order", so["id"], "shipped", expect=403)  # only deliveries ship it
    assert j.set_status(j.sales, "sales_order", so["id"], "draft", expect=409)  # no way back

    # the last 6 complete it
    second = post(j, j.warehouse, "delivery", delivery(j, so, "6"))
    assert (second["total"], second["cost_total"]) == ("179.40", "60.00")
    assert stock(j) == ("90.000", "0.000", "90.000", "10.0000", "900.00")
    assert order_state(j, so) == ("shipped", "10.000", "0.00") and customer(j) == ("299.00", "0.00")
    assert progress(j, "sales_order_progress", "sales_order", so["id"]) == ("10.000", "10.000", "0.000")
    (v,) = j.vouchers("delivery", second["number"])
    assert entries(v, accounts) == [("1122", "179.40", "0.00"), ("6001", "0.00", "179.40"),
                                    ("6401", "60.00", "0.00"), ("1405", "0.00", "60.00")]  # fmt: skip
    told = [n["title"] for n in j.sales.get("/api/notifications").get_json()["data"]]
    assert told == [f"销售订单 {so['number']} 已发货"]
    message = post(j, j.warehouse, "delivery", delivery(j, so, "1"), 422)
    assert message == f"销售订单 {so['number']} 状态为 已发货，不能出库：只有已确认或部分发货的订单可以出库"
    assert stock(j) == ("90.000", "0.000", "90.000", "10.0000", "900.00")


def sales_return(j, dn, qty, sku="TS-WHT-M"):
    return j.create(j.sales, "sales_return", {"delivery": dn["id"], "customer": j.customer, "warehouse": j.wh["WH-SH"],
                                              "return_date": "2026-11-15", "reason": "尺码不合",
                                              "lines": [{"product": j.product[sku], "qty": qty, "unit_price": "29.90"}]})  # fmt: skip


def test_a_return_takes_back_at_most_what_its_delivery_shipped(stocked, accounts):
    j = stocked
    so = confirmed_order(j)
    dn = post(j, j.warehouse, "delivery", delivery(j, so, "4"))
    assert stock(j) == ("96.000", "6.000", "90.000", "10.0000", "960.00") and customer(j) == (
        "119.60",
        "179.40",
    )

    five = sales_return(j, dn, "5")
    assert post(j, j.warehouse, "sales_return", five, 422) == (
        f"出库单 {dn['number']} 商品 TS-WHT-M：本次退货 5，可退 4"
    )
    assert stock(j) == ("96.000", "6.000", "90.000", "10.0000", "960.00") and customer(j) == (
        "119.60",
        "179.40",
    )
    assert (
        j.ledger("sales_return", five["id"]) == [] and j.get("sales_return", five["id"])["status"] == "draft"
    )

    three = post(
        j, j.warehouse, "sales_return", sales_return(j, dn, "3")
    )  # 3 x 29.90 = 89.70, cost 3 x 10.00
    assert (three["total"], three["cost_total"]) == ("89.70", "30.00")
    assert stock(j) == ("99.000", "6.000", "93.000", "10.0000", "990.00")  # the order's 6 stay reserved
    assert customer(j) == ("29.90", "179.40")  # 119.60 - 89.70
    (credit,) = j.rows("receivable", {"field": "sales_return", "op": "=", "value": three["id"]})
    assert credit["amount"] == "-89.70"
    (v,) = j.vouchers("sales_return", three["number"])
    assert entries(v, accounts) == [("6001", "89.70", "0.00"), ("1122", "0.00", "89.70"),
                                    ("1405", "30.00", "0.00"), ("6401", "0.00", "30.00")]  # fmt: skip
    assert progress(j, "delivery_progress", "delivery", dn["id"]) == ("4.000", "3.000", "1.000")

    message = post(j, j.warehouse, "sales_return", sales_return(j, dn, "2"), 422)
    assert message == f"出库单 {dn['number']} 商品 TS-WHT-M：本次退货 2，可退 1"
    message = post(j, j.warehouse, "sales_return", sales_return(j, dn, "1", sku="JN-BLU-32"), 422)
    assert message == f"商品 JN-BLU-32 牛仔裤 蓝 32 不在出库单 {dn['number']} 中"
    assert stock(j) == ("99.000", "6.000", "93.000", "10.0000", "990.00") and customer(j) == (
        "29.90",
        "179.40",
    )
    assert order_state(j, so) == (
        "partially_shipped",
        "4.000",
        "179.40",
    )  # a return does not reopen the order


def test_cancelling_a_partly_shipped_order_releases_only_the_rest(stocked):
    j = stocked
    so = confirmed_order(j)
    post(j, j.warehouse, "delivery", delivery(j, so, "4"))
    j.set_status(j.sales, "sales_order", so["id"], "cancelled")
    assert stock(j) == (
        "96.000",
        "0.000",
        "96.000",
        "10.0000",
        "960.00",
    )  # 6 released, the 4 shipped are gone
    assert order_state(j, so) == ("cancelled", "4.000", "0.00") and customer(j) == ("119.60", "0.00")
    message = post(j, j.warehouse, "delivery", delivery(j, so, "1"), 422)
    assert f"销售订单 {so['number']} 状态为 已取消，不能出库" in message  # the status by its Chinese label
    assert stock(j) == ("96.000", "0.000", "96.000", "10.0000", "960.00")
    j.set_status(j.sales, "sales_order", so["id"], "confirmed", expect=409)  # cancelled is final


def approved_po(j, qty="10"):
    po = j.create(j.purchaser, "purchase_order", {"supplier": j.supplier, "warehouse": j.wh["WH-SH"], "order_date": "2026-11-02",
                                                  "lines": [{"product": j.product["TS-WHT-M"], "qty": qty, "unit_price": "10.00"}]})  # fmt: skip
    j.set_status(j.admin, "purchase_order", po["id"], "approved")  # 管理员审核
    return j.get("purchase_order", po["id"])


def receipt(j, po, qty, sku="TS-WHT-M"):
    return j.create(j.warehouse, "purchase_receipt", {"purchase_order": po["id"], "supplier": j.supplier,
                                                      "warehouse": j.wh["WH-SH"], "receipt_date": "2026-11-03",
                                                      "lines": [{"product": j.product[sku], "qty": qty, "unit_price": "10.00"}]})  # fmt: skip


def purchase_return(j, gr, qty):
    return j.create(j.warehouse, "purchase_return", {"purchase_receipt": gr["id"], "supplier": j.supplier,
                                                     "warehouse": j.wh["WH-SH"], "return_date": "2026-11-05",
                                                     "lines": [{"product": j.product["TS-WHT-M"], "qty": qty, "unit_price": "10.00"}]})  # fmt: skip


def po_state(j, po):
    po = j.get("purchase_order", po["id"])
    return po["status"], po["received_qty"], j.get("supplier", j.supplier)["payable_balance"]


def test_a_purchase_order_of_10_received_4_then_6_and_a_return(jxc, accounts):
    j = jxc
    po = approved_po(j)
    assert progress(j, "purchase_order_progress", "purchase_order", po["id"]) == ("10.000", "0.000", "10.000")
    too_many = receipt(j, po, "25")
    assert post(j, j.warehouse, "purchase_receipt", too_many, 422) == (
        f"采购订单 {po['number']} 商品 TS-WHT-M：本次入库 25，未入库仅 10"
    )
    message = post(j, j.warehouse, "purchase_receipt", receipt(j, po, "1", sku="JN-BLU-32"), 422)
    assert message == f"采购订单 {po['number']} 没有商品 JN-BLU-32 牛仔裤 蓝 32"
    assert j.balance(j.product["TS-WHT-M"], j.wh["WH-SH"]) is None and j.rows("payable") == []
    assert po_state(j, po) == ("approved", "0.000", "0.00")

    first = post(j, j.warehouse, "purchase_receipt", receipt(j, po, "4"))
    assert stock(j) == ("4.000", "0.000", "4.000", "10.0000", "40.00")
    assert po_state(j, po) == ("partially_received", "4.000", "40.00")
    (v,) = j.vouchers("purchase_receipt", first["number"])
    assert entries(v, accounts) == [("1405", "40.00", "0.00"), ("2202", "0.00", "40.00")]
    assert j.set_status(j.purchaser, "purchase_order", po["id"], "received", expect=403)  # only receipts do

    second = post(j, j.warehouse, "purchase_receipt", receipt(j, po, "6"))
    assert stock(j) == ("10.000", "0.000", "10.000", "10.0000", "100.00")
    assert po_state(j, po) == ("received", "10.000", "100.00")
    assert progress(j, "purchase_order_progress", "purchase_order", po["id"]) == ("10.000", "10.000", "0.000")
    (v,) = j.vouchers("purchase_receipt", second["number"])
    assert entries(v, accounts) == [("1405", "60.00", "0.00"), ("2202", "0.00", "60.00")]
    message = post(j, j.warehouse, "purchase_receipt", receipt(j, po, "1"), 422)
    assert f"采购订单 {po['number']} 状态为 已入库，不能入库" in message

    # returns against the first receipt (4): 5 refused, 3 leave at 10.00, then 2 more refused
    message = post(j, j.warehouse, "purchase_return", purchase_return(j, first, "5"), 422)
    assert message == f"入库单 {first['number']} 商品 TS-WHT-M：本次退货 5，可退 4"
    assert stock(j) == ("10.000", "0.000", "10.000", "10.0000", "100.00") and po_state(j, po)[2] == "100.00"
    back = post(j, j.warehouse, "purchase_return", purchase_return(j, first, "3"))
    assert stock(j) == ("7.000", "0.000", "7.000", "10.0000", "70.00") and po_state(j, po)[2] == "70.00"
    (v,) = j.vouchers("purchase_return", back["number"])
    assert entries(v, accounts) == [("2202", "30.00", "0.00"), ("1405", "0.00", "30.00")]
    assert progress(j, "receipt_progress", "purchase_receipt", first["id"]) == ("4.000", "3.000", "1.000")
    message = post(j, j.warehouse, "purchase_return", purchase_return(j, first, "2"), 422)
    assert message == f"入库单 {first['number']} 商品 TS-WHT-M：本次退货 2，可退 1"
    assert stock(j) == ("7.000", "0.000", "7.000", "10.0000", "70.00")


def test_the_purchaser_cancels_the_rest_of_a_partly_received_order(jxc):
    j = jxc
    po = approved_po(j)
    post(j, j.warehouse, "purchase_receipt", receipt(j, po, "4"))
    j.set_status(j.purchaser, "purchase_order", po["id"], "cancelled")
    assert po_state(j, po) == ("cancelled", "4.000", "40.00")
    message = post(j, j.warehouse, "purchase_receipt", receipt(j, po, "1"), 422)
    assert f"采购订单 {po['number']} 状态为 已取消，不能入库" in message
    assert stock(j) == ("4.000", "0.000", "4.000", "10.0000", "40.00")


def test_a_delivery_without_an_order_or_a_return_without_a_delivery_is_not_tracked_against_one(stocked):
    j = stocked
    direct = j.create(j.warehouse, "delivery", {"customer": j.customer, "warehouse": j.wh["WH-SH"], "delivery_date": "2026-11-12",
                                                "lines": [{"product": j.product["TS-WHT-M"], "qty": "5", "unit_price": "29.90"}]})  # fmt: skip
    post(j, j.warehouse, "delivery", direct)
    assert progress(j, "delivery_progress", "delivery", direct["id"]) == ("5.000", "0.000", "5.000")
    free = j.create(j.sales, "sales_return", {"customer": j.customer, "warehouse": j.wh["WH-SH"], "return_date": "2026-11-15",
                                              "lines": [{"product": j.product["TS-WHT-M"], "qty": "7", "unit_price": "29.90"}]})  # fmt: skip
    post(j, j.warehouse, "sales_return", free)
    assert stock(j)[0] == "102.000"  # 100 - 5 + 7


def test_the_salesperson_sees_what_is_shipped_and_left_on_the_pages(app, stocked):
    j = stocked
    so = confirmed_order(j)
    post(j, j.warehouse, "delivery", delivery(j, so, "4"))
    browser = Browser(app.test_client())
    assert browser.login("sales", PASSWORD).status_code == 303
    page = browser.get(f"/a/jxc/sales_order/{so['id']}").get_data(as_text=True)
    assert "部分发货" in page and ">4<" in page and "179.40 CNY" in page  # quantities without trailing zeros
    listing = browser.get("/a/jxc/sales_order_progress").get_data(as_text=True)
    assert so["number"] in listing and ">6<" in listing  # left to deliver
    assert browser.get("/a/jxc/purchase_order_progress").status_code == 403  # not the salesperson's
