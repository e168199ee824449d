"""``POST /api/data/<app>/<entity>/reconcile``: an external system's ``(key, version or checksum)`` list against
the records - missing, extra (in the sent key range, or everywhere), differing, same - as the caller may read
them; malformed lists are 400s, too long ones 413, a hidden key 403, and nothing is written."""

from __future__ import annotations

import pytest

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment
from lowcode.runtime.reconcile import MAX_ITEMS, record_checksum
from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "rec", "label": "Rec"},
    "entities": [
        {"name": "sku", "label": "SKU", "fields": [
            {"name": "code", "type": "text", "required": True, "unique": True},
            {"name": "name", "type": "text"},
            {"name": "price", "type": "money"},
            {"name": "kind", "type": "select", "default": "a",
             "options": {"choices": [{"value": "a"}, {"value": "b"}]}}]},
    ],
    "roles": [
        {"name": "clerk", "label": "Clerk", "grants": [{
            "entity": "sku", "actions": ["read"],
            "record_rule": {"field": "kind", "op": "=", "value": "a"}}]},
        {"name": "blind", "label": "Blind", "grants": [{
            "entity": "sku", "actions": ["read"], "fields": {"code": "hidden"}}]},
    ],
}  # fmt: skip
SKUS = "/api/data/rec/sku"
URL = SKUS + "/reconcile"


@pytest.fixture
def rec(app, api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    with app.extensions["lowcode"].db.write() as s:
        for name, role in [("cora", "clerk"), ("bob", "blind")]:
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="rec", role=role, granted_by="test"))
    made = {}
    for code, kind in [("K01", "a"), ("K02", "a"), ("K03", "b"), ("K04", "a"), ("K09", "a")]:
        made[code] = api.post(
            SKUS, json={"code": code, "name": f"n{code}", "price": "1.10", "kind": kind}
        ).get_json()
    api.patch(f"{SKUS}/{made['K02']['id']}", json={"name": "renamed"}, headers={"If-Match": '"1"'})
    return made


def _as(app, username: str) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, username, PASSWORD))


def test_missing_extra_differing_and_same_by_version(api, rec):
    body = {
        "key": "code",
        "items": [
            {"key": "K01", "version": 1},
            {"key": "K02", "version": 1},  # we have version 2
            {"key": "K05", "version": 1},  # we do not have it
            {"key": "K04", "version": 1},
        ],
    }
    answer = api.post(URL, json=body).get_json()
    assert answer["missing"] == ["K05"]
    assert answer["differing"] == [{"key": "K02", "id": rec["K02"]["id"], "version": 2, "their_version": 1}]
    assert answer["same"] == 2
    # extra: only in the sent range K01..K05, so K03 is extra and K09 is not
    assert [e["key"] for e in answer["extra"]] == ["K03"]
    everywhere = api.post(URL, json={**body, "scope": "all"}).get_json()
    assert [e["key"] for e in everywhere["extra"]] == ["K03", "K09"]


def test_checksums_are_those_of_the_record_as_the_api_renders_it(api, rec):
    k1 = api.get(f"{SKUS}/{rec['K01']['id']}").get_json()
    items = [
        {"key": "K01", "checksum": record_checksum(k1)},
        {"key": "K04", "checksum": record_checksum({**k1, "code": "K04", "name": "stale"})},
    ]
    answer = api.post(URL, json={"key": "code", "items": items}).get_json()
    assert answer["same"] == 1
    assert [(d["key"], d["their_checksum"]) for d in answer["differing"]] == [("K04", items[1]["checksum"])]
    k4 = api.get(f"{SKUS}/{rec['K04']['id']}").get_json()
    assert answer["differing"][0]["checksum"] == record_checksum(k4)


def test_by_id_and_within_the_callers_record_rule(app, api, rec):
    ids = sorted(r["id"] for r in rec.values())
    answer = api.post(URL, json={"items": [{"key": i, "version": 1} for i in ids[:2]]}).get_json()
    assert answer["same"] == 1 and [d["key"] for d in answer["differing"]] == [str(ids[1])]
    clerk = _as(app, "cora")
    seen = clerk.post(
        URL, json={"key": "code", "items": [{"key": "K03", "version": 1}], "scope": "all"}
    ).get_json()
    assert seen["missing"] == ["K03"]  # outside the clerk's rule: as if it did not exist
    assert sorted(e["key"] for e in seen["extra"]) == ["K01", "K02", "K04", "K09"]


def test_a_hidden_key_is_refused(app, rec):
    response = _as(app, "bob").post(URL, json={"key": "code", "items": [{"key": "K01", "version": 1}]})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"key": "name", "items": []},  # not unique
        {"key": "code", "items": {}},
        {"key": "code", "items": [{"key": "K01"}]},
        {"key": "code", "items": [{"key": "K01", "version": 1, "checksum": "0" * 64}]},
        {"key": "code", "items": [{"key": "K01", "version": 0}]},
        {"key": "code", "items": [{"key": "K01", "version": True}]},
        {"key": "code", "items": [{"key": "K01", "checksum": "abc"}]},
        {"key": "code", "items": [{"key": 1.5, "version": 1}]},
        {"key": "code", "items": [{"key": "", "version": 1}]},
        {"key": "code", "items": [{"key": "K01", "version": 1}, {"key": "K01", "version": 2}]},
        {"key": "code", "items": [], "scope": "everything"},
        {"key": "code", "items": [], "extra": 1},
    ],
)
def test_malformed_lists_are_400(api, rec, body):
    response = api.post(URL, json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["message"]


def test_too_many_items_is_413_and_nothing_is_written(app, api, rec):
    before = api.get("/api/changes?app=rec&limit=1000").get_json()["data"]
    items = [{"key": f"X{i}", "version": 1} for i in range(MAX_ITEMS + 1)]
    assert api.post(URL, json={"key": "code", "items": items}).status_code == 413
    assert api.post(URL, json={"key": "code", "items": items[:3]}).status_code == 200
    assert api.get("/api/changes?app=rec&limit=1000").get_json()["data"] == before
