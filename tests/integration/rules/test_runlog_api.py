"""The rule-run log in the API and on the record page, and the dry-run form of the record page."""

from __future__ import annotations

import copy

import pytest

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment
from tests.conftest import ADMIN_PASSWORD, ApiClient, login
from tests.integration.pages.helpers import Browser, text
from tests.integration.rules.stock_bundle import BUNDLE

PASSWORD = "user-pass-123"


@pytest.fixture
def shop(app, api):
    bundle = copy.deepcopy(BUNDLE)
    bundle["roles"] = [
        {"name": "clerk", "label": "Clerk", "grants": [{"entity": "sales_order", "actions": ["read", "update"]}]},
        {"name": "mine", "label": "Own orders", "grants": [{"entity": "sales_order", "actions": ["read"],
                                                            "record_rule": {"field": "owner", "op": "=", "value": "$user.id"}}]},
        {"name": "stock", "label": "Stock", "grants": [{"entity": "product", "actions": ["read"]}]},
    ]  # fmt: skip
    assert api.post("/api/templates/import", json=bundle).status_code == 201
    product = api.post("/api/data/shop/product", json={"sku": "TEE-1"}).get_json()["id"]
    warehouse = api.post("/api/data/shop/warehouse", json={"code": "WH1"}).get_json()["id"]
    receipt = {"product": product, "warehouse": warehouse, "kind": "receipt", "qty": "10"}
    assert api.post("/api/data/shop/stock_ledger", json=receipt).status_code == 201
    orders = []
    for qty in ("7", "30"):
        body = {"warehouse": warehouse, "lines": [{"product": product, "qty": qty}]}
        order = api.post("/api/data/shop/sales_order", json=body).get_json()
        api.patch(f"/api/data/shop/sales_order/{order['id']}", json={"status": "confirmed", "version": 1})
        orders.append(order["id"])
    svc = app.extensions["lowcode"]
    with svc.db.write() as s:
        for name in ("clerk", "mine", "stock"):
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="shop", role=name, granted_by="test"))
    return api, product, orders


def client_for(app, username: str) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, username, PASSWORD))


def test_runs_of_a_record_newest_first_with_everything_logged(shop):
    api, product, (ok_order, short_order) = shop
    data = api.get(f"/api/rules/shop/runs?entity=sales_order&record_id={ok_order}").get_json()["data"]
    assert [(r["rule"], r["trigger"], r["phase"], r["outcome"]) for r in data] == [
        ("reserve_on_confirm", "update", "after", "ok"),
        ("needs_lines", "update", "before", "ok"),
    ]  # (a before-create run is logged before the record has an id)
    latest = data[0]
    assert (
        latest["record_id"] == ok_order and latest["entity"] == "sales_order" and latest["rule_version"] >= 1
    )
    assert latest["actions"][0] == "updated 1 stock_balance" and latest["actions"][1].startswith(
        "created stock_ledger"
    )
    assert latest["duration_ms"] >= 0 and latest["at"] and latest["id"] > data[1]["id"]
    refused = api.get(
        f"/api/rules/shop/runs?entity=sales_order&record_id={short_order}&rule=reserve_on_confirm"
    ).get_json()
    assert [(r["outcome"], r["message"]) for r in refused["data"]] == [
        ("refused", f"Not enough stock of product {product}: short by 27")
    ]
    assert len(api.get("/api/rules/shop/runs?entity=sales_order&limit=2").get_json()["data"]) == 2
    app_wide = api.get("/api/rules/shop/runs?rule=receive_into_stock").get_json()["data"]
    assert [(r["entity"], r["outcome"]) for r in app_wide] == [("stock_ledger", "ok")]


def test_bad_queries_are_clear_400s(shop):
    api, _, _ = shop
    for query, message in (
        ("record_id=1", "record_id needs entity"),
        ("entity=sales_order&limit=0", "'limit' must be a whole number from 1 to 500"),
        ("entity=sales_order&limit=501", "'limit' must be a whole number from 1 to 500"),
        ("entity=sales_order&record_id=x", "'record_id' must be a whole number"),
    ):
        response = api.get(f"/api/rules/shop/runs?{query}")
        assert response.status_code == 400 and message in response.get_json()["error"]["message"], query
    assert api.get("/api/rules/nowhere/runs").status_code == 404
    assert api.get("/api/rules/shop/runs?entity=nothing").status_code == 404


def test_reading_runs_needs_read_on_the_entity_and_admin_for_the_whole_app(app, shop):
    api, _, (ok_order, _) = shop
    clerk, mine, stock = (client_for(app, n) for n in ("clerk", "mine", "stock"))
    assert clerk.get(f"/api/rules/shop/runs?entity=sales_order&record_id={ok_order}").status_code == 200
    denied = clerk.get("/api/rules/shop/runs")
    assert denied.status_code == 403 and "administrators only" in denied.get_json()["error"]["message"]
    assert clerk.get("/api/rules/shop/runs?rule=reserve_on_confirm").status_code == 403
    assert stock.get("/api/rules/shop/runs?entity=sales_order").status_code == 403
    assert stock.get("/api/rules/shop/runs?entity=product").get_json()["data"] == []
    # the record rule applies: someone else's order is not found
    assert mine.get("/api/rules/shop/runs?entity=sales_order").status_code == 200
    assert mine.get(f"/api/rules/shop/runs?entity=sales_order&record_id={ok_order}").status_code == 404


def test_the_record_page_lists_its_rule_runs_and_offers_admins_a_dry_run(app, shop):
    api, product, (ok_order, short_order) = shop
    admin = Browser(app.test_client())
    assert admin.login("admin", ADMIN_PASSWORD).status_code == 303
    page = text(admin.get(f"/a/shop/sales_order/{short_order}"))
    runs = page.split("Rule runs</h2>")[1].split("</table>")[0]
    # the refused confirm rolled back every run of its transaction; the refusal itself is logged
    assert "reserve_on_confirm" in runs and "needs_lines" not in runs
    assert "Refused" in runs and f"Not enough stock of product {product}: short by 27" in runs
    assert " ms</td>" in runs and "(update)" in runs
    done = text(admin.get(f"/a/shop/sales_order/{ok_order}")).split("Rule runs</h2>")[1].split("</table>")[0]
    assert done.index("reserve_on_confirm") < done.index("needs_lines")  # newest first
    assert "Done" in done and "updated 1 stock_balance; created stock_ledger" in done
    form = page.split("Dry run</h2>")[1]
    assert f'hx-post="/a/shop/sales_order/{short_order}/dry-run"' in form
    assert (
        '<option value="reserve_on_confirm">' in form
        and '<option value="">All rules of this entity</option>' in form
    )

    url = f"/a/shop/sales_order/{ok_order}/dry-run"
    result = text(
        admin.post(
            url,
            {"rule": "release_on_cancel", "changes": '{"status": "cancelled"}', "cascade": "1"},
            htmx=True,
        )
    )
    assert "<html" not in result and 'data-outcome="ok"' in result and "Nothing was saved." in result
    assert '<span class="old">7.000</span> → <span class="new">0.000</span>' in result  # reserved released
    assert "release_on_cancel</span> (update, after)" in result
    assert api.get(f"/api/data/shop/sales_order/{ok_order}").get_json()["status"] == "confirmed"

    refused = text(
        admin.post(
            f"/a/shop/sales_order/{short_order}/dry-run", {"changes": '{"status": "confirmed"}'}, htmx=True
        )
    )
    assert 'data-outcome="refused"' in refused and "short by 27" in refused
    bad = admin.post(url, {"changes": "[1, 2"}, htmx=True)
    assert bad.status_code == 422 and "Changes must be a JSON object of field values." in text(bad)
    full = admin.post(url, {"rule": "needs_lines", "changes": ""})  # without htmx: a whole page
    assert full.status_code == 200 and "<html" in text(full) and "Back to the record" in text(full)


def test_others_see_neither_the_runs_nor_the_form_nor_the_dry_run_page(app, shop):
    _, _, (ok_order, _) = shop
    clerk = Browser(app.test_client())
    assert clerk.login("clerk", PASSWORD).status_code == 303
    page = text(clerk.get(f"/a/shop/sales_order/{ok_order}"))
    assert "<h1" in page and "Rule runs</h2>" not in page and "reserve_on_confirm" not in page
    assert "Dry run</h2>" not in page and "dry-run" not in page
    response = clerk.post(f"/a/shop/sales_order/{ok_order}/dry-run", {"changes": "{}"}, htmx=True)
    assert response.status_code == 403
