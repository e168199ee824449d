"""The JXC reports of issue 16 item 6 (stock by warehouse, sales by product / month, gross margin, purchase
summary) on a small data set written through the API as the roles - receipts and deliveries posted so the
rules post stock and costs, orders confirmed - each figure compared to the cent with the hand computation
below; each report for the roles granted it only, on the API, the pages (en, zh_CN) and the export.

Data: WH-SH receives TS 100 @ 10.00 and JN 10 @ 45.00 (11-01), WH-GZ TS 20 @ 13.00 (11-05); WH-SH delivers
TS 30 @ 29.90 (11-02: revenue 897.00, cost 30 x 10.00) and JN 2 @ 119.00 (12-03: 238.00, cost 90.00);
orders confirmed: 11-10 TS 3 @ 29.90 + JN 1 @ 119.00, 12-01 TS 2 @ 29.90 (reserving 5 TS, 1 JN)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.integration.jxc.conftest import PASSWORD
from tests.integration.jxc.test_documents import delivery, receipt
from tests.integration.jxc.test_reports import sell
from tests.integration.pages.helpers import signed_in

PERIOD = "param.period.from=2026-11-01&param.period.to=2026-12-31"
TS, JN, SH, GZ = "纯棉T恤 白 M", "牛仔裤 蓝 32", "上海总仓", "广州仓"


@pytest.fixture
def traded(jxc):
    j = jxc
    receipt(j, j.wh["WH-SH"], j.product["TS-WHT-M"], "100", "10.00", "2026-11-01")
    receipt(j, j.wh["WH-SH"], j.product["JN-BLU-32"], "10", "45.00", "2026-11-01")
    receipt(j, j.wh["WH-GZ"], j.product["TS-WHT-M"], "20", "13.00", "2026-11-05")
    delivery(j, j.wh["WH-SH"], j.product["TS-WHT-M"], "30", "2026-11-02")
    delivery(j, j.wh["WH-SH"], j.product["JN-BLU-32"], "2", "2026-12-03", price="119.00")
    sell(j, "2026-11-10", [("TS-WHT-M", "3", "29.90"), ("JN-BLU-32", "1", "119.00")])
    sell(j, "2026-12-01", [("TS-WHT-M", "2", "29.90")])
    return j


def run(client, name: str, query: str = PERIOD) -> dict:
    response = client.get(f"/api/reports/jxc/{name}?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def figures(body: dict, keys: list[str]) -> list[tuple]:
    return [(r["level"], *(r["values"].get(k) for k in keys)) for r in body["rows"]]


def test_stock_by_warehouse_for_warehouse_and_finance(traded):
    j = traded
    for client in (j.warehouse, j.finance):
        body = run(client, "stock_by_warehouse", "")
        got = figures(body, ["warehouse", "product", "on_hand", "reserved", "value"])
        assert sorted(got, key=str) == sorted([
            ("row", SH, TS, "70.000", "5.000", "700.00"),
            ("row", SH, JN, "8.000", "1.000", "360.00"),
            ("subtotal", SH, None, "78.000", "6.000", "1060.00"),
            ("row", GZ, TS, "20.000", "0.000", "260.00"),
            ("subtotal", GZ, None, "20.000", "0.000", "260.00"),
        ], key=str)  # fmt: skip
        assert body["totals"]["values"]["value"] == "1320.00"
        assert body["totals"]["values"]["on_hand"] == "98.000"
    for client in (j.sales, j.purchaser):
        assert client.get("/api/reports/jxc/stock_by_warehouse").status_code == 403


def test_sales_by_product_and_month_for_sales_and_finance(traded):
    j = traded
    for client in (j.sales, j.finance):
        by_product = run(client, "sales_by_product")
        assert figures(by_product, ["product", "orders", "qty", "revenue"]) == [
            ("row", TS, 2, "5.000", "149.50"),  # 89.70 + 59.80
            ("row", JN, 1, "1.000", "119.00"),
        ]
        assert by_product["totals"]["values"]["revenue"] == "268.50"
        by_month = run(client, "sales_by_month")
        assert figures(by_month, ["month", "orders", "customers", "qty", "revenue"]) == [
            ("row", "2026-11", 1, 1, "4.000", "208.70"),
            ("row", "2026-12", 1, 1, "2.000", "59.80"),
        ]
    for client in (j.warehouse, j.purchaser):
        assert client.get(f"/api/reports/jxc/sales_by_product?{PERIOD}").status_code == 403


def test_gross_margin_for_finance_only(traded):
    j = traded
    body = run(j.finance, "gross_margin")
    assert figures(body, ["month", "revenue", "cost", "margin", "margin_pct"]) == [
        ("row", "2026-11", "897.00", "300.00", "597.00", "66.56"),  # 597 / 897 = 66.555..%
        ("row", "2026-12", "238.00", "90.00", "148.00", "62.18"),  # 148 / 238 = 62.184..%
        ("subtotal", None, "1135.00", "390.00", "745.00", "65.64"),  # 745 / 1135 = 65.638..%
    ]
    assert body["totals"]["values"]["margin"] == "745.00"
    for client in (j.sales, j.warehouse, j.purchaser):
        assert client.get(f"/api/reports/jxc/gross_margin?{PERIOD}").status_code == 403


def test_purchase_summary_for_purchaser_and_finance(traded):
    j = traded
    for client in (j.purchaser, j.finance):
        body = run(client, "purchase_summary")
        assert sorted(figures(body, ["product", "receipts", "qty", "amount", "avg_price"]), key=str) == sorted([
            ("row", TS, 2, "120.000", "1260.00", "10.50"),
            ("row", JN, 1, "10.000", "450.00", "45.00"),
            ("subtotal", None, 3, "130.000", "1710.00", "13.15"),  # 1710 / 130 = 13.153..
        ], key=str)  # fmt: skip
    for client in (j.sales, j.warehouse):
        assert client.get(f"/api/reports/jxc/purchase_summary?{PERIOD}").status_code == 403


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_report_menu_and_pages_per_role(app, traded, lang):
    margin = "毛利分析" if lang == "zh_CN" else "Gross margin"
    stock = "分仓库存" if lang == "zh_CN" else "Stock by warehouse"
    seen = {}
    for role in ("finance", "sales", "warehouse", "purchaser"):
        browser = signed_in(app, role, PASSWORD, lang=lang)
        menu = browser.get("/a/jxc/reports").get_data(as_text=True)
        seen[role] = (margin in menu, stock in menu)
    assert seen == {"finance": (True, True), "sales": (False, False), "warehouse": (False, True),
                    "purchaser": (False, False)}  # fmt: skip
    finance = signed_in(app, "finance", PASSWORD, lang=lang)
    page = finance.get(f"/a/jxc/reports/gross_margin?{PERIOD}").get_data(as_text=True)
    assert "1,135.00" in page and "65.64 %" in page and 'data-export="xlsx"' in page
    sales = signed_in(app, "sales", PASSWORD, lang=lang)
    assert sales.get(f"/a/jxc/reports/gross_margin?{PERIOD}").status_code == 403


def test_finance_exports_gross_margin_and_sales_exports_sales_by_product(app, traded):
    form = {"param.period.from": "2026-11-01", "param.period.to": "2026-12-31"}
    finance = signed_in(app, "finance", PASSWORD, lang="zh_CN")
    xlsx = finance.post("/a/jxc/reports/gross_margin/export.xlsx", form)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in sheet[1]] == ["客户", "月份", "收入", "成本", "毛利", "毛利率"]
    assert [c.value for c in sheet[2]][1:] == ["2026-11", 897, 300, 597, 66.56]
    assert sheet["F2"].number_format == '#,##0.00" %"'
    sales = signed_in(app, "sales", PASSWORD, lang="en")
    body = sales.post("/a/jxc/reports/sales_by_product/export.csv", form)
    assert body.status_code == 200
    rows = list(csv.reader(io.StringIO(body.data.decode("utf-8-sig"))))
    assert rows[1] == [TS, "2", "5.000", "149.50"] and rows[-1] == ["Total", "2", "6.000", "268.50"]
    assert sales.post("/a/jxc/reports/gross_margin/export.csv", form).status_code == 403
    warehouse = signed_in(app, "warehouse", PASSWORD)
    assert warehouse.post("/a/jxc/reports/stock_by_warehouse/export.csv", {}).status_code == 200
