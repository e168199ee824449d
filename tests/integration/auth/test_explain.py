"""Explain ("what may U do on E, and why") and the permission review report."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lowcode.core.models import RoleAssignment, utcnow

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "crm", "label": "CRM", "sensitive_operations": [
        {"name": "discount", "entity": "deal", "action": "update", "fields": ["amount"]},
        {"name": "void", "entity": "deal", "action": "update", "condition": {"field": "stage", "op": "=", "value": "void"}},
    ]},
    "entities": [{"name": "deal", "label": "Deal", "fields": [
        {"name": "title", "type": "text"}, {"name": "amount", "type": "money"}, {"name": "margin", "type": "money"},
        {"name": "stage", "type": "text"},
    ]}],
    "roles": [
        {"name": "sales", "label": "Sales", "grants": [{
            "entity": "deal", "actions": ["read", "create", "update"],
            "record_rule": {"field": "owner", "op": "=", "value": "$user.id"}, "fields": {"margin": "hidden"}}]},
        {"name": "office", "label": "Office", "operations": ["discount"], "grants": [{
            "entity": "deal", "actions": ["read", "update", "export"], "fields": {"stage": "read_only"},
            "context": {"ip_in": ["192.168.0.0/16"], "min_level": 2}}]},
        {"name": "chief", "label": "Chief", "admin": True},
    ],
}  # fmt: skip


@pytest.fixture
def crm(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    ids = {}
    for name, level in (("sam", 5), ("cat", 0), ("kim", 0), ("zoe", 0)):
        body = {"username": name, "password": PASSWORD, "level": level}
        ids[name] = api.post("/api/admin/users", json=body).get_json()["id"]
    for name, role in (("sam", "sales"), ("sam", "office"), ("cat", "office"), ("kim", "chief")):
        body = {"user_id": ids[name], "app": "crm", "role": role}
        ids[f"{name}.{role}"] = api.post("/api/admin/assignments", json=body).get_json()["id"]
    return ids


def explain(api, user, ip=""):
    response = api.get(f"/api/admin/explain?user={user}&app=crm&entity=deal&ip={ip}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_explain_names_the_record_rule_hidden_field_and_a_failing_address_condition(api, crm):
    body = explain(api, "sam", ip="10.1.2.3")
    assert [r["role"] for r in body["roles"]] == ["office", "sales"]
    read = body["actions"]["read"]
    assert read["allowed"] and read["via"] == ["role 'sales'"]
    sales, office = (next(g for g in read["grants"] if g["role"] == r) for r in ("sales", "office"))
    assert sales["usable"] and sales["record_rule"] == {"field": "owner", "op": "=", "value": "$user.id"}
    assert sales["hidden_fields"] == ["margin"]
    assert body["hidden_fields"] == ["margin"] and body["read_filter"] == {"any": [sales["record_rule"]]}
    assert not office["usable"]
    ip_rule, level_rule = office["context"]
    assert ip_rule["condition"] == "ip_in" and ip_rule["holds"] is False
    assert ip_rule["reason"] == "role 'office' only allows requests from 192.168.0.0/16"
    assert level_rule == {"condition": "min_level", "value": 2, "holds": True, "reason": None}
    export = body["actions"]["export"]
    assert not export["allowed"] and "192.168.0.0/16" in export["reason"] and export["via"] == []
    assert not body["actions"]["delete"]["allowed"]
    assert "no role that grants 'delete'" in body["actions"]["delete"]["reason"]
    ops = {op["name"]: op for op in body["actions"]["update"]["sensitive"]}
    assert ops["discount"]["held"] and ops["discount"]["fields"] == ["amount"]  # held through 'office'
    assert not ops["void"]["held"] and ops["void"]["condition"] == {
        "field": "stage",
        "op": "=",
        "value": "void",
    }
    assert body["actions"]["create"]["sensitive"] == []
    assert [a["role"] for a in body["assignments"] if a["in_force"]] == ["sales", "office"]


def test_from_an_allowed_address_the_context_holds_and_both_roles_count(api, crm):
    body = explain(api, "sam", ip="192.168.4.4")
    assert body["actions"]["export"]["allowed"] and body["actions"]["export"]["via"] == ["role 'office'"]
    assert all(c["holds"] for g in body["actions"]["read"]["grants"] for c in g["context"])
    assert body["read_filter"] is None  # 'office' reads without a record rule
    assert body["hidden_fields"] == []  # office does not hide margin, so it is visible
    low = explain(api, crm["cat"], ip="192.168.4.4")  # by id; level 0 is below min_level 2
    reasons = [c["reason"] for c in low["actions"]["read"]["grants"][0]["context"] if not c["holds"]]
    assert reasons == ["role 'office' needs user level 2 or higher"] and not low["actions"]["read"]["allowed"]
    assert low["read_only_fields"] == ["stage"]


def test_explain_admins_users_without_roles_and_bad_requests(api, crm):
    chief = explain(api, "kim")
    assert all(a["allowed"] for a in chief["actions"].values())
    assert chief["actions"]["update"]["via"] == ["role 'chief' (app administrator)"]
    assert all(op["held"] for op in chief["actions"]["update"]["sensitive"])
    platform = explain(api, "admin")
    assert platform["actions"]["delete"]["via"] == ["platform administrator"] and platform["roles"] == []
    nobody = explain(api, "zoe")
    assert not any(a["allowed"] for a in nobody["actions"].values()) and nobody["hidden_fields"] == [
        "amount", "margin", "stage", "title"
    ]  # fmt: skip
    api.patch(f"/api/admin/users/{crm['sam']}", json={"active": False})
    inactive = explain(api, "sam", ip="192.168.4.4")
    assert (
        not inactive["actions"]["read"]["allowed"] and "not active" in inactive["actions"]["read"]["reason"]
    )
    assert api.get("/api/admin/explain?user=ghost&app=crm&entity=deal").status_code == 404
    assert api.get("/api/admin/explain?user=sam&app=crm&entity=nope").status_code == 404
    assert api.get("/api/admin/explain?user=sam&app=crm").status_code == 400


def test_review_lists_admins_unused_and_past_end_assignments(app, api, crm):
    now = utcnow()
    with app.extensions["lowcode"].db.write() as s:

        def move(key, **values):
            s.execute(sa.update(RoleAssignment).where(RoleAssignment.id == crm[key]).values(**values))

        move("sam.sales", starts_at=now - dt.timedelta(days=200))  # never used, old
        move("sam.office", starts_at=now - dt.timedelta(days=200), last_used_at=now - dt.timedelta(days=91))
        move("cat.office", starts_at=now - dt.timedelta(days=200), last_used_at=now - dt.timedelta(days=3))
    ended = api.delete(f"/api/admin/assignments/{crm['kim.chief']}").get_json()["id"]
    dated = api.post("/api/admin/assignments", json={"user_id": crm["zoe"], "app": "crm", "role": "sales",
                                                     "ends_at": (now + dt.timedelta(days=1)).isoformat()})  # fmt: skip
    report = api.get("/api/admin/review").get_json()
    assert [(a["username"], a["via"]) for a in report["admins"]] == [("admin", "platform administrator")]
    assert sorted(a["id"] for a in report["unused_assignments"]) == sorted(
        [crm["sam.sales"], crm["sam.office"]]
    )
    assert {a["user"] for a in report["unused_assignments"]} == {"sam"}
    assert [a["id"] for a in report["past_end_assignments"]] == [ended]
    assert dated.get_json()["id"] not in [a["id"] for a in report["past_end_assignments"]]
    api.post("/api/admin/assignments", json={"user_id": crm["kim"], "app": "crm", "role": "chief"})
    admins = api.get("/api/admin/review").get_json()["admins"]
    assert ("kim", "role 'crm.chief' (app administrator)") in [(a["username"], a["via"]) for a in admins]
