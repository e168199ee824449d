"""``/api/openapi.json`` describes only what the caller may use: sign-in for anonymous callers, the
granted entities, operations and transitions (never hidden field names) for users, everything for admins."""

from __future__ import annotations

import json

import pytest

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment
from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "crm", "label": "CRM"},
    "entities": [
        {"name": "deal", "label": "Deal", "fields": [
            {"name": "title", "type": "text", "required": True},
            {"name": "amount", "type": "money"},
            {"name": "secret_margin", "type": "money"},
            {"name": "lines", "type": "child_table", "options": {"entity": "deal_line"}}]},
        {"name": "deal_line", "label": "Deal line", "child": True, "fields": [
            {"name": "item", "type": "text"}]},
        {"name": "payroll", "label": "Payroll", "fields": [
            {"name": "employee", "type": "text"}, {"name": "salary_figure", "type": "money"}]},
    ],
    "roles": [
        {"name": "sales", "label": "Sales", "grants": [{
            "entity": "deal", "actions": ["read", "create", "update"],
            "fields": {"secret_margin": "hidden", "amount": "read_only"}}]},
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "deal", "actions": ["read"],
                                                          "fields": {"secret_margin": "hidden"}}]},
        {"name": "nobody", "label": "No grants"},
    ],
}  # fmt: skip
DEAL, ITEM = "/api/data/crm/deal", "/api/data/crm/deal/{id}"
SIGN_IN = {"/api/auth/login", "/api/auth/refresh"}
SELF = {"/api/auth/logout", "/api/auth/me", "/api/notifications", "/api/notifications/{id}/read",
        "/api/notifications/read-all", "/api/changes"}  # fmt: skip


@pytest.fixture
def crm(app, api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    with app.extensions["lowcode"].db.write() as s:
        for name, role in [("sal", "sales"), ("vie", "viewer"), ("nob", "nobody")]:
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="crm", role=role, granted_by="test"))
    return api


def _doc(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _doc_of(app, username: str) -> dict:
    client = app.test_client()
    return _doc(ApiClient(client, login(client, username, PASSWORD)))


def _operations(doc: dict) -> set[tuple[str, str]]:
    return {(m, p) for p, ops in doc["paths"].items() for m in ops if m != "parameters"}


def test_anonymous_callers_see_only_the_sign_in_operations(app, crm):
    for client in (app.test_client(), ApiClient(app.test_client(), "not-a-valid-token")):
        doc = _doc(client)
        assert set(doc["paths"]) == SIGN_IN
        assert set(doc["components"]["schemas"]) == {"Error"}
        text = json.dumps(doc)
        assert "crm" not in text and "deal" not in text and "payroll" not in text
        assert doc["paths"]["/api/auth/login"]["post"]["security"] == []


def test_a_user_sees_only_granted_operations_and_no_hidden_field(app, crm):
    doc = _doc_of(app, "sal")
    assert _operations(doc) == {
        ("post", "/api/auth/login"), ("post", "/api/auth/refresh"), ("post", "/api/auth/logout"),
        ("get", "/api/auth/me"), ("get", "/api/notifications"), ("post", "/api/notifications/{id}/read"),
        ("post", "/api/notifications/read-all"), ("get", "/api/changes"), ("get", DEAL), ("post", DEAL), ("get", ITEM),
        ("patch", ITEM), ("patch", DEAL),
        ("get", ITEM + "/history"), ("post", ITEM + "/restore"),
    }  # fmt: skip
    assert set(doc["components"]["schemas"]) == {"Error", "crm.deal", "crm.deal_line"}
    deal = doc["components"]["schemas"]["crm.deal"]
    assert {"title", "amount", "lines"} <= set(deal["properties"])
    assert deal["properties"]["amount"]["readOnly"] is True  # read-only for sales: not sendable
    assert "readOnly" not in deal["properties"]["title"]
    text = json.dumps(doc)
    assert "secret_margin" not in text and "payroll" not in text and "salary_figure" not in text


def test_a_reader_sees_reads_only_and_a_user_without_grants_sees_sign_in_only(app, crm):
    viewer = _doc_of(app, "vie")
    assert {p for _, p in _operations(viewer)} - SIGN_IN - SELF == {
        DEAL,
        ITEM,
        ITEM + "/history",
    }
    assert {m for m, p in _operations(viewer) if p.startswith("/api/data")} == {"get"}
    assert "secret_margin" not in json.dumps(viewer)
    assert not any(p.startswith(("/api/admin", "/api/rules", "/api/definitions")) for p in viewer["paths"])
    nobody = _doc_of(app, "nob")
    assert set(nobody["paths"]) == SIGN_IN | SELF
    assert set(nobody["components"]["schemas"]) == {"Error"}


def test_an_admin_sees_every_entity_operation_and_field(crm):
    doc = _doc(crm)
    assert {"crm.deal", "crm.deal_line", "crm.payroll"} <= set(doc["components"]["schemas"])
    assert "secret_margin" in doc["components"]["schemas"]["crm.deal"]["properties"]
    ops = _operations(doc)
    for path in (DEAL, "/api/data/crm/payroll"):
        assert {("get", path), ("post", path), ("get", path + "/export.csv")} <= ops
        item = path + "/{id}"
        assert {("get", item), ("patch", item), ("delete", item), ("post", item + "/restore")} <= ops
    assert {("get", "/api/admin/users"), ("get", "/api/rules/{app}/runs"), ("get", "/api/definitions")} <= ops
    deal = doc["components"]["schemas"]["crm.deal"]["properties"]
    assert deal["lines"]["items"]["$ref"] == "#/components/schemas/crm.deal_line"
