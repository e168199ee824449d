"""The JXC template's reports (app_templates/jxc/reports/): sales by customer and month, and top categories,
run through the API as the roles granted them (sales, finance) on hand-computed figures; other roles refused."""

from __future__ import annotations

from tests.integration.jxc.test_documents import receipt

PERIOD = "param.period.from=2026-11-01&param.period.to=2026-12-31"


def sell(j, day: str, lines: list[tuple[str, str, str]], confirm: bool = True) -> dict:
    body = {"customer": j.customer, "warehouse": j.wh["WH-SH"], "order_date": day,
            "lines": [{"product": j.product[p], "qty": q, "unit_price": u} for p, q, u in lines]}  # fmt: skip
    order = j.create(j.sales, "sales_order", body)
    if confirm:
        j.set_status(j.sales, "sales_order", order["id"], "confirmed")
    return order


def test_sales_by_customer_month_for_sales_and_finance(jxc):
    j = jxc
    receipt(j, j.wh["WH-SH"], j.product["TS-WHT-M"], "100", "10.00", "2026-11-01")
    receipt(j, j.wh["WH-SH"], j.product["JN-BLU-32"], "10", "45.00", "2026-11-01")
    sell(j, "2026-11-10", [("TS-WHT-M", "3", "29.90"), ("JN-BLU-32", "1", "119.00")])  # 89.70 + 119.00
    sell(j, "2026-12-01", [("TS-WHT-M", "2", "29.90")])  # 59.80
    sell(j, "2026-12-02", [("TS-WHT-M", "50", "29.90")], confirm=False)  # a draft: not counted
    for client in (j.sales, j.finance):
        response = client.get(f"/api/reports/jxc/sales_by_customer_month?{PERIOD}")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        rows = [(r["level"], r["values"].get("month"), r["values"]["orders"], r["values"]["qty"], r["values"]["revenue"],
                 r["values"]["avg_price"]) for r in body["rows"]]  # fmt: skip
        assert rows == [
            ("row", "2026-11", 1, "4.000", "208.70", "52.18"),  # 208.70 / 4 = 52.175 -> half up
            ("row", "2026-12", 1, "2.000", "59.80", "29.90"),
            ("subtotal", None, 2, "6.000", "268.50", "44.75"),
        ]
        assert body["totals"]["values"]["revenue"] == "268.50"
    category = j.sales.get(f"/api/reports/jxc/sales_by_category?{PERIOD}")
    assert category.status_code == 200, category.get_json()
    assert category.get_json()["totals"]["values"]["revenue@total"] == "268.50"
    for client in (j.warehouse, j.purchaser):
        assert client.get(f"/api/reports/jxc/sales_by_customer_month?{PERIOD}").status_code == 403
