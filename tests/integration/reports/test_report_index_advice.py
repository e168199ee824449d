"""The index advisor (issue 16 item 4): the plan of a report's GROUP BY read from the database (SQLite's
EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN (FORMAT JSON)), the composite index of the filter's pinned fields and
the grouped ones proposed for a table read whole, shown on the report's designer page and applied by an
administrator as a draft index that the publish builds; then no longer proposed."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import signed_in
from tests.integration.reports.bundle import PASSWORD, install

PINNED = {
    "name": "confirmed_by_customer",
    "source": "order",
    "filter": {"field": "status", "op": "=", "value": "confirmed"},
    "dimensions": [{"name": "customer", "field": "customer.name"}, {"name": "status", "field": "status"}],
    "measures": [{"name": "orders", "agg": "count"}],
}


@pytest.fixture
def shop(app, api):
    ids = install(app, api)
    assert api.put("/api/definitions/shop/report/confirmed_by_customer", json=PINNED).status_code in (
        200,
        201,
    )
    assert api.post("/api/definitions/shop/report/confirmed_by_customer/publish", json={}).status_code == 200
    return ids


def _advice(app, name: str):
    from lowcode.reports.index_advice import advise
    from lowcode.reports.params import read_params
    from lowcode.reports.service import ReportService
    from lowcode.runtime.context import Actor, WriteContext

    svc = app.extensions["lowcode"]
    with svc.db.read() as session:
        snapshot = svc.snapshots.get(session)
        ctx = WriteContext(session, Actor(1, "admin", is_admin=True), snapshot)
        report = snapshot.report("shop", name)
        query = ReportService(svc.permissions).query(
            ctx, report, read_params(report.params, {}, ctx.now.date())
        )
        return advise(session, report, query), snapshot.entity("shop", "order").table.name


def test_a_table_read_whole_gets_its_filter_then_group_fields_proposed(app, shop):
    advice, order_table = _advice(app, "confirmed_by_customer")
    assert order_table in advice.scanned  # four orders: the planner reads the table
    assert advice.plan and all(isinstance(line, str) for line in advice.plan)
    # the pinned status first, then the grouped fields of the order itself (customer.name is another table)
    assert [(p.entity, p.fields) for p in advice.proposals] == [("order", ("status",))]


def test_the_wanted_fields_follow_the_paths(app, shop):
    from lowcode.reports.index_advice import wanted_fields

    svc = app.extensions["lowcode"]
    with svc.db.read() as session:
        snapshot = svc.snapshots.get(session)
        assert wanted_fields(snapshot.report("shop", "confirmed_by_customer")) == {
            "": ("status",),
            "customer": ("name",),
        }
        # the sales report pins parent.customer by its parameter, groups by parent.order_date (bucketed)
        assert wanted_fields(snapshot.report("shop", "sales")) == {
            "parent": ("customer", "status", "order_date"),
            "parent.customer": ("name",),
        }


def test_an_administrator_applies_the_proposal_and_the_publish_builds_it(app, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD)
    url = "/design/shop/reports/confirmed_by_customer"
    page = browser.get(url).get_data(as_text=True)
    assert "report-advice-link" in page and "report-index-proposal" not in page  # a fast run: only on request
    page = browser.get(url + "?advice=1").get_data(as_text=True)
    assert "report-plan" in page
    form = re.search(
        r'<form[^>]*report-index-proposal" data-entity="order" data-fields="status">(.*?)</form>', page, re.S
    )
    assert form, page
    base = re.search(r'name="base" value="(\d+)"', form.group(1)).group(1)
    posted = browser.post(
        "/design/shop/entity/order/indexes",
        {"base": base, "report": "confirmed_by_customer", "index_field": "status"},
    )
    assert (
        posted.status_code == 303
        and "/design/shop/reports/confirmed_by_customer?indexed=1" in posted.location
    )
    assert browser.post("/design/shop/publish", {}).status_code == 303
    advice, order_table = _advice(app, "confirmed_by_customer")
    assert advice.proposals == ()  # the table has it now
    engine = app.extensions["lowcode"].db.engine
    indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(engine).get_indexes(order_table)}
    assert ["status", "id", "deleted_at"] in indexes.values()
    zh = signed_in(app, "admin", ADMIN_PASSWORD, lang="zh_CN").get(url + "?advice=1").get_data(as_text=True)
    assert "索引建议" in zh and "无索引建议" in zh


def test_a_slow_published_run_brings_the_advice_without_asking(app, shop):
    from tests.integration.reports.bundle import as_user

    cache = app.extensions["lowcode"].report_cache
    cache.slow_runs.threshold_ms = 0.001  # every run is "slow"
    assert as_user(app, "kim").get("/api/reports/shop/by_status").status_code == 200
    assert cache.slow_runs.slowest("shop", "by_status") is not None
    page = (
        signed_in(app, "admin", ADMIN_PASSWORD).get("/design/shop/reports/by_status").get_data(as_text=True)
    )
    assert "report-plan" in page and 'data-entity="order" data-fields="status"' in page


def test_people_who_do_not_design_the_app_see_no_advice(app, shop):
    browser = signed_in(app, "kim", PASSWORD)
    assert browser.get("/design/shop/reports/confirmed_by_customer?advice=1").status_code == 403
