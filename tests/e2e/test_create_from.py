""" "Create from" in a real browser (issue 15 item 2): the warehouse clerk opens a confirmed sales order, clicks
Deliver (出库), sees the delivery form filled in with the customer, the warehouse, the link back to the order
and the line still to deliver at the order's price, saves it, and finds the order offering only the rest -
in English and Chinese, at 1366 px and 390 px. Screenshots in $LOWCODE_TEST_ARTIFACTS/createfrom."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lowcode.app import create_app
from tests.conftest import ApiClient, login
from tests.dbs import copy_of
from tests.e2e.live import live_server, require_browser
from tests.e2e.test_jxc_roles import ROLES, Site, _signed_in, _stock, browser  # noqa: F401 - fixture
from tests.integration.jxc.conftest import PASSWORD

LABELS = {"en": ("Deliver", "Save"), "zh_CN": ("出库", "保存")}


@pytest.fixture(scope="module")
def site(jxc_seed, tmp_path_factory):
    require_browser()
    url, seed_ids = jxc_seed
    shots = Path(os.environ.get("LOWCODE_TEST_ARTIFACTS") or tmp_path_factory.mktemp("shots")) / "createfrom"
    shots.mkdir(parents=True, exist_ok=True)
    with copy_of(url, tmp_path_factory.mktemp("e2e_create_from")) as copy:
        app = create_app({"DATABASE_URL": copy, "SECRET_KEY": "test-secret"})
        api = {}
        for role, password in [("admin", "root-pass-2026")] + [(r, PASSWORD) for r in ROLES[1:]]:
            client = app.test_client()
            api[role] = ApiClient(client, login(client, role, password))
        with live_server(app) as base:
            site = Site(base, api, {**seed_ids, "product": dict(seed_ids["product"])}, shots)
            _stock(site)
            yield site
        app.extensions["lowcode"].db.dispose()


def _confirmed_order(site: Site) -> dict:
    ids = site.ids
    body = {"customer": ids["customer"], "warehouse": ids["wh"]["WH-SH"], "order_date": "2026-11-20",
            "lines": [{"product": ids["product"]["TS-WHT-M"], "qty": "10", "unit_price": "25.00"}]}  # fmt: skip
    order = site.create("sales", "sales_order", body)
    patch = {"status": "confirmed", "version": order["version"]}
    assert site.api["sales"].patch(f"/api/data/jxc/sales_order/{order['id']}", json=patch).status_code == 200
    return site.get("sales_order", order["id"])


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("width", [1366, 390])
def test_the_warehouse_delivers_an_order_from_its_page(site, browser, lang, width):  # noqa: F811
    order = _confirmed_order(site)
    visit = _signed_in(site, browser, "warehouse", lang, width)
    try:
        visit.open(f"/a/jxc/sales_order/{order['id']}", "order")
        deliver, save = LABELS[lang]
        sales = _signed_in(site, browser, "sales", lang, width)  # may not create deliveries: no button
        try:
            sales.page.goto(f"{site.base}/a/jxc/sales_order/{order['id']}")
            assert sales.page.locator("a.create-from").count() == 0
        finally:
            sales.close()
        button = visit.page.locator("a.create-from", has_text=deliver)
        assert button.count() == 1
        button.click()
        visit.page.wait_for_load_state()
        assert "/a/jxc/delivery/new?" in visit.page.url
        page = visit.page
        assert page.locator(".made-from").inner_text().count(order["number"]) == 1
        assert page.locator("select[name=sales_order] option[selected]").get_attribute("value") == str(
            order["id"]
        )
        assert page.locator("select[name=customer] option[selected]").get_attribute("value") == str(
            site.ids["customer"]
        )
        assert page.locator("input[name=lines-0-qty]").input_value() == "10"
        assert page.locator("input[name=lines-0-unit_price]").input_value() == "25.00"
        # computed at once, before any typing: the line's amount and the total
        page.wait_for_function(
            "document.querySelector('#f-total') && /250\\.00/.test(document.querySelector('#f-total').innerText)"
        )
        visit.check("delivery-prefilled")
        page.fill("input[name=lines-0-qty]", "4")
        page.locator("form.record-form button[type=submit]", has_text=save).click()
        page.wait_for_url("**/a/jxc/delivery/*")
        visit.check("delivery-saved")
        delivery_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        saved = site.get("delivery", delivery_id)
        assert (saved["sales_order"], saved["status"], saved["total"]) == (order["id"], "draft", "100.00")
        site.post_doc("warehouse", "delivery", delivery_id)
        visit.open(f"/a/jxc/sales_order/{order['id']}", "order-partly-shipped")
        page.locator("a.create-from", has_text=deliver).click()
        page.wait_for_load_state()
        assert page.locator("input[name=lines-0-qty]").input_value() == "6"
        visit.check("delivery-the-rest")
    finally:
        visit.close()
