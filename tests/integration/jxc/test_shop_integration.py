"""JXC's integration definitions: shop orders ingested through the ``shop_order`` mapping by the shop's system
account (role ``integrator``), paid ones confirmed with stock reserved by the template's rules, and confirmed
orders delivered to the WMS webhook in the ``wms_order`` shape once the subscription is enabled."""

from __future__ import annotations

import base64
import time

import pytest

from lowcode.app import create_app
from tests.conftest import ApiClient, login
from tests.dbs import copy_of
from tests.integration.integrations.conftest import Receiver, _serve
from tests.integration.jxc.conftest import PASSWORD, D
from tests.integration.jxc.test_documents import receipt

URL = "/api/integrations/jxc/shop_order/ingest"


@pytest.fixture
def app(jxc_seed, tmp_path):
    """The JXC seed copy with local webhook receivers allowed and quick delivery retries."""
    url, _ = jxc_seed
    config = {"WEBHOOK_ALLOW": "127.0.0.1", "WEBHOOK_TIMEOUT": 1, "INTEGRATION_POLL_SECONDS": 0.01,
              "WEBHOOK_SECRETS": {"wms": "whsec_" + base64.b64encode(b"wms-test-secret-32-bytes-long!!!").decode()}}  # fmt: skip
    with copy_of(url, tmp_path) as copy:
        application = create_app({"DATABASE_URL": copy, "SECRET_KEY": "test-secret", **config})
        yield application
        application.extensions["lowcode"].db.dispose()


@pytest.fixture
def shop(app) -> ApiClient:
    """The shop's system account (demo user ``shop_api``, role ``integrator``)."""
    client = app.test_client()
    return ApiClient(client, login(client, "shop_api", PASSWORD))


@pytest.fixture
def stock(jxc):
    """100 TS-WHT-M and 10 JN-BLU-32 on hand in WH-SH."""
    receipt(jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"], "100", "10.00", "2026-11-01")
    receipt(jxc, jxc.wh["WH-SH"], jxc.product["JN-BLU-32"], "10", "45.00", "2026-11-01")


def shop_order(no: str, status: str = "PAID", lines=(("TS-WHT-M", 3), ("JN-BLU-32", 2)), **extra) -> dict:
    """A payload as the shop sends it (nested buyer and fulfilment, a list of items)."""
    return {
        "order_no": no,
        "status": status,
        "created_at": "2026-11-12 09:30:00",
        "buyer": {"code": "C001", "nick": "hualian"},
        "fulfilment": {"warehouse_code": "WH-SH", "promised_date": "2026-11-15"},
        "items": [{"sku": sku, "quantity": qty, "unit_price": "29.90"} for sku, qty in lines],
        **extra,
    }


def send(client: ApiClient, *orders: dict, suffix: str = "") -> dict:
    """Ingest the orders as one batch (idempotency key: order no. + status + suffix)."""
    items = [{"idempotency_key": f"{o['order_no']}:{o['status']}{suffix}", "data": o} for o in orders]
    response = client.post(URL, json={"items": items})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by_external_no(jxc, no: str) -> list[dict]:
    return jxc.rows("sales_order", {"field": "external_no", "op": "=", "value": no})


def test_paid_orders_are_created_confirmed_and_reserve_stock(jxc, shop, stock):
    sh, ts, jn = jxc.wh["WH-SH"], jxc.product["TS-WHT-M"], jxc.product["JN-BLU-32"]
    answer = send(
        shop, shop_order("TB-1001"), shop_order("TB-1002", status="WAIT_PAY", lines=[("TS-WHT-M", 5)])
    )
    assert (answer["accepted"], answer["rejected"], answer["duplicate"]) == (2, 0, 0), answer
    paid = jxc.get("sales_order", answer["data"][0]["id"])
    assert (paid["external_no"], paid["status"], paid["customer"], paid["warehouse"]) == (
        "TB-1001", "confirmed", jxc.customer, sh)  # fmt: skip
    assert (paid["order_date"], paid["delivery_date"], D(paid["total"])) == (
        "2026-11-12",
        "2026-11-15",
        D("149.50"),
    )
    assert [(line["product"], D(line["qty"])) for line in paid["lines"]] == [(ts, D(3)), (jn, D(2))]
    assert paid["salesperson"] == jxc.user_ids["shop_api"]
    waiting = jxc.get("sales_order", answer["data"][1]["id"])
    assert waiting["status"] == "draft"
    assert D(jxc.balance(ts, sh)["reserved"]) == D(3)  # the draft reserves nothing
    assert D(jxc.balance(jn, sh)["reserved"]) == D(2)
    progress = jxc.rows("sales_order_progress", {"field": "sales_order", "op": "=", "value": paid["id"]})
    assert sorted(D(p["ordered_qty"]) for p in progress) == [D(2), D(3)]
    assert D(jxc.get("customer", jxc.customer)["open_orders"]) == D("149.50")
    # the shop reports the waiting order paid: the same order is updated and confirmed
    again = send(shop, shop_order("TB-1002", lines=[("TS-WHT-M", 5)]))
    assert again["data"][0]["applied"] == "updated" and again["data"][0]["id"] == waiting["id"]
    assert jxc.get("sales_order", waiting["id"])["status"] == "confirmed"
    assert D(jxc.balance(ts, sh)["reserved"]) == D(8)


def test_each_order_is_applied_once_per_key(jxc, shop, stock):
    first = send(shop, shop_order("TB-2001"))
    second = send(shop, shop_order("TB-2001"), shop_order("TB-2002"))
    assert [a["status"] for a in second["data"]] == ["duplicate", "accepted"]
    assert second["data"][0]["id"] == first["data"][0]["id"]
    assert len(by_external_no(jxc, "TB-2001")) == 1
    assert D(jxc.balance(jxc.product["TS-WHT-M"], jxc.wh["WH-SH"])["reserved"]) == D(6)


def test_bad_orders_are_rejected_with_their_source_path_and_leave_nothing(jxc, shop, stock):
    answer = send(
        shop,
        shop_order("TB-3001", lines=[("TS-WHT-M", 1), ("NO-SUCH-SKU", 1)]),
        shop_order("TB-3002", status="REFUNDING"),
        shop_order("TB-3003", created_at="12/11/2026"),
        shop_order("TB-3004", buyer={"code": "C999"}),
        shop_order("TB-3005", lines=[("TS-WHT-M", -2)]),
        shop_order("TB-3006", lines=[("JN-BLU-32", 11)]),  # 10 on hand: the reservation rule refuses
        shop_order("TB-3007", lines=[("TS-WHT-M", 1)]),
    )
    assert [a["status"] for a in answer["data"]] == ["rejected"] * 6 + ["accepted"]
    sources = [{e["source"] for e in a["errors"]} for a in answer["data"][:4]]
    assert sources == [{"items[1].sku"}, {"status"}, {"created_at"}, {"buyer.code"}]
    assert "qty" in str(answer["data"][4]["errors"])
    assert "Insufficient stock for JN-BLU-32" in answer["data"][5]["errors"][0]["message"]
    assert [len(by_external_no(jxc, f"TB-300{i}")) for i in range(1, 8)] == [0, 0, 0, 0, 0, 0, 1]
    assert D(jxc.balance(jxc.product["JN-BLU-32"], jxc.wh["WH-SH"])["reserved"]) == D(0)
    # the corrected order may come again under the same key
    fixed = send(shop, shop_order("TB-3006", lines=[("JN-BLU-32", 10)]))
    assert fixed["data"][0]["status"] == "accepted"


def test_the_shortage_message_is_in_the_callers_language(jxc, stock):
    answer = send(jxc.sales, shop_order("TB-4001", lines=[("JN-BLU-32", 12)]))  # 销售员 uses zh_CN
    assert "库存不足：JN-BLU-32" in answer["data"][0]["errors"][0]["message"]


def test_the_integrator_role_can_do_this_and_little_else(jxc, shop, stock):
    for entity in ("purchase_order", "delivery", "voucher", "receivable", "stock_ledger"):
        assert shop.get(jxc.url(entity)).status_code == 403, entity
    balance = shop.get(jxc.url("stock_balance")).get_json()["data"][0]
    assert "avg_cost" not in balance and "value" not in balance  # it sees stock, never costs
    customer = shop.get(jxc.url("customer", jxc.customer)).get_json()
    assert "credit_limit" not in customer and "phone" not in customer
    assert "purchase_cost" not in shop.get(jxc.url("product", jxc.product["TS-WHT-M"])).get_json()
    order = jxc.get("sales_order", send(shop, shop_order("TB-5001"))["data"][0]["id"])
    cancel = shop.patch(
        jxc.url("sales_order", order["id"]), json={"status": "cancelled", "version": order["version"]}
    )
    assert cancel.status_code == 403  # it may confirm, not cancel
    assert shop.delete(jxc.url("sales_order", order["id"])).status_code == 403
    # a clerk without the sales-order grants may not ingest orders at all
    refused = jxc.warehouse.post(URL, json={"idempotency_key": "x", "data": shop_order("TB-5002")})
    assert refused.status_code == 403
    assert by_external_no(jxc, "TB-5002") == []


def test_confirmed_orders_go_to_the_wms_in_its_shape(app, jxc, shop, stock):
    from lowcode.integrations.loop import IntegrationLoop

    receiver = Receiver()
    server = _serve(receiver)
    loop = IntegrationLoop(app.extensions["lowcode"])
    try:
        path = "/api/definitions/jxc/subscription/wms_confirmed_orders"
        body = jxc.admin.get(path).get_json()["published"]
        body.update(enabled=True, channel={**body["channel"], "url": receiver.url})
        assert jxc.admin.put(path, json=body).status_code == 200
        published = jxc.admin.post(path + "/publish")
        assert published.status_code == 200, published.get_json()
        send(shop, shop_order("TB-6001"), shop_order("TB-6002", status="WAIT_PAY"))
        expected = {
            "source_order_no": "TB-6001",
            "consignee": {"code": "C001"},
            "warehouse_code": "WH-SH",
            "order_status": "RELEASED",
            "order_date": "20261112",
            "ship_by": "20261115",
            "remark": None,
            "lines": [{"sku": "TS-WHT-M", "qty": "3.000"}, {"sku": "JN-BLU-32", "qty": "2.000"}],
        }
        deadline = time.monotonic() + 20
        while len(receiver.seen) < 2 and time.monotonic() < deadline:
            if loop.step() == 0:
                time.sleep(0.01)
        while loop.step():  # anything else due is sent too
            pass
        events = sorted(receiver.seen.values(), key=lambda e: e["version"])
        # the confirm of TB-6001 and the credit rule's open amount on it; nothing of the draft TB-6002
        assert [(e["record"]["external_no"], e["version"]) for e in events] == [
            ("TB-6001", 2),
            ("TB-6001", 3),
        ]
        assert {e["mapping"] for e in events} == {"wms_order"}
        assert receiver.arrivals[0]["version"] == 2  # in commit order
        for event in events:
            assert event["payload"] == expected
    finally:
        loop.dispatcher.close()
        server.shutdown()
        server.server_close()


def test_the_openapi_document_describes_the_route_to_whoever_may_use_it(jxc, shop):
    paths = shop.get("/api/openapi.json").get_json()["paths"]
    body = paths[URL]["post"]["requestBody"]["content"]["application/json"]["schema"]
    single, batch = body["oneOf"]
    assert single["required"] == ["idempotency_key", "data"] and single["additionalProperties"] is False
    assert batch["properties"]["items"]["maxItems"] == 5000
    assert "/api/integrations/jxc/wms_order/ingest" in paths  # a payload mapping into sales orders too
    for clerk in (jxc.warehouse, jxc.finance):  # no grant on sales orders: no ingest path
        assert not [p for p in clerk.get("/api/openapi.json").get_json()["paths"] if "/integrations/" in p]
