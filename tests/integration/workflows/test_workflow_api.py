"""Workflows through the API: created in an initial state only, the state field moves only along a
transition the caller may take (grant, condition, required fields), locks and delete refusals name the
state, the transition endpoint, the transitions listed on GET, rules fired by a transition."""

from __future__ import annotations

import pytest

from tests.conftest import ApiClient, login

from .bundle import PASSWORD, install

URL = "/api/data/shop/order"


@pytest.fixture
def shop(app, api):
    install(app, api)
    return api


def _as(app, username: str) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, username, PASSWORD))


def _order(client: ApiClient, **extra) -> dict:
    body = {"customer": "Acme", "lines": [{"item": "shirt", "amount": "10.00"}], **extra}
    response = client.post(URL, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _take(client: ApiClient, record: dict, name: str, body=None, version=None):
    version = record["version"] if version is None else version
    return client.post(
        f"{URL}/{record['id']}/transitions/{name}", json=body, headers={"If-Match": f'"{version}"'}
    )


def test_a_record_starts_in_an_initial_state(app, shop):
    cleo = _as(app, "cleo")
    order = _order(cleo)
    assert order["status"] == "draft"
    no_state = _order(cleo, status=None)
    assert no_state["status"] == "draft"  # an empty state field gets the first initial state
    for state in ("confirmed", "shipped", "cancelled"):
        response = cleo.post(URL, json={"customer": "Acme", "status": state})
        assert response.status_code == 422, state
        error = response.get_json()["error"]
        assert error["code"] == "validation_failed" and "'Draft'" in error["fields"]["status"][0]
    assert shop.post(URL, json={"customer": "Acme", "status": "shipped"}).status_code == 422  # admins too
    assert cleo.get(URL).get_json()["total"] == 2


def test_transition_endpoint_moves_the_state_and_lists_what_is_possible(app, shop):
    cleo = _as(app, "cleo")
    order = _order(cleo)
    offered = cleo.get(f"{URL}/{order['id']}").get_json()["_transitions"]
    assert [t["name"] for t in offered] == ["confirm", "cancel"]
    confirm = offered[0]
    assert confirm["to"] == "confirmed" and confirm["label"]["zh-CN"] == "确认"
    assert (
        confirm["confirm"] == {"en": "Confirm this order?", "zh-CN": "确认此订单？"}
        and confirm["fields"] == []
    )
    assert offered[1]["fields"] == ["cancel_reason"]
    response = _take(cleo, order, "confirm")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "confirmed" and body["version"] == order["version"] + 1
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert [t["name"] for t in body["_transitions"]] == ["cancel"]  # the clerk may not ship
    assert [t["name"] for t in _as(app, "sam").get(f"{URL}/{order['id']}").get_json()["_transitions"]] == [
        "ship"
    ]
    assert _as(app, "vic").get(f"{URL}/{order['id']}").get_json()["_transitions"] == []


def test_transition_needs_if_match_and_the_current_version(app, shop):
    cleo = _as(app, "cleo")
    order = _order(cleo)
    response = cleo.post(f"{URL}/{order['id']}/transitions/confirm")
    assert response.status_code == 428
    stale = _take(cleo, order, "confirm", version=order["version"] + 5)
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "version_conflict"
    assert cleo.get(f"{URL}/{order['id']}").get_json()["status"] == "draft"


def test_transition_refused_by_grant_state_condition_and_missing_fields(app, shop):
    cleo, sam = _as(app, "cleo"), _as(app, "sam")
    order = _order(cleo)
    empty = _order(cleo, lines=[])
    denied = _take(sam, order, "confirm")
    assert denied.status_code == 403 and "confirm" in denied.get_json()["error"]["message"]
    wrong_state = _take(sam, order, "ship")
    assert wrong_state.status_code == 409
    assert wrong_state.get_json()["error"]["code"] == "workflow_refused"
    assert "'Draft'" in wrong_state.get_json()["error"]["message"]
    condition = _take(cleo, empty, "confirm")
    assert condition.status_code == 409
    assert "a total above zero" in condition.get_json()["error"]["message"]
    missing = _take(cleo, order, "cancel")
    assert missing.status_code == 422 and "cancel_reason" in missing.get_json()["error"]["fields"]
    blank = _take(cleo, order, "cancel", {"cancel_reason": ""})
    assert blank.status_code == 422
    extra = _take(cleo, order, "cancel", {"cancel_reason": "no stock", "customer": "Other"})
    assert extra.status_code == 422 and "customer" in extra.get_json()["error"]["fields"]
    assert _take(cleo, order, "nope").status_code == 404
    assert cleo.get(f"{URL}/{order['id']}").get_json()["status"] == "draft"  # nothing changed
    done = _take(cleo, order, "cancel", {"cancel_reason": "no stock"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "cancelled" and done.get_json()["cancel_reason"] == "no stock"


def test_a_transition_grant_alone_is_enough_but_a_plain_update_is_not(app, shop):
    cleo, sam = _as(app, "cleo"), _as(app, "sam")
    order = _take(cleo, _order(cleo), "confirm").get_json()
    plain = sam.patch(
        f"{URL}/{order['id']}", json={"status": "shipped"}, headers={"If-Match": f'"{order["version"]}"'}
    )
    assert plain.status_code == 403  # no update grant
    shipped = _take(sam, order, "ship")
    assert shipped.status_code == 200, shipped.get_json()
    assert shipped.get_json()["status"] == "shipped"


def test_plain_updates_of_the_state_field_follow_the_transitions(app, shop):
    cleo = _as(app, "cleo")
    order = _order(cleo)

    def patch(record, body):
        return cleo.patch(f"{URL}/{record['id']}", json=body, headers={"If-Match": f'"{record["version"]}"'})

    jump = patch(order, {"status": "shipped"})
    assert (
        jump.status_code == 409 and "no transition leads to 'Shipped'" in jump.get_json()["error"]["message"]
    )
    not_granted = patch(order, {"status": "confirmed"})
    assert not_granted.status_code == 200, not_granted.get_json()  # 'confirm' is granted: the update takes it
    confirmed = not_granted.get_json()
    ship = patch(confirmed, {"status": "shipped"})
    assert ship.status_code == 403  # 'ship' is not the clerk's
    needs_reason = patch(confirmed, {"status": "cancelled"})
    assert needs_reason.status_code == 422 and "cancel_reason" in needs_reason.get_json()["error"]["fields"]
    back = patch(confirmed, {"status": "draft"})
    assert back.status_code == 409


def test_a_locked_record_refuses_changes_and_child_row_edits(app, shop):
    cleo = _as(app, "cleo")
    order = _take(cleo, _order(cleo), "confirm").get_json()
    headers = {"If-Match": f'"{order["version"]}"'}
    field = cleo.patch(f"{URL}/{order['id']}", json={"customer": "Other"}, headers=headers)
    assert field.status_code == 409
    error = field.get_json()["error"]
    assert error["code"] == "workflow_refused" and "'confirmed'" in error["message"].lower()
    assert list(error["fields"]) == ["customer"]
    line = order["lines"][0]
    same_total = [{"id": line["id"], "item": "socks", "amount": line["amount"]}]  # the total does not change
    child = cleo.patch(f"{URL}/{order['id']}", json={"lines": same_total}, headers=headers)
    assert child.status_code == 409 and list(child.get_json()["error"]["fields"]) == ["lines"]
    kept = {"id": line["id"], "item": line["item"], "amount": line["amount"]}
    added = cleo.patch(
        f"{URL}/{order['id']}", json={"lines": [kept, {"item": "hat", "amount": "0"}]}, headers=headers
    )
    assert added.status_code == 409
    unchanged = cleo.patch(
        f"{URL}/{order['id']}", json={"customer": "Acme", "lines": [kept]}, headers=headers
    )
    assert unchanged.status_code == 200, (
        unchanged.get_json()
    )  # sending the same values changes nothing locked
    order = unchanged.get_json()
    note = cleo.patch(
        f"{URL}/{order['id']}", json={"note": "call first"}, headers={"If-Match": f'"{order["version"]}"'}
    )
    assert note.status_code == 200, note.get_json()  # 'note' is excepted from the lock
    stored = cleo.get(f"{URL}/{order['id']}").get_json()
    assert (
        stored["customer"] == "Acme"
        and stored["lines"][0]["item"] == "shirt"
        and stored["note"] == "call first"
    )


def test_named_field_locks_and_required_fields_a_transition_may_set(app, shop):
    cleo = _as(app, "cleo")
    order = _take(cleo, _order(cleo), "confirm").get_json()
    cancelled = _take(
        cleo, order, "cancel", {"cancel_reason": "late"}
    )  # confirmed locks the record, not this
    assert cancelled.status_code == 200, cancelled.get_json()
    order = cancelled.get_json()
    headers = {"If-Match": f'"{order["version"]}"'}
    assert cleo.patch(f"{URL}/{order['id']}", json={"customer": "X"}, headers=headers).status_code == 409
    assert cleo.patch(f"{URL}/{order['id']}", json={"lines": []}, headers=headers).status_code == 409
    free = cleo.patch(f"{URL}/{order['id']}", json={"note": "refund sent"}, headers=headers)
    assert free.status_code == 200, free.get_json()
    assert free.get_json()["_transitions"] == []  # no transition leaves 'cancelled'


def test_delete_refused_where_the_state_forbids_it(app, shop):
    cleo = _as(app, "cleo")
    draft = _order(cleo)
    order = _take(cleo, _order(cleo), "confirm").get_json()
    refused = cleo.delete(f"{URL}/{order['id']}")
    assert refused.status_code == 409 and "cannot be deleted" in refused.get_json()["error"]["message"]
    assert cleo.get(f"{URL}/{order['id']}").status_code == 200
    assert shop.delete(f"{URL}/{order['id']}").status_code == 409  # the administrator too
    assert cleo.delete(f"{URL}/{draft['id']}").status_code == 204


def test_a_rule_on_a_transition_fires_once_by_endpoint_or_plain_update(app, shop):
    cleo, sam = _as(app, "cleo"), _as(app, "sam")
    first = _take(cleo, _order(cleo), "confirm").get_json()
    assert _take(sam, first, "ship").status_code == 200
    second = _take(cleo, _order(cleo), "confirm").get_json()
    plain = shop.patch(
        f"{URL}/{second['id']}", json={"status": "shipped"}, headers={"If-Match": f'"{second["version"]}"'}
    )
    assert plain.status_code == 200, plain.get_json()
    third = _take(cleo, _order(cleo), "confirm").get_json()
    assert (
        _take(cleo, third, "cancel", {"cancel_reason": "x"}).status_code == 200
    )  # another transition: no log
    logs = shop.get("/api/data/shop/shipment_log?sort=order_id").get_json()["data"]
    assert [(log["order_id"], log["what"]) for log in logs] == [
        (first["id"], "shipped"),
        (second["id"], "shipped"),
    ]


def test_openapi_describes_the_transition_endpoint(app, shop):
    doc = shop.get("/api/openapi.json").get_json()
    path = doc["paths"]["/api/data/shop/order/{id}/transitions/{name}"]
    name = next(p for p in path["parameters"] if p["name"] == "name")
    assert name["schema"]["enum"] == ["confirm", "ship", "cancel"]
    body = path["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert list(body["properties"]) == ["cancel_reason"] and body["additionalProperties"] is False
    assert {"200", "403", "409", "422", "428"} <= set(path["post"]["responses"])
    assert doc["components"]["schemas"]["shop.order"]["properties"]["_transitions"]["readOnly"] is True
    assert "/api/data/shop/shipment_log/{id}/transitions/{name}" not in doc["paths"]
    assert "409" not in doc["paths"]["/api/data/shop/shipment_log/{id}"]["delete"]["responses"]


def test_openapi_lists_only_the_transitions_a_user_may_take(app, shop):
    path = "/api/data/shop/order/{id}/transitions/{name}"
    clerk = _as(app, "cleo").get("/api/openapi.json").get_json()["paths"][path]
    assert next(p for p in clerk["parameters"] if p["name"] == "name")["schema"]["enum"] == [
        "confirm",
        "cancel",
    ]
    shipper = _as(app, "sam").get("/api/openapi.json").get_json()["paths"][path]
    assert next(p for p in shipper["parameters"] if p["name"] == "name")["schema"]["enum"] == ["ship"]
    body = shipper["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"] == {}  # only cancel needs a field, and the shipper may not cancel
    assert path not in _as(app, "vic").get("/api/openapi.json").get_json()["paths"]


def test_a_transition_grant_holds_within_its_record_rule(app, shop):
    cleo, cora = _as(app, "cleo"), _as(app, "cora")
    mine, theirs = _order(cleo), _order(cora)
    assert [t["name"] for t in cleo.get(f"{URL}/{mine['id']}").get_json()["_transitions"]] == [
        "confirm",
        "cancel",
    ]
    assert cleo.get(f"{URL}/{theirs['id']}").status_code == 404  # outside her record rule
    assert _take(cleo, theirs, "confirm").status_code == 403  # like an update outside it
    assert _take(cleo, mine, "confirm").status_code == 200
    assert cora.get(f"{URL}/{theirs['id']}").get_json()["status"] == "draft"


AUTO = {
    "name": "auto_state", "entity": "order", "trigger": {"events": ["update"], "phase": "before"},
    "actions": [{"type": "set_fields", "when": "note = 'auto confirm'", "values": {"status": "'confirmed'"}},
                {"type": "set_fields", "when": "note = 'auto ship'", "values": {"status": "'shipped'"}},
                {"type": "set_fields", "when": "note = 'rename'", "values": {"customer": "'Renamed'"}}],
}  # fmt: skip


def test_a_before_rule_that_changes_the_state_is_checked_again(app, shop):
    assert shop.put("/api/definitions/shop/rule/auto_state", json=AUTO).status_code == 200
    assert shop.post("/api/definitions/shop/rule/auto_state/publish").status_code == 200
    cleo = _as(app, "cleo")
    order = _order(cleo)

    def note(record, text):
        return cleo.patch(
            f"{URL}/{record['id']}", json={"note": text}, headers={"If-Match": f'"{record["version"]}"'}
        )

    skipped = note(order, "auto ship")
    assert (
        skipped.status_code == 409
        and "no transition leads to 'Shipped'" in skipped.get_json()["error"]["message"]
    )
    confirmed = note(order, "auto confirm")
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["status"] == "confirmed"  # 'confirm' taken, within the clerk's grant
    renamed = note(confirmed.get_json(), "rename")  # the rule changes a field the 'confirmed' state locks
    assert renamed.status_code == 409 and list(renamed.get_json()["error"]["fields"]) == ["customer"]
    assert cleo.get(f"{URL}/{order['id']}").get_json()["customer"] == "Acme"
