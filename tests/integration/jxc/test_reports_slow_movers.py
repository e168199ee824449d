"""Slow movers (issue 16 item 6): products in stock with no delivery in the last N days, from the stock
ledger the rules post - a report with filtered measures (``where``) and ``having``, and a ``days_ago``
parameter (a number of days, or a date). Figures to the cent:

  receipts 11-01 SH TS 100 @ 10.00, SH JN 10 @ 45.00; 11-05 GZ TS 20 @ 13.00
  deliveries 11-03 SH JN 2 (cost 90.00), 11-20 SH TS 30 (cost 300.00)
  TS: 90 on hand, 960.00, last delivered 11-20; JN: 8 on hand, 360.00, last delivered 11-03."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.jxc.conftest import PASSWORD
from tests.integration.jxc.test_documents import delivery, receipt
from tests.integration.pages.helpers import signed_in

TS, JN = "TS-WHT-M", "JN-BLU-32"


@pytest.fixture
def moved(jxc):
    j, sh, gz = jxc, jxc.wh["WH-SH"], jxc.wh["WH-GZ"]
    receipt(j, sh, j.product[TS], "100", "10.00", "2026-11-01")
    receipt(j, sh, j.product[JN], "10", "45.00", "2026-11-01")
    receipt(j, gz, j.product[TS], "20", "13.00", "2026-11-05")
    delivery(j, sh, j.product[JN], "2", "2026-11-03", price="119.00")
    delivery(j, sh, j.product[TS], "30", "2026-11-20")
    return j


def slow(client, query: str) -> list[tuple]:
    response = client.get(f"/api/reports/jxc/slow_movers?{query}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["totals"] is None
    keys = ("sku", "on_hand", "value", "last_delivery", "recent_deliveries")
    return [tuple(r["values"][k] for k in keys) for r in body["rows"]]


def test_products_without_a_delivery_since_a_date(moved):
    j = moved
    assert slow(j.warehouse, "param.days=2026-11-15") == [(JN, "8.000", "360.00", "2026-11-03", 0)]
    assert slow(j.finance, "param.days=2026-11-25") == [
        (TS, "90.000", "960.00", "2026-11-20", 0),
        (JN, "8.000", "360.00", "2026-11-03", 0),
    ]
    gz = slow(j.warehouse, f"param.days=2026-11-25&param.warehouse={j.wh['WH-GZ']}")
    assert gz == [(TS, "20.000", "260.00", None, 0)]  # never delivered from GZ


def test_n_days_back_from_today(moved):
    days = (dt.datetime.now(dt.UTC).date() - dt.date(2026, 11, 15)).days
    assert days >= 0
    assert slow(moved.warehouse, f"param.days={days}") == [(JN, "8.000", "360.00", "2026-11-03", 0)]
    bad = moved.warehouse.get("/api/reports/jxc/slow_movers?param.days=-3")
    assert bad.status_code == 400 and "param.days" in bad.get_json()["error"]["fields"]


def test_slow_movers_for_warehouse_and_finance_only(app, moved):
    for client in (moved.sales, moved.purchaser):
        assert client.get("/api/reports/jxc/slow_movers?param.days=30").status_code == 403
    browser = signed_in(app, "warehouse", PASSWORD, lang="zh_CN")
    page = browser.get("/a/jxc/reports/slow_movers?param.days=2026-11-15").get_data(as_text=True)
    assert "滞销商品" in page and "360.00" in page and 'value="2026-11-15"' in page
    export = browser.post("/a/jxc/reports/slow_movers/export.csv", {"param.days": "2026-11-15"})
    assert export.status_code == 200
    assert (
        export.data.decode("utf-8-sig").splitlines()[1] == "JN-BLU-32,牛仔裤 蓝 32,8.000,360.00,2026-11-03,0"
    )
