"""The report page (issue 16): parameter form, the result with subtotals and totals in the reader's number
format, in English and Chinese; the "Reports" menu lists what the reader may run; record rules and refusals
as on the API; the link parameter's picker reads only what the reader may read."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import signed_in
from tests.integration.reports.bundle import PASSWORD, PERIOD, install

PAGE = "/a/shop/reports/sales"


@pytest.fixture
def shop(app, api):
    return install(app, api)


def rows(page: str) -> list[tuple[str, list[str]]]:
    """(level, cell texts) of the result table's body and foot."""
    found = []
    for level, body in re.findall(r'<tr class="report-\w+[^"]*" data-level="(\w+)">(.*?)</tr>', page, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        found.append((level, [re.sub(r"<[^>]+>", "", c).strip() for c in cells]))
    return found


def test_admin_sees_the_figures_in_english(app, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD)
    page = browser.get(f"{PAGE}?{PERIOD}").get_data(as_text=True)
    assert rows(page)[:3] == [
        ("row", ["Acme", "2026-01", "53.33 CNY", "32.00 CNY", "3", "2", "40.00 %"]),
        ("row", ["Acme", "2026-02", "30.00 CNY", "18.00 CNY", "3", "1", "40.00 %"]),
        ("subtotal", ["Acme", "Subtotal", "83.33 CNY", "50.00 CNY", "6", "3", "40.00 %"]),
    ]
    assert rows(page)[-1] == ("total", ["Total", "", "93.33 CNY", "56.00 CNY", "8", "5", "40.00 %"])
    assert 'data-report="sales"' in page  # the Reports menu
    assert 'name="param.period.from" value="2026-01-01"' in page
    assert 'class="form-select form-select-sm link-picker"' in page


def test_a_clerk_in_chinese_sees_own_orders_only(app, shop):
    browser = signed_in(app, "kim", PASSWORD, lang="zh_CN")
    page = browser.get(f"{PAGE}?{PERIOD}").get_data(as_text=True)
    assert "按客户和月份的销售" in page and "收入" in page and "报表" in page
    assert rows(page)[-1] == ("total", ["合计", "", "30.00 CNY", "18.00 CNY", "4", "2", "40.00 %"])
    assert ("subtotal", ["Beta", "小计", "0.00 CNY", "0.00 CNY", "1", "1", ""]) in rows(page)


def test_bad_parameters_show_in_the_page_with_a_400(app, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD)
    response = browser.get(f"{PAGE}?param.period.from=2026-02-30")
    assert response.status_code == 400
    assert "period" in response.get_data(as_text=True) and "report-table" not in response.get_data(
        as_text=True
    )


def test_who_sees_the_page_and_the_menu(app, shop):
    viewer = signed_in(app, "vic", PASSWORD)
    assert viewer.get(f"{PAGE}?{PERIOD}").status_code == 403
    assert "data-report=" not in viewer.get("/a/shop").get_data(as_text=True)
    assert viewer.get("/a/shop/reports").status_code == 403
    nora = signed_in(app, "nora", PASSWORD)
    assert nora.get(f"{PAGE}?{PERIOD}").status_code == 403  # cost is hidden from her
    clerk = signed_in(app, "kim", PASSWORD)
    listing = clerk.get("/a/shop/reports").get_data(as_text=True)
    assert 'data-report="sales"' in listing and 'data-report="product_pivot"' not in listing


def test_the_link_parameter_picker(app, shop):
    clerk = signed_in(app, "kim", PASSWORD)
    body = clerk.get("/a/shop/reports/sales/options/customer?q=Be").get_json()
    assert [i["text"] for i in body["items"]] == ["Beta"]
    assert clerk.get("/a/shop/reports/sales/options/period").status_code == 404
    page = clerk.get(f"{PAGE}?{PERIOD}&param.customer={shop['Beta']}").get_data(as_text=True)
    assert f'<option value="{shop["Beta"]}" selected>Beta</option>' in page
    assert [r[1][0] for r in rows(page) if r[0] == "row"] == ["Beta"]


def test_pivot_page(app, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD, lang="zh_CN")
    page = browser.get("/a/shop/reports/product_pivot").get_data(as_text=True)
    assert re.search(r'<tr class="report-pivot">.*2026-01.*2026-02.*合计', page, re.S)
    assert ("others", ["其他", "33.33 CNY", "", "33.33 CNY"]) in rows(page)
