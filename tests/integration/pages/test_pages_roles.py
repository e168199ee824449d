"""Pages follow the actor's roles: hidden fields never shown, read-only fields not editable, buttons
only for allowed actions, records outside the record rule not found."""

from __future__ import annotations

import pytest

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment

from .helpers import Browser, row_ids, text

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "crm", "label": "CRM"},
    "entities": [{
        "name": "deal", "label": "Deal", "title_field": "title",
        "fields": [
            {"name": "title", "type": "text", "required": True},
            {"name": "amount", "type": "money", "label": "Amount"},
            {"name": "cost", "type": "money", "label": "Secret cost"},
            {"name": "status", "type": "select", "default": "open",
             "options": {"choices": [{"value": "open"}, {"value": "won"}]}},
        ],
    }],
    "roles": [
        {"name": "sales", "label": "Sales", "grants": [{
            "entity": "deal", "actions": ["read", "create", "update"],
            "record_rule": {"field": "owner", "op": "=", "value": "$user.id"},
            "fields": {"cost": "hidden", "amount": "read_only"}}]},
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "deal", "actions": ["read"]}]},
    ],
}  # fmt: skip


@pytest.fixture
def crm(app, api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    with app.extensions["lowcode"].db.write() as s:
        for name, role in (("ann", "sales"), ("bob", "sales"), ("vic", "viewer")):
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="crm", role=role, granted_by="test"))
    for title, amount in (("Admin deal", "500"),):
        api.post("/api/data/crm/deal", json={"title": title, "amount": amount, "cost": "400"})
    return api


def _browser(app, username):
    browser = Browser(app.test_client())
    assert browser.login(username, PASSWORD).status_code == 303
    return browser


def test_hidden_and_read_only_fields_and_record_rules_in_pages(app, crm):
    ann = _browser(app, "ann")
    form = text(ann.get("/a/crm/deal/new"))
    assert "Secret cost" not in form and 'name="cost"' not in form
    assert 'name="amount"' not in form and 'id="f-amount">—</output>' in form  # read-only: shown, not posted
    response = ann.post("/a/crm/deal/new", {"title": "Ann's deal", "status": "open"})
    assert response.status_code == 303, text(response)
    deal_url = response.headers["Location"]
    detail = text(ann.get(deal_url))
    assert "Ann&#39;s deal" in detail and "Secret cost" not in detail
    assert f'href="{deal_url}/edit"' in detail and "/delete" not in detail  # no delete grant
    page = text(ann.get("/a/crm/deal"))
    assert "Secret cost" not in page and 'value="cost"' not in page  # neither column nor filter
    assert len(row_ids(page)) == 1  # only her own deal
    assert ann.get("/a/crm/deal/1").status_code == 404  # the admin's deal is outside her record rule
    assert ann.get("/a/crm/deal?field=cost&op==&value=400").status_code == 403
    assert _browser(app, "bob").get(deal_url).status_code == 404


def test_a_read_only_role_gets_no_write_buttons(app, crm):
    vic = _browser(app, "vic")
    assert "New" not in text(vic.get("/a/crm")).split("<main")[1]
    page = text(vic.get("/a/crm/deal"))
    assert "/a/crm/deal/new" not in page
    detail = text(vic.get("/a/crm/deal/1"))
    assert "Secret cost" in detail and "400.00" in detail
    assert "/edit" not in detail and "/delete" not in detail
    assert vic.get("/a/crm/deal/new").status_code == 403
    assert vic.post("/a/crm/deal/1/delete", {"version": "1"}).status_code == 403
