"""Cascades: after-rules of records changed by other rules run too; cycles and runaway depth are refused
with the chain that formed them, and the whole write rolls back."""

from __future__ import annotations

import pytest

BUNDLE = {
    "app": {"name": "loop", "label": "Loop"},
    "entities": [
        {"name": "node", "label": "Node", "fields": [
            {"name": "hits", "type": "integer", "default": 0},
            {"name": "next_id", "type": "integer"},
            {"name": "mode", "type": "text"}]},
    ],
    "rules": [
        {"name": "poke_next", "entity": "node",
         "trigger": {"events": ["update"], "phase": "after", "fields_changed": ["hits"]},
         "actions": [{"type": "update_records", "entity": "node", "expect": "any", "when": "next_id != null",
                      "where": {"field": "id", "op": "=", "value": "$record.next_id"},
                      "set": {"hits": "hits + 1"}}]},
    ],
}  # fmt: skip


@pytest.fixture
def loop(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    return api


def _node(api, **values):
    return api.post("/api/data/loop/node", json=values).get_json()


def test_a_chain_of_rules_runs_through_atomic_updates(loop):
    c = _node(loop)
    b = _node(loop, next_id=c["id"])
    a = _node(loop, next_id=b["id"])
    assert loop.patch(f"/api/data/loop/node/{a['id']}", json={"hits": 1, "version": 1}).status_code == 200
    assert [loop.get(f"/api/data/loop/node/{n['id']}").get_json()["hits"] for n in (a, b, c)] == [1, 1, 1]


def test_a_cycle_is_refused_with_its_chain_and_rolls_back(loop):
    a = _node(loop)
    b = _node(loop, next_id=a["id"])
    loop.patch(f"/api/data/loop/node/{a['id']}", json={"next_id": b["id"], "version": 1})
    response = loop.patch(f"/api/data/loop/node/{a['id']}", json={"hits": 5, "version": 2})
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert message.startswith("Refused: rule cycle poke_next(node ")
    assert f"poke_next(node {a['id']}) -> poke_next(node {b['id']}) -> poke_next(node {a['id']})" in message
    assert loop.get(f"/api/data/loop/node/{a['id']}").get_json()["hits"] == 0
    assert loop.get(f"/api/data/loop/node/{b['id']}").get_json()["hits"] == 0


def test_a_long_cascade_stops_at_the_depth_limit(loop):
    nodes = [_node(loop)]
    for _ in range(12):
        nodes.append(_node(loop, next_id=nodes[-1]["id"]))
    head = nodes[-1]
    response = loop.patch(f"/api/data/loop/node/{head['id']}", json={"hits": 1, "version": 1})
    assert response.status_code == 422
    assert "cascade deeper than 8" in response.get_json()["error"]["message"]
    assert all(loop.get(f"/api/data/loop/node/{n['id']}").get_json()["hits"] == 0 for n in nodes)
    short = nodes[3]  # a 3-step chain stays within the limit
    assert loop.patch(f"/api/data/loop/node/{short['id']}", json={"hits": 1, "version": 1}).status_code == 200
