""" "Create from" (issue 15 item 2) through the API: Deliver, Receive and Return drafts made from JXC documents
as each role may, saved and posted through the ordinary data API; a second Deliver after a partial delivery
offers only what remains; hostile requests (drafts, unknown ids, another app's mapping, records outside a
record rule) change nothing and get a clear 4xx."""

from __future__ import annotations

import pytest

from tests.conftest import ApiClient, login
from tests.integration.jxc.conftest import PASSWORD
from tests.integration.jxc.test_tracking import confirmed_order, stocked  # noqa: F401 - fixture

DRAFT = "/api/mappings/jxc/{name}/draft-from/{id}"


def draft(client, name: str, record_id: int, expect: int = 200) -> dict:
    response = client.get(DRAFT.format(name=name, id=record_id))
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def test_deliver_twice_offers_only_what_remains(stocked):  # noqa: F811
    j = stocked
    so = confirmed_order(j, qty="10", price="25.00")
    made = draft(j.warehouse, "deliver_sales_order", so["id"])
    assert made["target"] == "delivery" and made["source"] == {"entity": "sales_order", "id": so["id"]}
    values = made["values"]
    assert (values["sales_order"], values["customer"], values["warehouse"]) == (
        so["id"],
        j.customer,
        j.wh["WH-SH"],
    )
    assert values["delivery_date"]  # today
    assert made["children"]["lines"] == [
        {"product": j.product["TS-WHT-M"], "qty": "10.000", "unit_price": "25.00"}
    ]
    assert made["errors"] == []
    assert j.rows("delivery") == []  # nothing written

    # the clerk delivers 4 of the 10: saved and posted through the data API like any delivery
    body = {**values, "lines": [{**made["children"]["lines"][0], "qty": "4"}]}
    first = j.create(j.warehouse, "delivery", body)
    j.set_status(j.warehouse, "delivery", first["id"], "posted")
    assert j.get("sales_order", so["id"])["status"] == "partially_shipped"
    assert j.balance(j.product["TS-WHT-M"], j.wh["WH-SH"])["on_hand"] == "96.000"

    again = draft(j.warehouse, "deliver_sales_order", so["id"])
    assert again["children"]["lines"] == [
        {"product": j.product["TS-WHT-M"], "qty": "6.000", "unit_price": "25.00"}
    ]
    second = j.create(j.warehouse, "delivery", {**again["values"], **again["children"]})
    j.set_status(j.warehouse, "delivery", second["id"], "posted")
    assert j.get("sales_order", so["id"])["status"] == "shipped"
    assert j.get("delivery", second["id"])["total"] == "150.00"  # 6 x the order's 25.00, not the list 29.90
    # shipped: no more Deliver
    refused = draft(j.warehouse, "deliver_sales_order", so["id"], 409)
    assert refused["error"]["code"] == "not_offered"

    # Return from the first delivery: the 4 delivered, at its price; the sales role makes returns
    back = draft(j.sales, "return_delivery", first["id"])
    assert back["values"]["delivery"] == first["id"] and back["values"]["customer"] == j.customer
    assert back["children"]["lines"] == [
        {"product": j.product["TS-WHT-M"], "qty": "4.000", "unit_price": "25.00"}
    ]
    sr = j.create(j.sales, "sales_return", {**back["values"], **back["children"], "reason": "尺码不合"})
    j.set_status(j.warehouse, "sales_return", sr["id"], "posted")
    nothing = draft(j.sales, "return_delivery", first["id"], 409)  # all 4 returned: nothing left to return
    assert nothing["error"]["message"] == f"销售出库单 {first['number']} 已没有可生成销售退货单的明细"


def test_receive_and_return_a_receipt(jxc):
    j = jxc
    lines = [{"product": j.product["TS-WHT-M"], "qty": "50", "unit_price": "9.50"}]
    po = j.create(j.purchaser, "purchase_order", {"supplier": j.supplier, "warehouse": j.wh["WH-SH"],
                                                  "order_date": "2026-11-01", "lines": lines})  # fmt: skip
    assert (
        draft(j.warehouse, "receive_purchase_order", po["id"], 409)["error"]["code"] == "not_offered"
    )  # draft
    j.set_status(j.admin, "purchase_order", po["id"], "approved")
    made = draft(j.warehouse, "receive_purchase_order", po["id"])
    assert made["values"]["purchase_order"] == po["id"] and made["values"]["supplier"] == j.supplier
    assert made["children"]["lines"] == [
        {"product": j.product["TS-WHT-M"], "qty": "50.000", "unit_price": "9.50"}
    ]
    gr = j.create(
        j.warehouse,
        "purchase_receipt",
        {**made["values"], "lines": [{**made["children"]["lines"][0], "qty": "30"}]},
    )
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")
    rest = draft(j.warehouse, "receive_purchase_order", po["id"])
    assert [r["qty"] for r in rest["children"]["lines"]] == ["20.000"]

    ret = draft(j.warehouse, "return_purchase_receipt", gr["id"])
    assert ret["values"]["purchase_receipt"] == gr["id"] and ret["values"]["supplier"] == j.supplier
    assert ret["children"]["lines"] == [
        {"product": j.product["TS-WHT-M"], "qty": "30.000", "unit_price": "9.50"}
    ]
    rt = j.create(
        j.warehouse,
        "purchase_return",
        {**ret["values"], "lines": [{**ret["children"]["lines"][0], "qty": "5"}]},
    )
    j.set_status(j.warehouse, "purchase_return", rt["id"], "posted")
    assert [
        r["qty"] for r in draft(j.warehouse, "return_purchase_receipt", gr["id"])["children"]["lines"]
    ] == ["25.000"]


@pytest.mark.parametrize(
    ("role", "name", "expect"),
    [
        ("sales", "deliver_sales_order", 403),  # reads orders, may not create deliveries
        ("finance", "deliver_sales_order", 403),
        ("purchaser", "deliver_sales_order", 403),  # may not read sales orders either
        ("warehouse", "deliver_sales_order", 200),
        ("admin", "deliver_sales_order", 200),
    ],
)
def test_who_may_deliver(stocked, role, name, expect):  # noqa: F811
    j = stocked
    so = confirmed_order(j)
    body = draft(getattr(j, role), name, so["id"], expect)
    if expect != 200:
        assert body["error"]["code"] == "forbidden"


def test_hostile_requests_get_a_clear_4xx(stocked, api):  # noqa: F811
    j = stocked
    so = j.create(j.sales, "sales_order", {"customer": j.customer, "warehouse": j.wh["WH-SH"], "order_date": "2026-11-10",
                                           "lines": [{"product": j.product["TS-WHT-M"], "qty": "2", "unit_price": "29.90"}]})  # fmt: skip
    answer = draft(j.warehouse, "deliver_sales_order", so["id"], 409)
    assert (
        answer["error"]["message"] == f"销售订单 {so['number']} 的当前状态不能生成销售出库单"
    )  # the clerk reads Chinese
    assert draft(j.warehouse, "deliver_sales_order", 999999, 404)["error"]["code"] == "not_found"
    assert draft(j.warehouse, "no_such_mapping", so["id"], 404)["error"]["code"] == "not_found"
    assert draft(j.warehouse, "deliver_sales_order", 0, 404)
    response = j.warehouse.get(f"/api/mappings/demo/deliver_sales_order/draft-from/{so['id']}")
    assert response.status_code == 404  # another (or no) app: its mappings are not this one's
    assert j.rows("delivery") == []
    j.set_status(j.sales, "sales_order", so["id"], "confirmed")  # now it may be delivered
    assert draft(j.warehouse, "deliver_sales_order", so["id"])["children"]["lines"][0]["qty"] == "2.000"


def test_a_record_outside_the_readers_record_rule_is_not_found(stocked):  # noqa: F811
    """A role that reads only the orders from 5 November on: an older order is a 404, not a draft."""
    j = stocked
    role = {
        "name": "late_clerk",
        "label": {"en": "Clerk of recent orders"},
        "grants": [
            {"entity": "sales_order", "actions": ["read"],
             "record_rule": {"field": "order_date", "op": ">=", "value": "2026-11-05"}},
            {"entity": "sales_order_progress", "actions": ["read"]},
            {"entity": "delivery", "actions": ["read", "create"]},
        ],
    }  # fmt: skip
    response = j.admin.put("/api/definitions/jxc/role/late_clerk", json=role)
    assert response.status_code == 200, response.get_json()
    assert j.admin.post("/api/definitions/jxc/role/late_clerk/publish").status_code == 200
    users = j.admin.post("/api/admin/users", json={"username": "clerk", "password": PASSWORD})
    assert users.status_code == 201, users.get_json()
    body = {"user_id": users.get_json()["id"], "app": "jxc", "role": "late_clerk"}
    assert j.admin.post("/api/admin/assignments", json=body).status_code == 201
    client = j.app.test_client()
    clerk = ApiClient(client, login(client, "clerk", PASSWORD))
    recent = confirmed_order(j)  # 2026-11-10
    old = j.create(j.sales, "sales_order", {"customer": j.customer, "warehouse": j.wh["WH-SH"], "order_date": "2026-11-01",
                                            "lines": [{"product": j.product["TS-WHT-M"], "qty": "3", "unit_price": "29.90"}]})  # fmt: skip
    j.set_status(j.sales, "sales_order", old["id"], "confirmed")
    assert draft(clerk, "deliver_sales_order", recent["id"])["children"]["lines"][0]["qty"] == "10.000"
    assert draft(j.warehouse, "deliver_sales_order", old["id"])["children"]["lines"][0]["qty"] == "3.000"
    outside = draft(clerk, "deliver_sales_order", old["id"], 404)
    assert set(outside) == {"error"} and "3.000" not in str(outside)


def test_openapi_lists_the_drafts_each_role_may_make(jxc):
    def drafts(client) -> set[str]:
        paths = client.get("/api/openapi.json").get_json()["paths"]
        return {p.split("/")[4] for p in paths if "/draft-from/" in p}

    assert drafts(jxc.warehouse) == {
        "deliver_sales_order",
        "receive_purchase_order",
        "return_purchase_receipt",
    }
    assert drafts(jxc.sales) == {"return_delivery"}
    assert drafts(jxc.finance) == set() and drafts(jxc.purchaser) == set()
    assert len(drafts(jxc.admin)) == 4


def test_the_designers_preview_of_a_record_reads_its_related_rows(stocked):  # noqa: F811
    j = stocked
    so = confirmed_order(j, qty="7", price="25.00")
    response = j.admin.post("/api/mappings/jxc/deliver_sales_order/preview", json={"record_id": so["id"]})
    assert response.status_code == 200, response.get_json()
    (item,) = response.get_json()["items"]
    assert item["errors"] == [] and item["values"]["sales_order"] == so["id"]
    assert item["children"]["lines"] == [
        {"product": j.product["TS-WHT-M"], "qty": "7.000", "unit_price": "25.00"}
    ]
    assert "lines" not in item["outbound"]  # related rows are not written back
    assert j.rows("delivery") == []
