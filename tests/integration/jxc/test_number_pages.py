"""Numbers on JXC pages as a role user, in English and Chinese: money with thousands separators and its
currency, totals of money lines (rollups and formulas over money) shown as money, quantities without
trailing zeros; the API keeps exact strings."""

from __future__ import annotations

import pytest

from tests.integration.jxc.conftest import PASSWORD
from tests.integration.jxc.test_documents import order
from tests.integration.jxc.test_record_pages import _browser
from tests.integration.pages.helpers import Browser, text


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_sales_order_page_list_and_print_show_formatted_numbers(app, jxc, lang):
    so = order(jxc, "1234.5")
    record = jxc.get("sales_order", so["id"], jxc.sales)
    # the API is unchanged: exact strings
    assert (record["total"], record["qty_total"]) == ("36911.55", "1234.500")
    assert (record["lines"][0]["qty"], record["lines"][0]["amount"]) == ("1234.500", "36911.55")
    sales = _browser(app, "sales", lang)
    for url in (f"/a/jxc/sales_order/{so['id']}", f"/a/jxc/sales_order/{so['id']}/print"):
        page = text(sales.get(url))
        assert "36,911.55 CNY" in page, url  # the rollup total and the line amount formula: money
        assert "29.90 CNY" in page, url  # the entered unit price
        assert "1,234.5<" in page, url  # the line quantity and the quantity total, no trailing zeros
        assert "36911.55" not in page and "1234.500" not in page, url
    listing = text(sales.get("/a/jxc/sales_order"))
    assert "36,911.55 CNY" in listing and "36911.55" not in listing


def test_whole_quantities_show_without_decimals(app, jxc):
    so = order(jxc, "55")
    page = text(_browser(app, "sales", "zh_CN").get(f"/a/jxc/sales_order/{so['id']}"))
    assert ">55<" in page and "55.000" not in page
    assert "1,644.50 CNY" in page  # 55 x 29.90


def test_costs_show_their_declared_four_places(jxc):
    """avg_cost declares display_scale 4: a whole cost still shows 10.0000 (quantities drop their zeros)."""
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    gr = j.create(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": sh, "receipt_date": "2026-11-10",
                                                    "lines": [{"product": ts, "qty": "3", "unit_price": "10.00"}]})  # fmt: skip
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")
    balance = j.balance(ts, sh)
    browser = Browser(j.app.test_client())
    assert browser.login("warehouse", PASSWORD).status_code == 303
    page = browser.get(f"/a/jxc/stock_balance/{balance['id']}").get_data(as_text=True)
    assert "10.0000" in page and balance["avg_cost"] == "10.0000"
