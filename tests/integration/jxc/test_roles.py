"""Every role is refused outside its grants (the source's table); the salesperson never sees a cost."""

from __future__ import annotations

import json

import pytest

from tests.integration.jxc.conftest import TEMPLATE

ROLE_FILES = {name: json.loads((TEMPLATE / "roles" / f"{name}.json").read_text()) for name in
              ("purchaser", "warehouse", "sales", "finance")}  # fmt: skip
ENTITIES = sorted(
    e["name"]
    for e in (json.loads(p.read_text()) for p in (TEMPLATE / "entities").glob("*.json"))
    if not e.get("child")
)


def granted(role: str, entity: str) -> set[str]:
    return {a for g in ROLE_FILES[role]["grants"] if g["entity"] == entity for a in g["actions"]}


@pytest.mark.parametrize("role", sorted(ROLE_FILES))
def test_every_entity_outside_the_grants_is_refused(jxc, role):
    client = getattr(jxc, role)
    refused = checked = 0
    for entity in ENTITIES:
        actions = granted(role, entity)
        listing = client.get(jxc.url(entity))
        assert listing.status_code == (200 if "read" in actions else 403), (role, entity)
        if "create" not in actions:
            response = client.post(jxc.url(entity), json={})
            assert response.status_code == 403, (role, entity, response.get_json())
            assert f"对 jxc.{entity} 执行「create」" in response.get_json()["error"]["message"]
            refused += 1
        checked += 1
    assert checked == len(ENTITIES) == 28 and refused >= 16


def test_the_source_table_of_roles(jxc):
    """管理员 everything; 采购员 purchase orders and suppliers; 仓库员 receipts, deliveries, stocktakes;
    销售员 sales orders and customers; 财务 receivables, payables, vouchers, periods."""
    can_create = {role: {e for e in ENTITIES if "create" in granted(role, e)} for role in ROLE_FILES}
    assert {"purchase_order", "supplier"} <= can_create["purchaser"]
    assert {"purchase_receipt", "delivery", "stock_transfer", "stocktake"} <= can_create["warehouse"]
    assert {"sales_order", "customer"} <= can_create["sales"]
    assert {"customer_payment", "supplier_payment", "voucher", "accounting_period"} <= can_create["finance"]
    for (
        role,
        entities,
    ) in can_create.items():  # nobody but rules writes the stock, the ledger and the accounts
        assert not entities & {
            "stock_balance",
            "stock_ledger",
            "receivable",
            "payable",
            "sales_order_progress",
            "delivery_progress",
            "purchase_order_progress",
            "receipt_progress",
        }, role
    assert can_create["sales"].isdisjoint({"purchase_order", "purchase_receipt", "delivery", "voucher"})
    assert can_create["purchaser"].isdisjoint({"sales_order", "delivery", "voucher", "customer_payment"})
    assert can_create["warehouse"].isdisjoint(
        {"sales_order", "purchase_order", "voucher", "customer_payment"}
    )
    assert can_create["finance"].isdisjoint({"sales_order", "purchase_order", "purchase_receipt", "delivery"})
    sh, ts = jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    clerk_write = jxc.warehouse.post(
        jxc.url("stock_balance"), json={"product": ts, "warehouse": sh, "on_hand": "999"}
    )
    assert clerk_write.status_code == 403
    admin_any = jxc.admin.get(jxc.url("voucher"))
    assert admin_any.status_code == 200
    so = jxc.create(
        jxc.sales, "sales_order", {"customer": jxc.customer, "warehouse": sh, "order_date": "2026-11-02"}
    )
    supplier = jxc.get("supplier", jxc.supplier)
    read_only = [  # entities the role may read but not change
        (jxc.warehouse, "patch", jxc.url("sales_order", so["id"]), {"note": "x", "version": 1}),
        (jxc.warehouse, "delete", jxc.url("sales_order", so["id"]), None),
        (jxc.finance, "patch", jxc.url("sales_order", so["id"]), {"note": "x", "version": 1}),
        (
            jxc.finance,
            "patch",
            jxc.url("supplier", jxc.supplier),
            {"name": "x", "version": supplier["version"]},
        ),
        (jxc.sales, "patch", jxc.url("warehouse", sh), {"name": "x", "version": 1}),
        (jxc.purchaser, "delete", jxc.url("warehouse", sh), None),
    ]
    for client, method, url, body in read_only:
        response = getattr(client, method)(url, **({"json": body} if body else {}))
        assert response.status_code == 403, (url, method, response.get_json())
    assert jxc.sales.delete(jxc.url("sales_order", so["id"])).status_code == 204


def test_sales_never_sees_purchase_or_average_cost(jxc):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    gr = j.create(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": sh, "receipt_date": "2026-11-01",
                                                    "lines": [{"product": ts, "qty": "10", "unit_price": "10.00"}]})  # fmt: skip
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")
    dn = j.create(j.warehouse, "delivery", {"customer": j.customer, "warehouse": sh, "delivery_date": "2026-11-02",
                                            "lines": [{"product": ts, "qty": "2", "unit_price": "29.90"}]})  # fmt: skip
    j.set_status(j.warehouse, "delivery", dn["id"], "posted")
    costs = {"purchase_cost", "avg_cost", "value", "cost_total", "unit_cost", "amount"}
    product = j.sales.get(j.url("product", ts)).get_json()
    assert "purchase_cost" not in product and product["sale_price"] == "29.90"
    assert all("purchase_cost" not in p for p in j.sales.get(j.url("product")).get_json()["data"])
    (balance,) = j.sales.get(j.url("stock_balance")).get_json()["data"]
    assert not {"avg_cost", "value"} & set(balance) and balance["available"] == "8.000"
    assert "cost_total" not in j.sales.get(j.url("delivery", dn["id"])).get_json()
    assert all("cost_total" not in d for d in j.sales.get(j.url("delivery")).get_json()["data"])
    history = j.sales.get(j.url("stock_balance", balance["id"]) + "/history").get_json()["data"]
    assert history and all(not {"avg_cost", "value"} & set(h["diff"]) for h in history)
    for probe in ('filter={"field":"purchase_cost","op":">","value":"0"}', "sort=purchase_cost"):
        assert j.sales.get(j.url("product") + "?" + probe).status_code == 403
    assert (
        j.sales.get(j.url("stock_balance") + '?filter={"field":"avg_cost","op":">","value":"0"}').status_code
        == 403
    )
    assert j.sales.get(j.url("stock_ledger")).status_code == 403
    assert j.sales.get(j.url("voucher")).status_code == 403
    assert j.sales.get(j.url("purchase_receipt", gr["id"])).status_code == 403
    written = j.sales.post(j.url("product"), json={"sku": "X", "name": "x", "purchase_cost": "1"})
    assert written.status_code == 403
    assert j.sales.get(j.url("product") + "/export.csv").status_code == 403
    # the others do see them
    assert j.purchaser.get(j.url("product", ts)).get_json()["purchase_cost"] == "10.00"
    assert j.finance.get(j.url("stock_balance", balance["id"])).get_json()["avg_cost"] == "10.0000"
    assert costs & set(j.finance.get(j.url("delivery", dn["id"])).get_json())


def test_warehouse_does_not_see_customer_credit_and_sales_cannot_set_it(jxc):
    j = jxc
    seen = j.warehouse.get(j.url("customer", j.customer)).get_json()
    assert not {"credit_limit", "receivable_balance", "open_orders"} & set(seen)
    customer = j.get("customer", j.customer)
    refused = j.sales.patch(
        j.url("customer", j.customer), json={"credit_limit": "1", "version": customer["version"]}
    )
    assert refused.status_code == 403
    refused = j.sales.patch(
        j.url("customer", j.customer), json={"receivable_balance": "5", "version": customer["version"]}
    )
    assert refused.status_code == 403
    assert (
        j.sales.patch(
            j.url("customer", j.customer), json={"phone": "021-5555", "version": customer["version"]}
        ).status_code
        == 200
    )
