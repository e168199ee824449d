"""Lists (filter, search, sort, keyset paging), request limits and the OpenAPI document."""

from __future__ import annotations

import json

import pytest

BUNDLE = {
    "app": {"name": "inv", "label": "Inventory"},
    "entities": [
        {
            "name": "item",
            "label": "Item",
            "fields": [
                {"name": "code", "type": "text", "unique": True},
                {"name": "qty", "type": "integer"},
                {"name": "price", "type": "money"},
                {"name": "kind", "type": "select", "options": {"choices": [{"value": "a"}, {"value": "b"}]}},
            ],
        }
    ],
}


@pytest.fixture
def items(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    for i in range(25):
        body = {
            "code": f"I{i:02d}",
            "qty": i % 7 if i != 3 else None,
            "price": f"{i}.5{i % 10}",
            "kind": "ab"[i % 2],
        }
        assert api.post("/api/data/inv/item", json=body).status_code == 201
    return api


def _all_pages(api, query):
    seen, cursor, total = [], None, None
    while True:
        url = f"/api/data/inv/item?{query}" + (f"&after={cursor}" if cursor else "")
        body = api.get(url).get_json()
        if cursor is None:
            total = body["total"]
        else:
            assert body["total"] is None  # counted on the first page only
        seen += body["data"]
        cursor = body["next"]
        if cursor is None:
            return seen, total


@pytest.mark.parametrize("sort", ["qty", "-qty", "price", "-price,code", "kind,-qty", "id", "-id"])
def test_keyset_paging_visits_every_row_once_in_order(items, sort):
    rows, total = _all_pages(items, f"limit=4&sort={sort}")
    assert total == 25 and len(rows) == 25
    assert len({r["id"] for r in rows}) == 25
    keys = [k for k in sort.split(",")]
    single, _ = _all_pages(items, f"limit=100&sort={sort}")
    assert [r["id"] for r in rows] == [r["id"] for r in single]  # paging does not change the order
    first = keys[0].lstrip("-")
    values = [r[first] for r in rows if r[first] is not None]
    conv = (lambda v: float(v)) if first == "price" else (lambda v: v)
    assert [conv(v) for v in values] == sorted([conv(v) for v in values], reverse=keys[0].startswith("-"))


def test_filter_with_the_condition_language(items):
    cond = {"all": [{"field": "kind", "op": "=", "value": "a"}, {"field": "price", "op": ">", "value": "10"}]}
    body = items.get(f"/api/data/inv/item?filter={json.dumps(cond)}&limit=100").get_json()
    assert {r["code"] for r in body["data"]} == {f"I{i:02d}" for i in range(10, 25, 2)}
    assert body["total"] == 8
    empty = {"field": "qty", "op": "is_empty"}
    assert [
        r["code"] for r in items.get(f"/api/data/inv/item?filter={json.dumps(empty)}").get_json()["data"]
    ] == ["I03"]


def test_bad_filters_and_sorts_are_400(items):
    for url in ["/api/data/inv/item?filter={bad", "/api/data/inv/item?filter=[1]",
                '/api/data/inv/item?filter={"field":"nope","op":"=","value":1}',
                '/api/data/inv/item?filter={"field":"qty","op":"~","value":1}',
                "/api/data/inv/item?sort=nope", "/api/data/inv/item?limit=0", "/api/data/inv/item?limit=100000",
                "/api/data/inv/item?after=garbage"]:  # fmt: skip
        response = items.get(url)
        assert response.status_code == 400, (url, response.get_json())
        assert set(response.get_json()["error"]) >= {"code", "message", "fields"}


def test_search(items):
    body = items.get("/api/data/inv/item?q=i1").get_json()
    assert {r["code"] for r in body["data"]} == {f"I{i}" for i in range(10, 20)}


def test_body_size_and_depth_limits(app, api):
    deep = "[" * 10_000 + "]" * 10_000
    response = api.client.post(
        "/api/data/inv/item", data=deep, headers={**api.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "nesting" in response.get_json()["error"]["message"]
    big = json.dumps({"code": "x" * (3 * 1024 * 1024)})
    response = api.client.post(
        "/api/data/inv/item", data=big, headers={**api.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"
    response = api.client.post(
        "/api/data/inv/item", data="{not json", headers={**api.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    response = api.client.post("/api/data/inv/item", data="a=1", headers=api.headers)
    assert response.status_code == 400
    nan = api.client.post(
        "/api/auth/login", data='{"username": NaN}', headers={"Content-Type": "application/json"}
    )
    assert nan.status_code == 400


def test_openapi_document_describes_entities(items):
    doc = items.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    schema = doc["components"]["schemas"]["inv.item"]
    assert schema["properties"]["price"]["type"] == ["string", "null"]
    assert schema["properties"]["kind"]["enum"] == ["a", "b", None]
    assert set(doc["paths"]["/api/data/inv/item/{id}"]) >= {"get", "patch", "delete"}
    assert "409" in doc["paths"]["/api/data/inv/item/{id}"]["patch"]["responses"]
    # the costly-query gate's answers are documented where the gate stands, and only there
    for path in ("/api/data/inv/item", "/api/data/inv/item/export.csv"):
        assert {"422", "503"} <= set(doc["paths"][path]["get"]["responses"]), path
    assert "503" not in doc["paths"]["/api/data/inv/item/{id}"]["get"]["responses"]


def test_error_shape_for_unknown_routes_and_methods(api):
    for response, status in [(api.get("/api/nothing"), 404), (api.client.put("/api/auth/login"), 405)]:
        assert response.status_code == status
        assert set(response.get_json()["error"]) >= {"code", "message", "fields"}
