"""Reports run as SQL through the API (issue 16 items 1-2): hand-computed figures (exact cents) on SQLite and
PostgreSQL, the reader's record rules, hidden fields and unreadable joined entities refused, bad parameters
named, the grant in role definitions, publish checks at JSON paths."""

from __future__ import annotations

import pytest

from tests.integration.reports.bundle import PERIOD, SALES, as_user, bundle, install

URL = "/api/reports/shop/sales"


@pytest.fixture
def shop(app, api):
    install(app, api)
    return api


def table(body: dict) -> list[tuple]:
    """(level, customer, month, revenue, cost, qty, lines, margin) per row, totals last."""
    rows = body["rows"] + ([body["totals"]] if body["totals"] else [])
    keys = ("customer", "month", "revenue", "cost", "qty", "lines", "margin")
    return [(r["level"], *(r["values"].get(k) for k in keys)) for r in rows]


def test_sales_by_customer_and_month_hand_computed(shop):
    response = shop.get(f"{URL}?{PERIOD}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert table(body) == [
        ("row", "Acme", "2026-01", "53.33", "32.00", "3.000", 2, "40.00"),  # 21.33 / 53.33 = 39.996 %
        ("row", "Acme", "2026-02", "30.00", "18.00", "3.000", 1, "40.00"),
        ("subtotal", "Acme", None, "83.33", "50.00", "6.000", 3, "40.00"),  # 33.33 / 83.33 = 39.998 %
        ("row", "Beta", "2026-01", "0.00", "0.00", "1.000", 1, None),  # revenue 0: no margin
        ("row", "Beta", "2026-02", "10.00", "6.00", "1.000", 1, "40.00"),
        ("subtotal", "Beta", None, "10.00", "6.00", "2.000", 2, "40.00"),
        ("total", None, None, "93.33", "56.00", "8.000", 5, "40.00"),  # 37.33 / 93.33 = 39.998 %; deleted out
    ]
    columns = {c["key"]: c for c in body["columns"]}
    assert columns["revenue"]["style"] == {"places": 2, "currency": "CNY", "suffix": ""}
    assert columns["margin"]["style"]["suffix"] == " %"


def test_parameters_filter_and_optional_ones_are_left_out(shop):
    ids = shop.get("/api/data/shop/customer?filter=" + '{"field":"name","op":"=","value":"Beta"}').get_json()
    beta = ids["data"][0]["id"]
    body = shop.get(f"{URL}?{PERIOD}&param.customer={beta}&param.status=confirmed").get_json()
    assert table(body) == [
        ("row", "Beta", "2026-01", "0.00", "0.00", "1.000", 1, None),
        ("subtotal", "Beta", None, "0.00", "0.00", "1.000", 1, None),
        ("total", None, None, "0.00", "0.00", "1.000", 1, None),
    ]
    january = shop.get(URL + "?param.period.from=2026-01-01&param.period.to=2026-01-31").get_json()
    assert january["totals"]["values"]["revenue"] == "53.33"


def test_a_clerk_sees_only_the_sums_of_their_own_orders(app, shop):
    body = as_user(app, "kim").get(f"{URL}?{PERIOD}").get_json()
    assert table(body) == [
        ("row", "Acme", "2026-02", "30.00", "18.00", "3.000", 1, "40.00"),
        ("subtotal", "Acme", None, "30.00", "18.00", "3.000", 1, "40.00"),
        ("row", "Beta", "2026-01", "0.00", "0.00", "1.000", 1, None),
        ("subtotal", "Beta", None, "0.00", "0.00", "1.000", 1, None),
        ("total", None, None, "30.00", "18.00", "4.000", 2, "40.00"),
    ]


def test_a_report_over_the_order_sums_its_lines_without_counting_orders_twice(shop):
    body = shop.get("/api/reports/shop/by_status").get_json()
    rows = {r["values"]["status"]: r["values"] for r in body["rows"]}
    assert rows["confirmed"] == {
        "status": "confirmed",
        "orders": 3,
        "revenue": "83.33",
        "avg_line": "20.83",  # 83.33 / 4 lines = 20.8325 -> half up
        "customers": 2,
        "biggest": "33.33",
    }
    assert rows["draft"]["orders"] == 1 and rows["draft"]["revenue"] == "10.00"
    assert body["totals"]["values"]["orders"] == 4 and body["totals"]["values"]["revenue"] == "93.33"


def test_pivot_with_top_n_and_others(shop):
    body = shop.get("/api/reports/shop/product_pivot").get_json()
    assert body["pivot"] == {"dimension": "month", "values": ["2026-01", "2026-02"]}
    rows = [(r["level"], r["values"]) for r in body["rows"]]
    # Apparel: 20.00 (Jan) + 30.00 + 10.00 (Feb) = 60.00 is the top category; Bags 33.33 + 0.00 the others
    assert rows == [
        (
            "row",
            {"category": "Apparel", "revenue@0": "20.00", "revenue@1": "40.00", "revenue@total": "60.00"},
        ),
        ("others", {"revenue@0": "33.33", "revenue@total": "33.33"}),
    ]
    assert body["totals"]["values"] == {"revenue@0": "53.33", "revenue@1": "40.00", "revenue@total": "93.33"}


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("param.period.from=2026-13-01", "param.period"),
        ("param.period.from=2026-02-01&param.period.to=2026-01-01", "param.period"),
        (f"{PERIOD}&param.customer=abc", "param.customer"),
        (f"{PERIOD}&param.customer=-3", "param.customer"),
        (f"{PERIOD}&param.status=shipped", "param.status"),
        (f"{PERIOD}&param.nope=1", "param.nope"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(shop, query, named):
    response = shop.get(f"{URL}?{query}")
    assert response.status_code == 400, response.get_json()
    assert named in response.get_json()["error"]["fields"]


def test_a_required_period_takes_its_default(shop):
    body = shop.get(URL).get_json()
    assert set(body["params"]["period"]) == {"from", "to"}


def test_who_may_run(app, shop):
    assert as_user(app, "vic").get(f"{URL}?{PERIOD}").status_code == 403  # no grant of the report
    hidden = as_user(app, "nora").get(f"{URL}?{PERIOD}")
    assert hidden.status_code == 403 and "cost" in hidden.get_json()["error"]["message"]
    unreadable = as_user(app, "ned").get(f"{URL}?{PERIOD}")
    assert unreadable.status_code == 403
    assert "customer" not in unreadable.get_json()["error"]["message"]
    assert [r["name"] for r in as_user(app, "kim").get("/api/reports/shop").get_json()["data"]] == [
        "by_status",
        "sales",
    ]
    assert as_user(app, "vic").get("/api/reports/shop").status_code == 403
    assert shop.get("/api/reports/shop/ghost").status_code == 404


def test_openapi_lists_the_reports_a_user_may_run(app, shop):
    paths = as_user(app, "kim").get("/api/openapi.json").get_json()["paths"]
    assert "/api/reports/shop/sales" in paths and "/api/reports/shop/product_pivot" not in paths
    names = [p["name"] for p in paths["/api/reports/shop/sales"]["get"]["parameters"]]
    assert names == ["param.period.from", "param.period.to", "param.customer", "param.status"]


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda r: r["dimensions"][0].update(field="parent.customer.nam"), "$.dimensions[0].field"),
        (lambda r: r["dimensions"][0].update(bucket="month"), "$.dimensions[0].bucket"),
        (lambda r: r["measures"][0].update(field="customer"), "$.measures[0].field"),
        (lambda r: r["measures"][4].update(formula="revenue / ghost"), "$.measures[4].formula"),
        (lambda r: r["filter"]["all"][0].update(value="$param.when"), "$.filter.all[0].value"),
        (lambda r: r.update(source="nothing"), "$.source"),
    ],
)
def test_a_broken_report_is_refused_at_its_path(api, edit, path):
    broken = bundle()
    edit(broken["reports"][0])
    response = api.post("/api/templates/import", json=broken)
    assert response.status_code == 422
    assert f"reports/sales.json: {path}" in str(response.get_json()), response.get_json()


def test_a_field_a_report_uses_cannot_be_deleted_alone(shop):
    entity = shop.get("/api/definitions/shop/entity/order_line").get_json()["draft"] or None
    doc = shop.get("/api/definitions/shop/entity/order_line").get_json()
    body = doc.get("published") or entity
    body["fields"] = [f for f in body["fields"] if f["name"] != "cost"]
    assert shop.put("/api/definitions/shop/entity/order_line", json=body).status_code in (200, 201)
    response = shop.post("/api/definitions/shop/entity/order_line/publish", json={})
    assert response.status_code == 422
    assert "report:sales/measures/1/field" in str(response.get_json())


def test_sales_report_is_exact_on_this_database(shop):
    """The same figures whatever the database (LOWCODE_TEST_DB=postgresql runs this file on PostgreSQL)."""
    body = shop.get(f"{URL}?{PERIOD}").get_json()
    assert body["totals"]["values"]["revenue"] == "93.33"
    assert SALES["measures"][0]["agg"] == "sum"


def test_drill_condition_selects_the_records_behind_a_cell(app, shop):
    import datetime as dt

    from lowcode.reports.service import ReportService
    from lowcode.runtime.context import Actor, WriteContext

    svc = app.extensions["lowcode"]
    ids = shop.get("/api/data/shop/order?sort=id").get_json()["data"]
    orders = [o["id"] for o in ids]  # the four live orders, in the order they were made
    given = {"period": {"from": "2026-01-01", "to": "2026-02-28"}}
    with svc.db.read() as session:
        snapshot = svc.snapshots.get(session)
        admin = WriteContext(session, Actor(1, "admin", is_admin=True), snapshot)
        service = ReportService(svc.permissions)
        report = snapshot.report("shop", "sales")
        cell = service.drill_condition(admin, report, given, {"customer": "Acme", "month": "2026-01"})
        assert (cell.entity, cell.condition, cell.complete) == (
            "order",
            {"field": "id", "op": "in", "value": [orders[0]]},
            True,
        )
        subtotal = service.drill_condition(admin, report, given, {"customer": "Acme"})
        assert subtotal.condition["value"] == orders[:2]
        by_status = snapshot.report("shop", "by_status")
        assert service.drill_condition(admin, by_status, {}, {"status": "draft"}).condition["value"] == [
            orders[3]
        ]
        assert service.drill_condition(admin, by_status, {}, {"status": None}).condition["value"] == []
        kim_id = next(
            u["id"] for u in shop.get("/api/admin/users").get_json()["data"] if u["username"] == "kim"
        )
        kim = WriteContext(session, Actor(kim_id, "kim", roles={"shop": ("clerk",)}), snapshot)
        assert service.drill_condition(kim, report, given, {"customer": "Acme"}).condition["value"] == [
            orders[1]
        ]
        with pytest.raises(Exception, match="not a dimension"):
            service.drill_condition(admin, report, given, {"ghost": 1})
    assert dt.date  # the cells carry typed values (dates as dates) as ResultRow.cell does
