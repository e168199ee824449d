"""The mapping designer pages (issue 15 item 1): the app page's "Mappings" entry, the list with a new
mapping, one mapping's entries table, JSON saves (refusals show their JSON paths and save nothing), undo and
redo, and the preview panel (a pasted payload, a record) - as the administrator and the app's admin role, in
English and Chinese; a clerk (no design rights) is refused."""

from __future__ import annotations

import html
import json
import re

import pytest

from lowcode.core.definition_models import Definition
from tests.integration.mappings.bundle import PASSWORD, PAYLOAD, SHOP_ORDER, install
from tests.integration.pages.helpers import csrf_of, signed_in, text

PAGE = "/design/shop/mappings/shop_order"
PREVIEW_API = "/api/mappings/shop/shop_order/preview"


@pytest.fixture
def shop(app, api):
    install(app, api)
    return api


def _draft(app, name: str):
    import sqlalchemy as sa

    with app.extensions["lowcode"].db.read() as s:
        found = s.scalar(sa.select(Definition).where(Definition.app == "shop", Definition.name == name))
        return None if found is None else found.draft


@pytest.mark.parametrize(("user", "lang"), [("admin", "en"), ("bo", "zh_CN")])
def test_designers_see_the_list_and_the_entries(app, shop, user, lang):
    from tests.conftest import ADMIN_PASSWORD

    browser = signed_in(app, user, ADMIN_PASSWORD if user == "admin" else PASSWORD, lang)
    home = text(browser.get("/design/shop"))
    assert "/design/shop/mappings" in home
    listing = text(browser.get("/design/shop/mappings"))
    assert 'data-mapping="shop_order"' in listing and 'data-mapping="copy_order"' in listing
    assert ("映射" if lang == "zh_CN" else "Mappings of shop") in listing
    page = text(browser.get(PAGE))
    assert 'data-at="children/0/fields/0"' in page
    assert ("按 sku 查找 product" if lang == "zh_CN" else "lookup product by sku") in html.unescape(page)
    assert "mapping-problems" not in page


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_clerk_may_not_design_mappings(app, shop, lang):
    clerk = signed_in(app, "kim", PASSWORD, lang)
    assert clerk.get("/design/shop/mappings").status_code == 403
    assert clerk.get(PAGE).status_code == 403
    clerk.token = csrf_of(text(clerk.get("/")))
    assert clerk.post(f"{PAGE}/preview", {"sample": json.dumps(PAYLOAD)}).status_code == 403
    assert clerk.post(PAGE, {"body": "{}", "base": "1"}).status_code == 403


def test_new_mapping_save_refusal_undo_and_redo(app, shop, designer):
    response = designer.post(
        "/design/shop/mappings", {"name": "sheet_products", "target": "product", "source": "sheet"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/mappings/sheet_products")
    assert _draft(app, "sheet_products")["source"] == {"kind": "sheet"}
    url = "/design/shop/mappings/sheet_products"
    page = text(designer.get(url))
    base = page.split('name="base" value="')[1].split('"')[0]
    body = _draft(app, "sheet_products")
    body["fields"] = [{"field": "sku", "source": "SKU"}, {"field": "name", "source": "Name"}]
    assert designer.post(url, {"body": json.dumps(body), "base": base}).status_code == 303
    assert len(_draft(app, "sheet_products")["fields"]) == 2
    page = text(designer.get(url))
    base = page.split('name="base" value="')[1].split('"')[0]
    bad = {**body, "fields": [{"field": "sku", "sql": "drop"}]}
    refused = designer.post(url, {"body": json.dumps(bad), "base": base})
    assert refused.status_code == 422 and "fields/0" in text(refused)
    broken = designer.post(url, {"body": "{not json", "base": base})
    assert broken.status_code == 422
    assert len(_draft(app, "sheet_products")["fields"]) == 2  # nothing saved
    assert designer.post(f"{url}/undo", {"base": base}).status_code == 303
    assert _draft(app, "sheet_products")["fields"] == []
    page = text(designer.get(url))
    base = page.split('name="base" value="')[1].split('"')[0]
    assert designer.post(f"{url}/redo", {"base": base}).status_code == 303
    assert len(_draft(app, "sheet_products")["fields"]) == 2
    assert designer.post(f"{url}/undo", {"base": "1"}).status_code == 409  # a stale step
    taken = designer.post(
        "/design/shop/mappings", {"name": "shop_order", "target": "order", "source": "payload"}
    )
    assert taken.status_code == 422


def test_a_draft_with_problems_lists_them_by_path(app, shop, designer):
    page = text(designer.get(PAGE))
    base = page.split('name="base" value="')[1].split('"')[0]
    doc = json.loads(json.dumps(SHOP_ORDER))
    doc["fields"][0]["lookup"]["by"] = "name"
    assert designer.post(PAGE, {"body": json.dumps(doc), "base": base}).status_code == 303
    page = html.unescape(text(designer.get(PAGE)))
    assert "mapping-problems" in page and "fields/0/lookup/by" in page
    plan = designer.get("/design/shop/publish")  # the plan shows what its publish would refuse
    assert plan.status_code == 422 and "fields/0/lookup/by" in html.unescape(text(plan))
    refused = designer.post("/design/shop/publish")
    assert refused.status_code == 422 and "lookup" in html.unescape(text(refused))
    assert shop.get("/api/definitions/shop/mapping/shop_order").get_json()["published_version"] == 1


def test_a_draft_saved_in_the_designer_is_published_from_the_publish_page(app, shop, designer):
    page = text(designer.get(PAGE))
    base = page.split('name="base" value="')[1].split('"')[0]
    doc = json.loads(json.dumps(SHOP_ORDER))
    doc["fields"][3]["default"] = "from the designer"
    assert designer.post(PAGE, {"body": json.dumps(doc), "base": base}).status_code == 303
    assert designer.post("/design/shop/publish").status_code == 303
    found = shop.get("/api/definitions/shop/mapping/shop_order").get_json()
    assert (
        found["published_version"] == 2 and found["published"]["fields"][3]["default"] == "from the designer"
    )
    item = shop.post(PREVIEW_API, json={"payload": PAYLOAD}).get_json()["items"][0]
    assert item["values"]["note"] == "from the designer"


def test_the_preview_panel_maps_a_payload_and_a_record(app, shop, designer):
    bad = {**PAYLOAD, "buyer": {"code": "NOPE"}}
    page = html.unescape(text(designer.post(f"{PAGE}/preview", {"sample": json.dumps([PAYLOAD, bad])})))
    assert page.count('class="card mt-3 preview-item"') == 2
    assert 'data-ok="yes"' in page and 'data-ok="no"' in page
    assert "buyer.code" in page and "no customer with code 'NOPE'" in page
    assert '"sku": "NEW-1"' in page or '"sku":"NEW-1"' in page.replace(" ", "")
    assert shop.get("/api/data/shop/order").get_json()["data"] == []
    shop.post("/api/data/shop/order", json={"customer": 1, "note": "n", "lines": [{"qty": 3}]})
    order_id = shop.get("/api/data/shop/order").get_json()["data"][0]["id"]
    copy_page = "/design/shop/mappings/copy_order"
    assert re.search(rf'<option value="{order_id}"[^>]*>#{order_id}</option>', text(designer.get(copy_page)))
    page = html.unescape(text(designer.post(f"{copy_page}/preview", {"record_id": str(order_id)})))
    assert "copy of n" in page
    missing = designer.post(f"{copy_page}/preview", {"record_id": "999999"})
    assert missing.status_code == 422 and "preview-error" in text(missing)
    empty = designer.post(f"{PAGE}/preview", {"sample": ""})
    assert empty.status_code == 422
