"""A subscription that names a mapping delivers the record in the external system's shape (the mapping's
outbound direction: paths, value maps reversed) beside the event; a mapping that is unknown or makes records
of another entity is refused at publish."""

from __future__ import annotations

from .conftest import bundle, create, update, webhook

ITEM_MAPPING = {
    "name": "erp_item",
    "source": {"kind": "payload"},
    "target": "item",
    "fields": [
        {"field": "name", "source": "title"},
        {"field": "qty", "source": "stock.qty"},
        {"field": "status", "source": "state", "values": {"map": {"O": "open", "C": "closed"}}},
    ],
}


def test_the_payload_is_the_record_through_the_mapping(app, api, receivers, loop):
    subscription = webhook("erp", receivers["a"].url, mapping="erp_item")
    response = api.post("/api/templates/import", json={**bundle([subscription]), "mappings": [ITEM_MAPPING]})
    assert response.status_code == 201, response.get_json()
    item = create(api, name="bolt", qty=3)
    update(api, item, status="closed")
    loop.until(lambda: len(receivers["a"].seen) == 2)
    first, second = receivers["a"].arrivals
    assert first["mapping"] == "erp_item"
    assert second["payload"] == {"title": "bolt", "stock": {"qty": 3}, "state": "C"}
    assert second["record"]["status"] == "closed"  # the record itself is still there


def test_an_unknown_mapping_or_one_of_another_entity_is_refused(api):
    other = {
        **ITEM_MAPPING,
        "name": "memo_map",
        "target": "memo",
        "fields": [{"field": "title", "source": "t"}],
    }
    base = bundle([])
    base["entities"].append({"name": "memo", "label": "Memo", "fields": [{"name": "title", "type": "text"}]})
    assert (
        api.post("/api/templates/import", json={**base, "mappings": [ITEM_MAPPING, other]}).status_code == 201
    )
    for name, mapping in [("ghost", "nope"), ("crossed", "memo_map")]:
        body = webhook(name, "http://127.0.0.1:9/x", mapping=mapping)
        assert api.put(f"/api/definitions/shop/subscription/{name}", json=body).status_code == 200
        response = api.post(f"/api/definitions/shop/subscription/{name}/publish")
        assert response.status_code == 422, response.get_json()
        assert "mapping" in str(response.get_json()["error"])
