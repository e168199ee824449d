"""Dashboards (issue 16 item 3): the shared parameter form feeding each widget's report, widgets the reader
may not run left out (not an error page), a role without the dashboard's grant refused, charts' data and
drill-down addresses, the publish checks, and the designer's layout saved as draft steps (409 on a stale one)
then published - in English and Chinese."""

from __future__ import annotations

import copy
import json
import re

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import signed_in
from tests.integration.reports import bundle as shop_bundle
from tests.integration.reports.bundle import PASSWORD, PERIOD

OVERVIEW = {
    "name": "overview",
    "label": {"en": "Shop overview", "zh-CN": "店铺总览"},
    "params": [
        {"name": "period", "type": "date_range", "required": True, "default": "this_month",
         "label": {"en": "Period", "zh-CN": "期间"}},
        {"name": "buyer", "type": "link", "entity": "customer", "label": {"en": "Buyer", "zh-CN": "买家"}},
    ],
    "widgets": [
        {"report": "sales", "title": {"en": "Revenue by month", "zh-CN": "月度收入"},
         "chart": {"type": "bar", "x": "month", "series": ["revenue"]}, "params": {"customer": "buyer"}},
        {"report": "product_pivot", "chart": {"type": "bar"}, "width": 12},
        {"report": "by_status", "chart": {"type": "number", "series": ["orders"]}, "width": 3},
        {"report": "sales", "chart": {"type": "table"}, "width": 12},
    ],
}  # fmt: skip
PAGE = f"/a/shop/dashboards/overview?{PERIOD}"


def with_dashboards() -> dict:
    body = copy.deepcopy(shop_bundle.BUNDLE)
    body["dashboards"] = [copy.deepcopy(OVERVIEW)]
    for role in body["roles"]:
        if role["name"] in ("clerk", "nocust"):
            role["dashboards"] = ["overview"]
    return body


@pytest.fixture
def shop(app, api, monkeypatch):
    monkeypatch.setattr(shop_bundle, "bundle", with_dashboards)
    return shop_bundle.install(app, api)


def widgets(page: str) -> list[str]:
    return re.findall(r'data-widget="(\w+)"', page)


def charts(page: str) -> list[dict]:
    found = re.findall(r'<script type="application/json" class="chart-data">(.*?)</script>', page, re.S)
    return [json.loads(c) for c in found]


def test_admin_sees_every_widget_with_the_shared_parameters(app, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD)
    response = browser.get(PAGE)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert widgets(page) == ["sales", "product_pivot", "by_status", "sales"]
    month, pivot = charts(page)
    assert month["categories"] == ["2026-01", "2026-02"]
    # one series per customer (the other row dimension), each point one result cell with its drill address
    assert [(s["name"], [p and p["value"] for p in s["points"]]) for s in month["series"]] == [
        ("Acme", ["53.33", "30.00"]),
        ("Beta", ["0.00", "10.00"]),  # the report counts drafts unless its status parameter says otherwise
    ]
    assert pivot["categories"] == ["Apparel"] and [s["name"] for s in pivot["series"]] == [
        "2026-01",
        "2026-02",
    ]
    assert 'name="param.period.from" value="2026-01-01"' in page and 'data-dashboard="overview"' in page
    assert re.search(r'class="number-value"><a class="drill text-reset" href="[^"]+">4</a>', page)


def test_the_buyer_feeds_the_reports_customer(app, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD)
    page = browser.get(f"{PAGE}&param.buyer={shop['Beta']}").get_data(as_text=True)
    month = charts(page)[0]
    assert [s["name"] for s in month["series"]] == ["Beta"] and month["categories"] == ["2026-01", "2026-02"]
    bad = browser.get(f"{PAGE}&param.buyer=-3")
    assert (
        bad.status_code == 400
        and "buyer" in bad.get_data(as_text=True)
        and not widgets(bad.get_data(as_text=True))
    )


def test_a_widget_the_reader_may_not_run_is_left_out(app, shop):
    """kim (clerk) may run sales and by_status, not product_pivot: the rest shows, on kim's own orders."""
    clerk = signed_in(app, "kim", PASSWORD, lang="zh_CN")
    response = clerk.get(PAGE)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert widgets(page) == ["sales", "by_status", "sales"]
    assert "店铺总览" in page and "月度收入" in page and "看板" in page
    month = charts(page)[0]
    assert [(s["name"], [p and p["value"] for p in s["points"]]) for s in month["series"]] == [
        ("Acme", [None, "30.00"]),
        ("Beta", ["0.00", None]),
    ]
    # ned's role may open the dashboard and run sales, but reads no customers (nor is granted the others)
    nocust = signed_in(app, "ned", PASSWORD, lang="en").get(PAGE)
    assert nocust.status_code == 200 and widgets(nocust.get_data(as_text=True)) == []
    assert "Nothing on this dashboard that you may see." in nocust.get_data(as_text=True)


def test_a_role_without_the_grant_is_refused(app, shop):
    viewer = signed_in(app, "vic", PASSWORD)
    assert viewer.get(PAGE).status_code == 403
    assert viewer.get("/a/shop/dashboards").status_code == 403
    assert "data-dashboard" not in viewer.get("/a/shop/order").get_data(as_text=True)
    assert signed_in(app, "kim", PASSWORD).get("/a/shop/dashboards/ghost").status_code == 404


def test_drilling_a_chart_point_opens_the_orders_behind_it(app, shop):
    clerk = signed_in(app, "kim", PASSWORD)
    point = charts(clerk.get(PAGE).get_data(as_text=True))[0]["series"][0]["points"][1]  # Acme, 2026-02
    response = clerk.get(point["drill"])
    assert response.status_code == 303
    listing = clerk.get(response.headers["Location"]).get_data(as_text=True)
    acme_feb = shop["orders"][1]
    assert f"/a/shop/order/{acme_feb}" in listing
    assert all(f'/a/shop/order/{other}"' not in listing for other in shop["orders"] if other != acme_feb)


def test_a_pie_over_a_pivot_draws_the_totals_across_pivot_values(app, api, shop):
    pies = {"name": "pies", "widgets": [{"report": "product_pivot", "chart": {"type": "pie"}}]}
    assert api.put("/api/definitions/shop/dashboard/pies", json=pies).status_code == 200
    assert api.post("/api/definitions/shop/publish").status_code == 200
    page = signed_in(app, "admin", ADMIN_PASSWORD).get("/a/shop/dashboards/pies").get_data(as_text=True)
    (pie,) = charts(page)
    # Apparel: 20.00 in January + 40.00 in February (top 1; Bags is "others", not drawn)
    assert pie["categories"] == ["Apparel"] and pie["series"][0]["points"][0]["value"] == "60.00"
    assert json.loads(re.search(r"cell=([^&]+)", pie["series"][0]["points"][0]["drill"]).group(1).replace("%22", '"')
                      .replace("%7B", "{").replace("%7D", "}").replace("%3A", ":")) == {"category": "Apparel"}  # fmt: skip


def test_publish_checks(app, api, shop):
    bad = {**OVERVIEW, "widgets": [
        {"report": "ghost"},
        {"report": "sales", "chart": {"type": "bar", "x": "revenue", "series": ["nope"]}},
        {"report": "sales", "params": {"customer": "period"}},
        {"report": "sales", "chart": {"type": "donut"}},
    ]}  # fmt: skip
    assert api.put("/api/definitions/shop/dashboard/overview", json=bad).status_code == 200
    response = api.post("/api/definitions/shop/publish")
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(k for k in fields if k.startswith("dashboard:")) == {
        "dashboard:overview/widgets/0/report",
        "dashboard:overview/widgets/1/chart/x",
        "dashboard:overview/widgets/1/chart/series/0",
        "dashboard:overview/widgets/2/params/customer",
        "dashboard:overview/widgets/3/chart/type",
    }
    unfed = {"name": "unfed", "widgets": [{"report": "sales"}]}  # sales needs a period (it has a default)
    assert api.put("/api/definitions/shop/dashboard/overview", json=OVERVIEW).status_code == 200
    assert api.put("/api/definitions/shop/dashboard/unfed", json=unfed).status_code == 200
    role = {"name": "viewer", "label": "Viewer", "dashboards": ["nowhere"]}
    assert api.put("/api/definitions/shop/role/viewer", json=role).status_code == 200
    response = api.post("/api/definitions/shop/publish")
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"role:viewer/dashboards/0"}


def fields(form: dict) -> list[tuple[str, str]]:
    """A form with repeated fields (``order``, ``width``, ``chart``: one per widget, in page order)."""
    return [(k, v) for k, vs in form.items() for v in (vs if isinstance(vs, list) else [vs])]


def base_of(page: str) -> str:
    return re.search(r'name="base" value="(\d+)"', page).group(1)


def test_the_designer_lays_out_and_publishes(app, api, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD, lang="en")
    page = browser.get("/design/shop/dashboards/overview").get_data(as_text=True)
    assert re.findall(r'class="col-12 col-md-\d+ widget-item" data-widget="(\w+)"', page) == [
        "sales", "product_pivot", "by_status", "sales"
    ]  # fmt: skip
    base = base_of(page)
    layout = {"base": base, "order": ["2", "0", "1", "3"], "width": ["4", "8", "12", "12"],
              "chart": ["number", "line", "", "table"]}  # fmt: skip
    assert browser.post("/design/shop/dashboards/overview/layout", fields(layout)).status_code == 303
    stale = browser.post("/design/shop/dashboards/overview/layout", fields(layout))
    assert stale.status_code == 409
    page = browser.get("/design/shop/dashboards/overview").get_data(as_text=True)
    for hostile in (
        {**layout, "order": ["0", "0", "1", "3"]},
        {**layout, "order": ["0", "1", "2"]},
        {**layout, "width": ["5", "8", "12", "12"]},
        {**layout, "chart": ["donut", "", "", ""]},
        {**layout, "order": ["x", "0", "1", "3"]},
    ):
        refused = browser.post(
            "/design/shop/dashboards/overview/layout", fields({**hostile, "base": base_of(page)})
        )
        assert refused.status_code == 400, hostile
    draft = api.get("/api/definitions/shop/dashboard/overview").get_json()
    body = draft.get("draft") or draft.get("body") or draft
    assert [(w["report"], w["width"], (w.get("chart") or {}).get("type")) for w in body["widgets"]] == [
        ("by_status", 4, "number"),
        ("sales", 8, "line"),
        ("product_pivot", 12, None),
        ("sales", 12, "table"),
    ]
    added = browser.post("/design/shop/dashboards/overview/widgets",
                         {"base": base_of(page), "report": "by_status", "chart": "pie"})  # fmt: skip
    assert added.status_code == 303
    page = browser.get("/design/shop/dashboards/overview").get_data(as_text=True)
    removed = browser.post("/design/shop/dashboards/overview/widgets/4/delete", {"base": base_of(page)})
    assert removed.status_code == 303
    assert api.post("/api/definitions/shop/publish").status_code == 200
    shown = browser.get(PAGE).get_data(as_text=True)
    assert widgets(shown) == ["by_status", "sales", "product_pivot", "sales"]
    assert [c["type"] for c in charts(shown)] == ["line"]  # product_pivot: the report's own (its table)


def test_a_dashboard_opened_again_answers_from_the_report_cache_until_a_write(app, shop, api):
    cache = app.extensions["lowcode"].report_cache
    browser = signed_in(app, "admin", ADMIN_PASSWORD)
    misses0 = cache.stats.misses
    first = browser.get(PAGE).get_data(as_text=True)
    hits, misses = cache.stats.hits, cache.stats.misses
    runs = misses - misses0
    assert runs == 3  # each distinct run of the four widgets was computed once
    again = browser.get(PAGE).get_data(as_text=True)
    assert cache.stats.misses == misses and cache.stats.hits - hits >= runs  # nothing computed again
    assert charts(again) == charts(first)
    # a write to the source moves its change counter: the next opening runs the reports again
    order = api.get("/api/data/shop/order?limit=1").get_json()["data"][0]
    response = api.patch(
        f"/api/data/shop/order/{order['id']}", json={"version": order["version"], "status": "confirmed"}
    )
    assert response.status_code == 200, response.get_json()
    browser.get(PAGE)
    assert cache.stats.misses - misses >= 3
