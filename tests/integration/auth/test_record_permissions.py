"""Roles enforced on records through the API: actions, record rules as SQL, hidden and read-only fields,
context conditions, sensitive operations, and denials audited."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from lowcode.auth.users import create_user
from lowcode.core.models import Department, RoleAssignment, SecurityEvent
from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {
        "name": "crm",
        "label": "CRM",
        "sensitive_operations": [
            {"name": "price_change", "entity": "deal", "action": "update", "fields": ["amount"]},
            {"name": "void", "entity": "deal", "action": "update", "fields": ["status"],
             "condition": {"field": "status", "op": "=", "value": "void"}},
        ],
    },
    "entities": [{
        "name": "deal", "label": "Deal",
        "fields": [
            {"name": "title", "type": "text", "required": True},
            {"name": "amount", "type": "money"},
            {"name": "cost", "type": "money"},
            {"name": "status", "type": "select", "default": "open",
             "options": {"choices": [{"value": "open"}, {"value": "won"}, {"value": "void"}]}},
        ],
    }],
    "roles": [
        {"name": "sales", "label": "Sales", "grants": [{
            "entity": "deal", "actions": ["read", "create", "update"],
            "record_rule": {"field": "owner", "op": "=", "value": "$user.id"},
            "fields": {"cost": "hidden"}}]},
        {"name": "lead", "label": "Team lead", "operations": ["price_change"], "grants": [{
            "entity": "deal", "actions": ["read", "update"],
            "record_rule": {"field": "owner", "op": "in", "value": "$user.department_members"}}]},
        {"name": "auditor", "label": "Auditor", "grants": [{
            "entity": "deal", "actions": ["read"], "fields": {"cost": "read_only"},
            "context": {"ip_in": ["10.0.0.0/8"]}}]},
        {"name": "analyst", "label": "Analyst", "grants": [{
            "entity": "deal", "actions": ["read", "export"], "fields": {"cost": "hidden"}}]},
        {"name": "nobody", "label": "No grants"},
    ],
}  # fmt: skip


@pytest.fixture
def crm(app, api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    svc = app.extensions["lowcode"]
    users = {}
    with svc.db.write() as s:
        north = Department(name="North", path="/")
        s.add(north)
        s.flush()
        north.path = f"/{north.id}/"
        for name, role, dept in [("ann", "sales", north.id), ("bob", "sales", north.id), ("cat", "sales", None),
                                 ("lee", "lead", north.id), ("aud", "auditor", None), ("nor", "nobody", None), ("ana", "analyst", None),
                                 ("zed", None, None)]:  # fmt: skip
            user = create_user(s, name, PASSWORD)
            user.department_id = dept
            if role:
                s.add(RoleAssignment(user_id=user.id, app="crm", role=role, granted_by="test"))
            users[name] = user.id
    return users


def client_for(app, username, ip="127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return ApiClient(client, login(client, username, PASSWORD))


def test_record_rule_limits_reads_counts_and_writes(app, crm):
    ann, bob = client_for(app, "ann"), client_for(app, "bob")
    mine = [
        ann.post("/api/data/crm/deal", json={"title": f"a{i}", "amount": "10"}).get_json()["id"]
        for i in range(3)
    ]
    theirs = bob.post("/api/data/crm/deal", json={"title": "b"}).get_json()["id"]
    listed = ann.get("/api/data/crm/deal?limit=2").get_json()
    assert listed["total"] == 3 and listed["next"] is not None
    page2 = ann.get(f"/api/data/crm/deal?limit=2&after={listed['next']}").get_json()
    assert sorted(r["id"] for r in listed["data"] + page2["data"]) == sorted(mine)
    assert ann.get(f"/api/data/crm/deal/{theirs}").status_code == 404
    refused = ann.patch(f"/api/data/crm/deal/{theirs}", json={"title": "hijack", "version": 1})
    assert refused.status_code == 403
    assert bob.get(f"/api/data/crm/deal/{theirs}").get_json()["title"] == "b"


def test_department_subtree_rule_for_the_lead(app, crm):
    ann, cat, lee = client_for(app, "ann"), client_for(app, "cat"), client_for(app, "lee")
    north_deal = ann.post("/api/data/crm/deal", json={"title": "n", "amount": "5"}).get_json()["id"]
    cat.post("/api/data/crm/deal", json={"title": "elsewhere"})
    seen = lee.get("/api/data/crm/deal").get_json()
    assert [r["id"] for r in seen["data"]] == [north_deal] and seen["total"] == 1
    changed = lee.patch(f"/api/data/crm/deal/{north_deal}", json={"amount": "7", "version": 1})
    assert changed.status_code == 200  # the lead holds the sensitive price_change operation
    assert lee.post("/api/data/crm/deal", json={"title": "x"}).status_code == 403  # no create grant


def test_hidden_field_never_leaves_and_is_never_written(app, crm):
    ann = client_for(app, "ann")
    created = ann.post("/api/data/crm/deal", json={"title": "t"})
    assert created.status_code == 201 and "cost" not in created.get_json()
    deal = created.get_json()["id"]
    assert ann.post("/api/data/crm/deal", json={"title": "t2", "cost": "1"}).status_code == 422
    assert ann.patch(f"/api/data/crm/deal/{deal}", json={"cost": "9", "version": 1}).status_code == 422
    assert "cost" not in ann.get(f"/api/data/crm/deal/{deal}").get_json()
    assert all("cost" not in r for r in ann.get("/api/data/crm/deal").get_json()["data"])
    cond = json.dumps({"field": "cost", "op": ">", "value": "0"})
    assert ann.get(f"/api/data/crm/deal?filter={cond}").status_code == 403  # no probing by filter
    assert ann.get("/api/data/crm/deal?sort=cost").status_code == 403
    admin = client_for_admin(app)
    assert admin.get(f"/api/data/crm/deal/{deal}").get_json()["cost"] is None  # nothing was written
    admin.patch(f"/api/data/crm/deal/{deal}", json={"cost": "3.00", "version": 1})
    history = ann.get(f"/api/data/crm/deal/{deal}/history").get_json()["data"]
    assert all("cost" not in h["diff"] for h in history)


def client_for_admin(app):
    client = app.test_client()
    return ApiClient(client, login(client, "admin", "root-pass-2026"))


def test_sensitive_operations_need_an_explicit_grant(app, crm):
    ann = client_for(app, "ann")
    deal = ann.post("/api/data/crm/deal", json={"title": "t", "amount": "100"}).get_json()
    url = f"/api/data/crm/deal/{deal['id']}"
    response = ann.patch(url, json={"amount": "90", "version": 1})
    assert response.status_code == 403 and "price_change" in response.get_json()["error"]["message"]
    assert ann.patch(url, json={"status": "won", "version": 1}).status_code == 200  # not 'void'
    voided = ann.patch(url, json={"status": "void", "version": 2})
    assert voided.status_code == 403 and "void" in voided.get_json()["error"]["message"]
    assert client_for_admin(app).get(url).get_json()["amount"] == "100.00"


def test_context_conditions_and_read_only_fields(app, crm):
    assert client_for(app, "aud").get("/api/data/crm/deal").status_code == 403
    inside = client_for(app, "aud", ip="10.1.2.3")
    assert inside.get("/api/data/crm/deal").status_code == 200
    assert inside.post("/api/data/crm/deal", json={"title": "x"}).status_code == 403


@pytest.mark.parametrize("username", ["nor", "zed"])
def test_no_grant_means_nothing_and_denials_are_audited(app, crm, username):
    user = client_for(app, username)
    for response in (user.get("/api/data/crm/deal"), user.post("/api/data/crm/deal", json={"title": "x"}),
                     user.get("/api/definitions/crm/entity/deal"), user.post("/api/templates/import", json=BUNDLE)):  # fmt: skip
        assert response.status_code == 403, response.get_json()
        assert response.get_json()["error"]["code"] == "forbidden"
    with app.extensions["lowcode"].db.read() as s:
        denials = s.scalars(
            sa.select(SecurityEvent).where(
                SecurityEvent.kind == "permission_denied", SecurityEvent.username == username
            )
        ).all()
        assert len(denials) == 4 and denials[0].detail["path"] == "/api/data/crm/deal"
    assert client_for_admin(app).get("/api/data/crm/deal").get_json()["total"] == 0


def test_sign_in_is_rate_limited_per_account(app, crm):
    client = app.test_client()
    for _ in range(5):
        assert (
            client.post("/api/auth/login", json={"username": "ann", "password": "wrong-pass"}).status_code
            == 401
        )
    locked = client.post("/api/auth/login", json={"username": "ann", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_json()["error"]["message"]
    assert client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD}).status_code == 200


def test_export_needs_the_action_hides_fields_and_escapes_formulas(app, crm):
    admin = client_for_admin(app)
    admin.post(
        "/api/data/crm/deal", json={"title": '=HYPERLINK("http://x")', "amount": "1.50", "cost": "0.70"}
    )
    admin.post("/api/data/crm/deal", json={"title": "plain, with comma", "amount": "2", "cost": "1"})
    assert client_for(app, "ann").get("/api/data/crm/deal/export.csv").status_code == 403
    response = client_for(app, "ana").get("/api/data/crm/deal/export.csv?sort=id")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "id,title,amount,status"  # cost is hidden from the analyst
    assert lines[1].split(",")[1].startswith("\"'=HYPERLINK")
    assert lines[2] == f'{lines[2].split(",")[0]},"plain, with comma",2.00,open'
    full = admin.get("/api/data/crm/deal/export.csv").get_data(as_text=True)
    assert "cost" in full.splitlines()[0] and "0.70" in full
    with app.extensions["lowcode"].db.read() as s:
        events = s.execute(
            sa.text("SELECT username, detail FROM lc_security_event WHERE kind = 'data_exported' ORDER BY id")
        ).all()
    assert [e.username for e in events] == ["ana", "admin"]  # the refused export is not an export
    detail = events[0].detail if isinstance(events[0].detail, dict) else json.loads(events[0].detail)
    assert detail["rows"] == 2 and detail["entity"] == "deal" and detail["api"] is True


def test_using_a_role_records_the_assignment_use_for_the_review(app, crm):
    def last_used():
        with app.extensions["lowcode"].db.read() as s:
            return s.scalar(
                sa.select(RoleAssignment.last_used_at).where(RoleAssignment.user_id == crm["ann"])
            )

    assert last_used() is None
    assert client_for(app, "ann").get("/api/data/crm/deal").status_code == 200
    first = last_used()
    assert first is not None
    client_for(app, "ann").get("/api/data/crm/deal")
    assert last_used() == first  # refreshed at most once a day
