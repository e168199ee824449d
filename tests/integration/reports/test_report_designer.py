"""The report designer (app designers only): list, new report, JSON saved as draft steps with its problems by
JSON path, undo, and the preview of the draft (run on what the designer may read)."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import signed_in
from tests.integration.reports.bundle import PASSWORD, PERIOD, SALES, install


@pytest.fixture
def shop(app, api):
    return install(app, api)


def base_of(page: str) -> str:
    return re.search(r'name="base" value="(\d+)"', page).group(1)


def test_list_new_edit_problems_and_preview(app, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD)
    listing = browser.get("/design/shop/reports").get_data(as_text=True)
    assert 'data-report="sales"' in listing and 'data-report="product_pivot"' in listing
    assert browser.post("/design/shop/reports", {"name": "Bad Name", "source": "order"}).status_code == 422
    created = browser.post("/design/shop/reports", {"name": "per_status", "source": "order"})
    assert created.status_code == 303
    page = browser.get("/design/shop/reports/per_status").get_data(as_text=True)
    assert "report-preview" in page and "report-problems" not in page  # a count of 4 live orders
    assert re.search(r'data-level="total">\s*<td[^>]*>4</td>', page)
    body = json.loads(json.dumps(SALES))
    body["name"] = "per_status"
    body["measures"][0]["field"] = "ghost"
    not_json = browser.post("/design/shop/reports/per_status", {"body": "{", "base": base_of(page)})
    assert not_json.status_code == 422
    wrong = {**body, "measures": [{"name": "x", "agg": "median", "field": "amount"}]}
    assert (
        browser.post(
            "/design/shop/reports/per_status", {"body": json.dumps(wrong), "base": base_of(page)}
        ).status_code
        == 422
    )
    broken = browser.post(
        "/design/shop/reports/per_status", {"body": json.dumps(body), "base": base_of(page)}
    )
    assert broken.status_code == 303  # a draft may be broken: its problems are shown, publishing refuses it
    page = browser.get("/design/shop/reports/per_status").get_data(as_text=True)
    assert "<code>measures/0/field</code>" in page and "report-preview" not in page
    body["measures"][0]["field"] = "amount"
    saved = browser.post("/design/shop/reports/per_status", {"body": json.dumps(body), "base": base_of(page)})
    assert saved.status_code == 303
    page = browser.get(f"/design/shop/reports/per_status?{PERIOD}").get_data(as_text=True)
    assert "93.33 CNY" in page  # the draft's preview with the parameters
    undone = browser.post("/design/shop/reports/per_status/undo", {"base": base_of(page)})
    assert undone.status_code == 303
    assert "93.33" not in browser.get("/design/shop/reports/per_status").get_data(as_text=True)


def test_only_app_designers(app, shop):
    clerk = signed_in(app, "kim", PASSWORD)
    assert clerk.get("/design/shop/reports").status_code == 403
    assert clerk.get("/design/shop/reports/sales").status_code == 403
