"""Closing a period (结账) is refused while drafts are dated in it - the refusal counts them and names the first 10 -
until they are posted or cancelled, or the closer asks to cancel them with the close (audited as the rule)."""

from __future__ import annotations


def voucher(j, acc, day):
    return j.create(j.finance, "voucher", {"voucher_date": day, "description": "费用报销",
                                           "lines": [{"account": acc["6602"], "debit": "1.00"},
                                                     {"account": acc["1002"], "credit": "1.00"}]})  # fmt: skip


def close(j, period, expect=200, **extra):
    current = j.get("accounting_period", period["id"])
    response = j.finance.patch(j.url("accounting_period", period["id"]),
                               json={"status": "closed", "version": current["version"], **extra})  # fmt: skip
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def test_closing_lists_the_drafts_until_they_are_handled_or_cancelled_with_the_close(jxc):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    acc = {a["code"]: a["id"] for a in j.rows("account", client=j.finance)}
    period = j.create(j.finance, "accounting_period", {"period": "2026-10"})
    line = {"product": ts, "qty": "5", "unit_price": "10.00"}
    so = j.create(
        j.sales,
        "sales_order",
        {"customer": j.customer, "warehouse": sh, "order_date": "2026-10-06", "lines": [line]},
    )
    po = j.create(j.purchaser, "purchase_order", {"supplier": j.supplier, "warehouse": sh, "order_date": "2026-10-07",
                                                  "lines": [line]})  # fmt: skip
    dn = j.create(j.warehouse, "delivery", {"customer": j.customer, "warehouse": sh, "delivery_date": "2026-10-08",
                                            "lines": [line]})  # fmt: skip
    vouchers = [voucher(j, acc, "2026-10-31") for _ in range(9)]
    november = voucher(j, acc, "2026-11-01")  # another period: not in the way

    refused = close(j, period, 422)["error"]["message"]
    numbers = [so["number"], po["number"], dn["number"], *(v["number"] for v in vouchers[:7])]
    assert refused == (
        f"期间 2026-10 还有 12 张草稿单据，请先过账或作废（或勾选结账时作废）：{', '.join(numbers)}"
    )  # the first 10 of 12, in the language of finance
    assert j.get("accounting_period", period["id"])["status"] == "open"

    # handled by the people who own them: the clerk cancels the delivery (作废), finance posts its vouchers
    j.set_status(j.warehouse, "delivery", dn["id"], "cancelled")
    j.set_status(j.warehouse, "delivery", dn["id"], "posted", expect=409)  # cancelled is final
    assert j.warehouse.delete(j.url("delivery", dn["id"])).status_code == 409
    for v in vouchers:
        j.set_status(j.finance, "voucher", v["id"], "posted")
    refused = close(j, period, 422)["error"]["message"]
    assert refused.endswith(
        f"还有 2 张草稿单据，请先过账或作废（或勾选结账时作废）：{so['number']}, {po['number']}"
    )

    # the closer cancels the rest with the close; each cancellation is audited as the rule
    closed = close(j, period, cancel_drafts=True)
    assert (closed["status"], closed["cancel_drafts"]) == ("closed", False)  # the request is not kept
    assert (
        j.get("sales_order", so["id"])["status"] == j.get("purchase_order", po["id"])["status"] == "cancelled"
    )
    (latest, *_) = j.admin.get(j.url("sales_order", so["id"]) + "/history").get_json()["data"]
    assert latest["actor"] == "system:rule:period_close_cancel_drafts"
    assert latest["diff"]["status"] == ["draft", "cancelled"]
    assert j.get("voucher", november["id"])["status"] == "draft"
    assert j.get("customer", j.customer)["open_orders"] == "0.00" and j.balance(ts, sh) is None


def test_cancel_drafts_only_acts_with_a_close_and_is_never_kept(jxc):
    j, sh = jxc, jxc.wh["WH-SH"]
    period = j.create(j.finance, "accounting_period", {"period": "2026-10"})
    so = j.create(j.sales, "sales_order", {"customer": j.customer, "warehouse": sh, "order_date": "2026-10-06",
                                           "lines": [{"product": j.product["TS-WHT-M"], "qty": "1", "unit_price": "1"}]})  # fmt: skip
    response = j.finance.patch(j.url("accounting_period", period["id"]),
                               json={"note": "月末", "cancel_drafts": True, "version": 1})  # fmt: skip
    assert response.status_code == 200 and response.get_json()["cancel_drafts"] is False
    assert j.get("sales_order", so["id"])["status"] == "draft"
    assert so["number"] in close(j, period, 422)["error"]["message"]  # a later close still asks


def test_a_period_cannot_be_created_closed(jxc):
    """Closed is reached only by closing (which checks the drafts): a new period starts open."""
    j, sh = jxc, jxc.wh["WH-SH"]
    j.create(j.sales, "sales_order", {"customer": j.customer, "warehouse": sh, "order_date": "2026-09-30",
                                      "lines": [{"product": j.product["TS-WHT-M"], "qty": "1", "unit_price": "1"}]})  # fmt: skip
    response = j.finance.post(j.url("accounting_period"), json={"period": "2026-09", "status": "closed"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["status"] == [
        "新建的 会计期间 只能处于 '未结账'；「已结账」须经流程操作到达"
    ]
    assert j.rows("accounting_period") == []
