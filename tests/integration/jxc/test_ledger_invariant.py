"""After a long random sequence of documents (some refused) every balance equals the sum of its ledger, the
ledger's running balances chain, reservations match the confirmed orders, and the books agree with the stock."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal

from tests.integration.jxc.conftest import D

STEPS = 70


def test_balances_equal_the_sum_of_the_ledger_after_a_random_sequence(jxc):
    j, rng = jxc, random.Random(20261122)
    whs, products = list(j.wh.values()), list(j.product.values())
    model: dict[tuple[int, int], Decimal] = defaultdict(Decimal)  # what the test expects on hand
    reserved: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    confirmed: list[dict] = []
    delivered: list[list] = []  # [delivery, product, shipped, returned so far]
    refusals: list[str] = []

    def post(client, entity, body, status, poster=None):
        doc = j.create(client, entity, body)
        response = (poster or client).patch(
            j.url(entity, doc["id"]), json={"status": status, "version": doc["version"]}
        )
        if response.status_code == 422:
            refusals.append(response.get_json()["error"]["message"])
            return None
        assert response.status_code == 200, response.get_json()
        return doc

    def qty():
        return D(rng.randint(1, 25))

    for step in range(STEPS):
        day = f"2026-11-{1 + step * 28 // STEPS:02d}"
        wh, product, kind = rng.choice(whs), rng.choice(products), rng.random()
        if kind < 0.25 or step < 4:
            q, price = qty() * 2, D(rng.randint(800, 1500)) / 100
            post(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": wh, "receipt_date": day,
                                                   "lines": [{"product": product, "qty": str(q), "unit_price": str(price)}]}, "posted")  # fmt: skip
            model[(product, wh)] += q
        elif kind < 0.45:
            q = qty()
            if post(j.sales, "sales_order", {"customer": j.customer, "warehouse": wh, "order_date": day,
                                             "lines": [{"product": product, "qty": str(q), "unit_price": "29.90"}]}, "confirmed"):  # fmt: skip
                reserved[(product, wh)] += q
                confirmed.append(
                    {"wh": wh, "product": product, "qty": q, "id": j.rows("sales_order", sort="-id")[0]["id"]}
                )
        elif kind < 0.55 and confirmed:
            order = confirmed.pop(rng.randrange(len(confirmed)))
            key = (order["product"], order["wh"])
            if rng.random() < 0.3:
                j.set_status(j.sales, "sales_order", order["id"], "cancelled")
            else:
                doc = post(j.warehouse, "delivery", {"sales_order": order["id"], "customer": j.customer,
                                                     "warehouse": order["wh"], "delivery_date": day,
                                                     "lines": [{"product": order["product"], "qty": str(order["qty"]),
                                                                "unit_price": "29.90"}]}, "posted")  # fmt: skip
                assert doc is not None  # reserved stock is always there for its order
                model[key] -= order["qty"]
                delivered.append([doc, order["product"], order["qty"], D(0)])
            reserved[key] -= order["qty"]
        elif kind < 0.65:
            q = qty()
            if doc := post(j.warehouse, "delivery", {"customer": j.customer, "warehouse": wh, "delivery_date": day,
                                                    "lines": [{"product": product, "qty": str(q), "unit_price": "31.00"}]}, "posted"):  # fmt: skip
                model[(product, wh)] -= q
                delivered.append([doc, product, q, D(0)])
        elif kind < 0.72 and delivered:
            shipment = rng.choice(delivered)
            doc, item, shipped, returned = shipment
            left = shipped - returned
            q = D(rng.randint(1, int(left))) if left else D(1)
            back = {"delivery": doc["id"], "customer": j.customer, "warehouse": doc["warehouse"], "return_date": day,
                    "lines": [{"product": item, "qty": str(q), "unit_price": "29.90"}]}  # fmt: skip
            if not left:  # everything came back already: a further return is refused
                assert post(j.sales, "sales_return", back, "posted", poster=j.warehouse) is None
                assert refusals.pop().endswith(f"本次退货 {q.normalize():f}，可退 0")
                continue
            assert post(j.sales, "sales_return", back, "posted", poster=j.warehouse) is not None
            shipment[3] += q
            model[(item, doc["warehouse"])] += q
        elif kind < 0.80:
            q = qty()
            if post(j.warehouse, "purchase_return", {"supplier": j.supplier, "warehouse": wh, "return_date": day,
                                                     "lines": [{"product": product, "qty": str(q), "unit_price": "11.00"}]}, "posted"):  # fmt: skip
                model[(product, wh)] -= q
        elif kind < 0.90:
            q, other = qty(), next(w for w in whs if w != wh)
            if post(j.warehouse, "stock_transfer", {"warehouse": wh, "to_warehouse": other, "transfer_date": day,
                                                    "lines": [{"product": product, "qty": str(q)}]}, "posted"):  # fmt: skip
                model[(product, wh)] -= q
                model[(product, other)] += q
        else:
            book = model[(product, wh)]
            counted = max(book + rng.randint(-3, 3), reserved[(product, wh)], D(0))
            post(j.warehouse, "stocktake", {"warehouse": wh, "stocktake_date": day,
                                            "lines": [{"product": product, "book_qty": str(book), "counted_qty": str(counted)}]},
                 "posted")  # fmt: skip
            model[(product, wh)] = counted

    assert refusals and all("，缺 " in m for m in refusals), refusals  # the clerks read Chinese
    ledger = j.rows("stock_ledger")
    balances = j.rows("stock_balance")
    assert len(ledger) > 50 and len(balances) == 4
    for b in balances:
        key = (b["product"], b["warehouse"])
        rows = [r for r in ledger if (r["product"], r["warehouse"]) == key]
        on_hand, value = D(b["on_hand"]), D(b["value"])
        assert on_hand == sum(D(r["qty"]) for r in rows) == model[key]
        assert value == sum(D(r["amount"]) for r in rows)
        running_qty = running_value = D(0)
        for r in rows:  # the running balances chain: each row's balance = previous balance + its movement
            running_qty += D(r["qty"])
            running_value += D(r["amount"])
            assert (D(r["balance_qty"]), D(r["balance_value"])) == (running_qty, running_value)
            assert running_qty >= 0 and running_value >= 0 and (running_qty > 0 or running_value == 0)
        assert D(b["reserved"]) == reserved[key] and D(b["available"]) == on_hand - reserved[key] >= 0
        if on_hand > 0:
            assert D(b["avg_cost"]) == round(value / on_hand, 4)

    accounts = {a["id"]: a["code"] for a in j.rows("account")}
    net: dict[str, Decimal] = defaultdict(Decimal)
    for v in j.rows("voucher"):
        for line in j.get("voucher", v["id"])["lines"]:
            net[accounts[line["account"]]] += D(line["debit"]) - D(line["credit"])
    assert net["1405"] == sum(D(b["value"]) for b in balances)
    assert (
        net["1122"]
        == sum(D(r["balance"]) for r in j.rows("receivable"))
        == D(j.get("customer", j.customer)["receivable_balance"])
    )
    assert (
        -net["2202"]
        == sum(D(p["balance"]) for p in j.rows("payable"))
        == D(j.get("supplier", j.supplier)["payable_balance"])
    )
    assert sum(net.values()) == 0
