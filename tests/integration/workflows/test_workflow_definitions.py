"""Workflow definitions: JSON Schema errors with paths, cross-document checks at publish (entity, state
field, states against the choices, transitions, roles and rules that name transitions), versions and
rollback, templates."""

from __future__ import annotations

import copy

import pytest

from .bundle import FLOW, install

DEF = "/api/definitions/shop/workflow/order_flow"


@pytest.fixture
def shop(app, api):
    install(app, api, users=())
    return api


def _publish(api, body, url=DEF):
    put = api.put(url, json=body)
    if put.status_code != 200:
        return put
    return api.post(f"{url}/publish")


def _flow(**changes) -> dict:
    return {**copy.deepcopy(FLOW), **changes}


def test_schema_errors_carry_json_paths(shop):
    bad = _flow(initial=[], states=[{"name": "draft", "color": "pink", "lock": {"record": False}}],
                transitions=[{"name": "Go", "from": "draft"}])  # fmt: skip
    response = shop.put(DEF, json=bad)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert "initial" in fields
    assert "states/0/color" in fields and "states/0/lock" in fields
    assert any("'to' is a required property" in m for m in fields["transitions/0"])
    assert "transitions/0/name" in fields
    assert shop.get(DEF).get_json()["draft"] == FLOW  # the bad draft was not stored


def test_cross_document_checks_at_publish(shop):
    flow = _flow(state_field="note")
    flow["states"] = [*flow["states"][:3], {"name": "lost"}]
    flow["initial"] = ["draft", "gone"]
    flow["transitions"] = [
        {"name": "confirm", "from": "draft", "to": "confirmed", "condition": {"field": "nope", "op": "=", "value": 1}},
        {"name": "confirm", "from": ["ghost"], "to": "draft", "required_fields": ["total", "status", "missing"]},
        {"name": "loop", "from": "draft", "to": "draft"},
    ]  # fmt: skip
    flow["states"][1]["lock"] = {"fields": ["status", "nothing"]}
    response = _publish(shop, flow)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields["workflow:order_flow/state_field"] == ["'note' is not a select field of 'order'"]
    assert not any(k.startswith("workflow:order_flow/states") for k in fields)  # nothing checked past that
    assert fields["role:shipper/grants/0/transitions"] == ["'order' has no workflow transition 'ship'"]
    flow["state_field"] = "status"
    fields = _publish(shop, flow).get_json()["error"]["fields"]
    p = "workflow:order_flow"
    assert fields[f"{p}/states/3/name"] == ["'lost' is not a choice of the field 'status'"]
    assert fields[f"{p}/states"] == ["the choice 'cancelled' of 'status' is not declared as a state"]
    assert fields[f"{p}/initial/1"] == ["unknown state 'gone'"]
    assert fields[f"{p}/states/1/lock/fields"] == [
        "the state field changes by transitions only",
        "unknown field 'nothing'",
    ]
    assert any("nope" in m for m in fields[f"{p}/transitions/0/condition"])
    assert fields[f"{p}/transitions/1/name"] == ["duplicate transition 'confirm'"]
    assert fields[f"{p}/transitions/1/from"] == ["unknown state 'ghost'"]
    assert fields[f"{p}/transitions/1/required_fields"] == [
        "'total' is not a field that can be filled in", "the state field is set by the transition itself",
        "'missing' is not a field that can be filled in"]  # fmt: skip
    assert fields[f"{p}/transitions/2/to"] == [
        "'draft' is also a state it starts from: a transition changes the state"
    ]
    assert shop.get(DEF).get_json()["published_version"] == 1  # the template's version stays


def test_entity_default_must_be_initial_and_one_workflow_per_entity(shop):
    fields = _publish(shop, _flow(initial="confirmed")).get_json()["error"]["fields"]
    assert fields == {
        "workflow:order_flow/initial": ["the default 'draft' of 'status' is not an initial state"]
    }
    second = _publish(shop, _flow(name="other_flow"), "/api/definitions/shop/workflow/other_flow")
    assert second.status_code == 422
    assert second.get_json()["error"]["fields"] == {
        "workflow:other_flow/entity": ["entity 'order' already has the workflow 'order_flow'"]
    }
    child = _publish(
        shop, _flow(name="line_flow", entity="order_line"), "/api/definitions/shop/workflow/line_flow"
    )
    assert "child table" in child.get_json()["error"]["fields"]["workflow:line_flow/entity"][0]


def test_roles_and_rules_may_name_only_declared_transitions(shop):
    role = {"name": "clerk", "label": "Clerk", "grants": [
        {"entity": "order", "actions": ["read"], "transitions": ["confirm", "approve"]}]}  # fmt: skip
    response = _publish(shop, role, "/api/definitions/shop/role/clerk")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "role:clerk/grants/0/transitions": ["'order' has no workflow transition 'approve'"]
    }
    rule = {"name": "log_ship", "entity": "order", "trigger": {"events": ["create"], "transition": ["ship", "fly"]},
            "actions": [{"type": "refuse", "message": "no"}]}  # fmt: skip
    fields = _publish(shop, rule, "/api/definitions/shop/rule/log_ship").get_json()["error"]["fields"]
    assert fields == {
        "rule:log_ship/trigger/transition": ["'order' has no workflow transition 'fly'"],
        "rule:log_ship/trigger/events": [
            "a rule on a transition needs the 'update' event (a transition is an update)"
        ],
    }
    # removing a transition a role still grants is refused too
    flow = _flow(transitions=[t for t in FLOW["transitions"] if t["name"] != "ship"])
    fields = _publish(shop, flow).get_json()["error"]["fields"]
    assert fields["role:shipper/grants/0/transitions"] == ["'order' has no workflow transition 'ship'"]
    assert fields["rule:log_ship/trigger/transition"] == ["'order' has no workflow transition 'ship'"]


def test_versions_and_rollback_change_what_is_enforced(shop):
    url = "/api/data/shop/order"
    two_initial = _flow(initial=["draft", "confirmed"])
    assert _publish(shop, two_initial).status_code == 200
    created = shop.post(url, json={"customer": "A", "status": "confirmed"})
    assert created.status_code == 201, created.get_json()
    rolled = shop.post(f"{DEF}/rollback/1")
    assert rolled.status_code == 200, rolled.get_json()
    assert rolled.get_json()["version"] == 3
    assert shop.post(url, json={"customer": "A", "status": "confirmed"}).status_code == 422
    versions = shop.get(f"{DEF}/versions").get_json()["data"]
    assert [v["version"] for v in versions] == [3, 2, 1]


def test_export_carries_the_workflow(shop):
    bundle = shop.get("/api/templates/export/shop").get_json()
    assert bundle["workflows"] == [FLOW]
