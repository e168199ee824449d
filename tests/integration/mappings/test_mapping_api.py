"""Mapping definitions end to end (issue 15 item 1): installed from a bundle's ``mappings/``, refused at
publish with each problem at its JSON path, compiled into the snapshot, previewed through the API by
designers only (reading only what they may read), and written through the record service with lookups once
per batch, created lookup records and upserts by the external key."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa

from lowcode.mappings.service import MappingService
from lowcode.runtime.context import Actor, WriteContext
from tests.conftest import ApiClient, login
from tests.integration.mappings.bundle import PASSWORD, PAYLOAD, SHOP_ORDER, bundle, install

PREVIEW = "/api/mappings/shop/shop_order/preview"


@pytest.fixture
def shop(app, api):
    install(app, api)
    return api


def as_user(app, name: str) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, name, PASSWORD))


def test_a_bundle_installs_its_mappings_and_the_snapshot_compiles_them(app, shop):
    found = shop.get("/api/definitions/shop/mapping/shop_order").get_json()
    assert found["published_version"] == 1
    svc = app.extensions["lowcode"]
    with svc.db.read() as s:
        compiled = svc.snapshots.get(s).mapping("shop", "shop_order")
    assert compiled.target.name == "order" and [c.field for c in compiled.children] == ["lines"]


def test_a_bundle_with_a_broken_mapping_is_refused_at_its_path(app, api):
    broken = bundle()
    broken["mappings"][0]["fields"][0]["lookup"]["by"] = "name"
    response = api.post("/api/templates/import", json=broken)
    assert response.status_code == 422
    assert "mappings/shop_order.json: $.fields[0].lookup.by" in str(response.get_json())
    assert api.get("/api/definitions/shop/mapping/shop_order").status_code == 404


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d["fields"].append({"field": "ghost", "source": "x"}), "fields/4/field"),
        (lambda d: d["fields"][2].update(source="a[x]"), "fields/2/source"),
        (
            lambda d: d["children"][0]["fields"][3].update(expression="qty *"),
            "children/0/fields/3/expression",
        ),
    ],
)
def test_publishing_a_broken_mapping_is_refused_with_its_json_path(shop, edit, path):
    doc = copy.deepcopy(SHOP_ORDER)
    edit(doc)
    assert shop.put("/api/definitions/shop/mapping/shop_order", json=doc).status_code in (200, 201)
    response = shop.post("/api/definitions/shop/mapping/shop_order/publish", json={})
    assert response.status_code == 422
    assert f"mapping:shop_order/{path}" in response.get_json()["error"]["fields"]
    assert shop.get("/api/definitions/shop/mapping/shop_order").get_json()["published_version"] == 1


def test_an_entity_publish_that_drops_a_mapped_field_is_refused(shop):
    entity = shop.get("/api/definitions/shop/entity/order").get_json()["published"]
    entity["fields"] = [f for f in entity["fields"] if f["name"] != "order_date"]
    assert shop.put("/api/definitions/shop/entity/order", json=entity).status_code in (200, 201)
    response = shop.post("/api/definitions/shop/entity/order/publish", json={})
    assert response.status_code == 422
    assert "mapping:shop_order/fields/2/field" in response.get_json()["error"]["fields"]


def test_preview_of_a_payload_shows_the_record_lines_and_new_lookups(shop):
    response = shop.post(PREVIEW, json={"payload": PAYLOAD})
    assert response.status_code == 200, response.get_json()
    item = response.get_json()["items"][0]
    assert item["ok"] and item["errors"] == []
    assert item["values"]["status"] == "confirmed" and item["values"]["order_date"] == "2025-02-03"
    assert item["values"]["customer"] > 0
    lines = item["children"]["lines"]
    assert lines[0]["amount"] == "2.50" and lines[1]["product"] == {"new": "product", "sku": "NEW-1"}
    assert item["creates"] == [{"entity": "product", "sku": "NEW-1", "name": "Brand new"}]
    assert item["outbound"]["buyer"] == {"code": "C1"} and item["outbound"]["order_id"] == "W-1"
    assert shop.get("/api/data/shop/order").get_json()["data"] == []  # nothing written
    assert len(shop.get("/api/data/shop/product").get_json()["data"]) == 1


def test_preview_errors_carry_their_source_paths(shop):
    bad = {**PAYLOAD, "buyer": {"code": "NOPE"}, "items": [{"sku": "A", "price": 1}]}
    item = shop.post(PREVIEW, json={"rows": [bad, "text"]}).get_json()["items"]
    assert {(e["source"], e["field"]) for e in item[0]["errors"]} == {
        ("buyer.code", "customer"),
        ("items[0].qty", "lines[0].qty"),
    }
    assert item[1]["errors"][0]["message"] == "the item is not an object"


def test_preview_of_an_unsaved_definition_and_its_problems(shop):
    doc = copy.deepcopy(SHOP_ORDER)
    doc["fields"][1]["values"]["map"]["PAID"] = "nope"
    response = shop.post(PREVIEW, json={"payload": PAYLOAD, "definition": doc})
    assert response.status_code == 422
    assert "mapping:shop_order/fields/1/values" in response.get_json()["error"]["fields"]
    doc["fields"][1]["values"]["map"]["PAID"] = "draft"
    answer = shop.post(PREVIEW, json={"payload": PAYLOAD, "definition": doc}).get_json()
    assert answer["items"][0]["values"]["status"] == "draft"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"payload": {}, "rows": []},
        {"rows": []},
        {"rows": "x"},
        {"record_id": 1},
        {"payload": {}, "sql": 1},
    ],
)
def test_bad_preview_requests_are_400(shop, body):
    assert shop.post(PREVIEW, json=body).status_code == 400


def test_preview_of_a_record_reads_only_what_the_designer_may_read(app, shop):
    shop.post("/api/data/shop/order", json={"customer": 1, "note": "n", "secret": "s", "lines": [{"qty": 3}]})
    order_id = shop.get("/api/data/shop/order").get_json()["data"][0]["id"]
    url = "/api/mappings/shop/copy_order/preview"
    item = shop.post(url, json={"record_id": order_id}).get_json()["items"][0]
    assert item["values"] == {"customer": 1, "secret": "s", "note": "copy of n"}
    assert item["children"]["lines"] == [{"product": None, "qty": 3}]
    assert shop.post(url, json={"record_id": order_id + 99}).status_code == 404


def test_only_designers_preview(app, shop):
    assert as_user(app, "kim").post(PREVIEW, json={"payload": PAYLOAD}).status_code == 403
    assert as_user(app, "bo").post(PREVIEW, json={"payload": PAYLOAD}).status_code == 200


def _write(app, items, actor: Actor | None = None):
    svc = app.extensions["lowcode"]
    service = MappingService(svc.records, svc.queries, svc.permissions)
    with svc.db.write() as s:
        ctx = WriteContext(s, actor or Actor.system("mapping test"), svc.snapshots.get(s))
        mapping = ctx.snapshot.mapping("shop", "shop_order")
        lookups = service.writer_lookups(ctx)
        mapped = service.map_items(ctx, mapping, items, lookups)
        outcomes = service.create_from_source(ctx, mapping, items)
    return lookups.queries, mapped, outcomes


def test_create_from_source_writes_through_the_record_service_and_upserts(app, shop):
    items = [{**PAYLOAD, "order_id": f"W-{i}", "buyer": {"code": f"C{1 + i % 2}"}} for i in range(30)]
    items.append({**PAYLOAD, "order_id": "W-bad", "buyer": {"code": "ZZ"}})
    queries, mapped, outcomes = _write(app, items)
    assert queries == 2  # customer by code, product by sku - for 31 orders
    assert [o.status for o in outcomes] == ["created"] * 30 + ["rejected"]
    assert outcomes[-1].errors[0].source == "buyer.code"
    products = shop.get("/api/data/shop/product").get_json()["data"]
    assert sorted(p["sku"] for p in products) == ["A", "NEW-1"]  # created once for the batch
    orders = shop.get("/api/data/shop/order?page_size=100").get_json()["data"]
    assert len(orders) == 30
    one = shop.get(f"/api/data/shop/order/{outcomes[0].record_id}").get_json()
    assert one["note"] == "shop" and [line["amount"] for line in one["lines"]] == ["2.50", "10.00"]
    history = shop.get(f"/api/data/shop/order/{outcomes[0].record_id}/history").get_json()
    assert history["data"], "written through the record service: audited"
    _q, _m, again = _write(app, [{**PAYLOAD, "order_id": "W-0", "remark": "changed"}])
    assert again[0].status == "updated" and again[0].record_id == outcomes[0].record_id
    assert shop.get(f"/api/data/shop/order/{outcomes[0].record_id}").get_json()["note"] == "changed"
    assert len(shop.get("/api/data/shop/order?page_size=100").get_json()["data"]) == 30


def test_a_record_service_refusal_rejects_that_item_only(app, shop):
    """The clerk may create orders but not products: the order needing a new product is refused by the
    permission service (nothing of it kept), the other one is created."""
    with app.extensions["lowcode"].db.read() as s:
        kim_id = s.execute(sa.text("SELECT id FROM lc_user WHERE username = 'kim'")).scalar_one()
    kim = Actor(user_id=kim_id, username="kim", roles={"shop": ("clerk",)})
    only_a = [{"sku": "A", "qty": 1, "price": "2"}]
    items = [{**PAYLOAD, "order_id": "W-1"}, {**PAYLOAD, "order_id": "W-2", "items": only_a}]
    _q, _m, outcomes = _write(app, items, kim)
    assert [o.status for o in outcomes] == ["rejected", "created"]
    assert outcomes[0].errors and outcomes[0].record_id is None
    assert [p["sku"] for p in shop.get("/api/data/shop/product").get_json()["data"]] == ["A"]
    assert [o["external_no"] for o in shop.get("/api/data/shop/order").get_json()["data"]] == ["W-2"]


def test_a_deeply_nested_or_huge_preview_body_is_refused_and_the_server_keeps_serving(shop):
    deep = '{"payload": ' + '{"a": ' * 10_000 + "1" + "}" * 10_001
    response = shop.post(PREVIEW, data=deep, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 413)
    three_places = {**PAYLOAD, "items": [{"sku": "A", "qty": 1, "price": "1.999"}]}
    item = shop.post(PREVIEW, json={"payload": three_places}).get_json()["items"][0]
    assert [(e["source"], e["field"]) for e in item["errors"]] == [("items[0].price", "lines[0].price")]


def test_the_bundle_export_keeps_the_mappings(shop):
    response = shop.get("/api/templates/export/shop")
    assert response.status_code == 200
    exported = response.get_json() if response.is_json else None
    if exported is None:  # a zip
        import io
        import zipfile

        names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
        assert "mappings/shop_order.json" in names and "mappings/copy_order.json" in names
    else:
        assert {m["name"] for m in exported["mappings"]} == {"shop_order", "copy_order"}


def test_a_lookup_record_made_for_a_refused_item_is_made_again_for_the_next(app, shop):
    """The first order's rule refuses it after its new product was created: both roll back together, and the
    second order, needing the same product, creates it again rather than linking to a record that is gone."""
    new_line = [{"sku": "NEW-9", "qty": 1, "price": "3", "title": "Nine"}]
    items = [
        {**PAYLOAD, "order_id": "W-1", "remark": "refuse", "items": new_line},
        {**PAYLOAD, "order_id": "W-2", "items": new_line},
    ]
    _q, _m, outcomes = _write(app, items)
    assert [o.status for o in outcomes] == ["rejected", "created"]
    assert "refused" in outcomes[0].errors[0].message
    products = {p["sku"]: p["id"] for p in shop.get("/api/data/shop/product").get_json()["data"]}
    assert set(products) == {"A", "NEW-9"}
    order = shop.get(f"/api/data/shop/order/{outcomes[1].record_id}").get_json()
    assert order["lines"][0]["product"] == products["NEW-9"]
