"""A rule with the longest name a key allows writes like any other: its audit entries keep the full name as the
actor, and the source (``rule:<name>``, longer than its column) never fails the write on PostgreSQL."""

from __future__ import annotations

NAME = "r" + "x" * 47  # the longest key: 48 characters
BUNDLE = {
    "app": {"name": "longnames", "label": "Long names"},
    "entities": [
        {"name": "item", "label": "Item", "fields": [{"name": "code", "type": "text"}]},
        {"name": "copy", "label": "Copy", "fields": [{"name": "code", "type": "text"}]},
    ],
    "rules": [
        {"name": NAME, "entity": "item", "trigger": {"events": ["create"], "phase": "after"},
         "actions": [{"type": "create_record", "entity": "copy", "values": {"code": "record.code"}}]},
    ],
}  # fmt: skip


def test_a_rule_with_a_48_character_name_writes_and_is_audited(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    response = api.post("/api/data/longnames/item", json={"code": "a"})
    assert response.status_code == 201, response.get_json()
    (copy,) = api.get("/api/data/longnames/copy").get_json()["data"]
    (created,) = api.get(f"/api/data/longnames/copy/{copy['id']}/history").get_json()["data"]
    assert created["actor"] == f"system:rule:{NAME}"
    assert created["source"] == f"rule:{NAME}"[:32]
