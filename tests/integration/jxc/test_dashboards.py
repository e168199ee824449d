"""The JXC template's dashboards (app_templates/jxc/dashboards/): the sales dashboard for sales and finance, the
finance dashboard for finance only, in English and Chinese, on hand-computed figures; the menu lists what the
reader may open; the warehouse role (no dashboard) gets 403; a cell drills down to the orders behind it."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.jxc.conftest import PASSWORD
from tests.integration.jxc.test_documents import receipt
from tests.integration.jxc.test_reports import sell
from tests.integration.pages.helpers import signed_in

PERIOD = "param.period.from=2026-11-01&param.period.to=2026-12-31"
SALES = f"/a/jxc/dashboards/sales_overview?{PERIOD}"
FINANCE = f"/a/jxc/dashboards/finance_overview?{PERIOD}"


@pytest.fixture
def sold(jxc):
    j = jxc
    receipt(j, j.wh["WH-SH"], j.product["TS-WHT-M"], "100", "10.00", "2026-11-01")
    receipt(j, j.wh["WH-SH"], j.product["JN-BLU-32"], "10", "45.00", "2026-11-01")
    first = sell(j, "2026-11-10", [("TS-WHT-M", "3", "29.90"), ("JN-BLU-32", "1", "119.00")])  # 208.70
    second = sell(j, "2026-12-01", [("TS-WHT-M", "2", "29.90")])  # 59.80
    sell(j, "2026-12-02", [("TS-WHT-M", "50", "29.90")], confirm=False)  # a draft: not counted
    return j, first, second


def widgets(page: str) -> list[str]:
    return re.findall(r'data-widget="(\w+)"', page)


def number_cards(page: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r'class="number-value">(.*?)</div>', page, re.S)
    ]


def chart_data(page: str) -> list[dict]:
    return [
        json.loads(d)
        for d in re.findall(r'<script type="application/json" class="chart-data">(.*?)</script>', page, re.S)
    ]


@pytest.mark.parametrize("role, lang", [("sales", "en"), ("finance", "zh_CN"), ("admin", "en")])
def test_the_sales_dashboard_shows_the_figures(app, sold, role, lang):
    browser = signed_in(app, role, ADMIN_PASSWORD if role == "admin" else PASSWORD, lang=lang)
    response = browser.get(SALES)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert widgets(page) == ["sales_by_customer_month"] * 3 + ["sales_by_category"] * 3
    assert number_cards(page) == ["268.50 CNY", "2", "6"]
    # these products have no category: the top 10 keeps none, everything is "others" (not drawn)
    assert [(c["type"], c["categories"]) for c in chart_data(page)] == [("bar", []), ("pie", [])]
    assert 'data-level="others"' in page
    assert 'data-dashboard="sales_overview"' in page  # the Dashboards menu
    assert ("销售看板" in page and "品类销售占比" in page) if lang == "zh_CN" else ("Sales dashboard" in page)
    assert 'src="/static/vendor/echarts.common.min.js"' in page and "<script>" not in page


def test_the_finance_dashboard_is_finance_only(app, sold):
    finance = signed_in(app, "finance", PASSWORD)
    page = finance.get(FINANCE).get_data(as_text=True)
    assert [(c["type"], c["series"]) for c in chart_data(page)] == [("pie", []), ("bar", [])]
    assert number_cards(page) == ["268.50 CNY", "1"]
    assert signed_in(app, "sales", PASSWORD).get(FINANCE).status_code == 403
    for who in ("warehouse", "purchaser"):
        browser = signed_in(app, who, PASSWORD)
        assert browser.get(SALES).status_code == 403
        assert browser.get("/a/jxc/dashboards").status_code == 403
    listing = signed_in(app, "sales", PASSWORD, lang="zh_CN").get("/a/jxc/dashboards").get_data(as_text=True)
    assert "销售看板" in listing and "finance_overview" not in listing


def test_a_cell_drills_down_to_the_orders_behind_it(app, sold):
    j, first, second = sold
    browser = signed_in(app, "sales", PASSWORD)
    page = browser.get(SALES).get_data(as_text=True)
    total = re.search(r'class="number-value"><a class="drill text-reset" href="([^"]+)"', page).group(1)
    response = browser.get(total.replace("&amp;", "&"))
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert target.path == "/a/jxc/sales_order"
    condition = json.loads(parse_qs(target.query)["filter"][0])
    assert condition == {"field": "id", "op": "in", "value": [first["id"], second["id"]]}  # not the draft
    december = f"/a/jxc/reports/sales_by_customer_month/drill?{PERIOD}&cell=" + '{"month":"2026-12"}'
    listing = browser.get(browser.get(december).headers["Location"]).get_data(as_text=True)
    assert f"/a/jxc/sales_order/{second['id']}" in listing
    assert f'/a/jxc/sales_order/{first["id"]}"' not in listing


def test_hostile_drill_cells_are_400(app, sold):
    browser = signed_in(app, "sales", PASSWORD)
    base = f"/a/jxc/reports/sales_by_customer_month/drill?{PERIOD}&cell="
    assert browser.get(base + "not-json").status_code == 400
    assert browser.get(base + '{"nope":1}').status_code == 400
    assert browser.get(base + "[1]").status_code == 400
    assert browser.get(base + '{"month":' + "1" * 30 + "}").status_code == 400  # a month key is text
    assert browser.get(base + '{"month":"' + "x" * 3000 + '"}').status_code == 400
    assert browser.get(base + '{"month":"2026-13"}').status_code == 303  # no such month: an empty list
    assert signed_in(app, "warehouse", PASSWORD).get(base + "{}").status_code == 403
