"""The role designer: the app's roles, a new role, the grid of tables x actions, per grant the field rules, the
record rule (condition builder, ``$user`` facts), context conditions and transitions; sensitive operations and
the admin flag; every change a draft step (undo, redo, 409) audited, published through the publish page with
the role editor's security event; explain for a holder on a record; and who may not use it - an app's viewer,
a table's designer (configure on one table), anyone on another app - with hostile input that saves nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lowcode.core.models import SecurityEvent
from tests.integration.pages.helpers import Browser, add_role_users, signed_in, text

PASSWORD = "user-pass-123"
ROLES = "/design/crm/roles"
ROLE = "/design/crm/role/clerk"
STATUS = {"en": "Status"}
CHOICES = [{"value": v} for v in ("draft", "open", "won")]
BUNDLE = {
    "app": {
        "name": "crm",
        "label": "CRM",
        "sensitive_operations": [{"name": "drop_deal", "entity": "deal", "action": "delete"}],
    },
    "entities": [
        {
            "name": "deal",
            "label": {"en": "Deal", "zh-CN": "商机"},
            "title_field": "title",
            "fields": [
                {"name": "title", "type": "text", "label": {"en": "Title", "zh-CN": "标题"}},
                {"name": "amount", "type": "money", "label": {"en": "Amount", "zh-CN": "金额"}},
                {"name": "margin", "type": "money", "label": {"en": "Margin", "zh-CN": "毛利"}},
                {
                    "name": "status",
                    "type": "select",
                    "label": STATUS,
                    "default": "draft",
                    "options": {"choices": CHOICES},
                },
            ],
        },
        {"name": "note", "label": "Note", "fields": [{"name": "body", "type": "text"}]},
    ],
    "workflows": [
        {
            "name": "deal_flow",
            "entity": "deal",
            "state_field": "status",
            "initial": "draft",
            "states": [{"name": "draft"}, {"name": "open"}, {"name": "won"}],
            "transitions": [
                {"name": "submit", "label": {"en": "Submit"}, "from": "draft", "to": "open"},
                {"name": "win", "from": "open", "to": "won", "automatic": True},
            ],
        }
    ],
    "roles": [
        {"name": "boss", "label": "Boss", "admin": True},
        {"name": "clerk", "label": "Clerk", "grants": [{"entity": "note", "actions": ["read"]}]},
        {
            "name": "builder",
            "label": "Builder",
            "grants": [{"entity": "deal", "actions": ["read", "configure"]}],
        },
    ],
}
OTHER = {
    "app": {"name": "hr", "label": "HR"},
    "entities": [{"name": "salary", "label": "Salary", "fields": [{"name": "pay", "type": "money"}]}],
    "roles": [{"name": "hr_boss", "label": "HR boss", "admin": True}],
}


@pytest.fixture
def crm(app, api):
    for bundle in (BUNDLE, OTHER):
        response = api.post("/api/templates/import", json=bundle)
        assert response.status_code == 201, response.get_json()
    add_role_users(app, "crm", {"bo": "boss", "cleo": "clerk", "bea": "builder"}, PASSWORD)
    add_role_users(app, "hr", {"hank": "hr_boss"}, PASSWORD)
    return api


def base_of(page: str) -> str:
    return re.search(r'name="base" value="(\d+)"', page).group(1)


def role_doc(api, name: str = "clerk") -> dict:
    body = api.get(f"/api/definitions/crm/role/{name}").get_json()
    return body["draft"] or body["published"]


def edit(browser: Browser, section: str, data, expect: int = 303, url: str = ROLE):
    page = text(browser.get(url))
    pairs = list(data.items()) if isinstance(data, dict) else list(data)
    response = browser.post(f"{url}/edit/{section}", [("base", base_of(page)), *pairs])
    assert response.status_code == expect, text(response)[-3000:]
    return response


def events(app, kind: str) -> list[dict]:
    with app.extensions["lowcode"].db.read() as s:
        rows = s.scalars(
            sa.select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id)
        )
        return [{"user": r.username, **r.detail} for r in rows]


def deal_grant(api) -> dict:
    return next(g for g in role_doc(api)["grants"] if g["entity"] == "deal")


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_role_list_and_page_show_the_grid(app, crm, designer, language):
    if language != "en":
        assert designer.post("/language", {"lang": language, "next": ROLES}).status_code in (302, 303)
    listing = text(designer.get(ROLES))
    assert 'data-role="clerk"' in listing and 'data-role="boss"' in listing and "new-role-form" in listing
    page = text(designer.get(ROLE))
    for action in ("read", "create", "update", "delete", "export", "import", "approve", "configure"):
        assert f'value="{action}"' in page
    assert 'name="act:0" value="read" checked' in page  # the note grant
    assert 'name="act:+deal" value="read"' in page  # deal: no grant yet
    assert 'id="operations"' in page and 'value="drop_deal"' in page
    if language == "zh_CN":
        assert "角色" in page and "查看" in page and "敏感操作" in page
    else:
        assert "Sensitive operations" in page and "See" in page
    # the admin's role list links to the designer, the JSON editor stays as the advanced view
    admin = text(designer.get("/admin/roles"))
    assert 'href="/design/crm/roles"' in admin and 'href="/admin/roles/crm/clerk"' in admin
    assert 'href="/design/crm/role/clerk"' in text(designer.get("/admin/roles/crm/clerk"))
    assert 'href="/design/crm/roles"' in text(designer.get("/design/crm"))


def test_a_new_role_and_its_grid_as_draft_steps_with_undo_redo_and_conflicts(app, crm, designer):
    created = designer.post(ROLES, {"name": "auditor", "label:en": "Auditor", "label:zh-CN": "审计"})
    assert created.status_code == 303 and created.headers["Location"].endswith("/design/crm/role/auditor")
    assert role_doc(crm, "auditor")["label"] == {"en": "Auditor", "zh-CN": "审计"}
    assert designer.post(ROLES, {"name": "auditor"}).status_code == 422  # exists
    assert designer.post(ROLES, {"name": "Bad Name"}).status_code == 422

    edit(
        designer,
        "grid",
        [("act:0", "read"), ("act:0", "update"), ("act:+deal", "read"), ("act:+deal", "export")],
    )
    grants = role_doc(crm)["grants"]
    assert grants == [
        {"entity": "note", "actions": ["read", "update"]},
        {"entity": "deal", "actions": ["read", "export"]},
    ]
    # unticking every action of a table removes its grant
    edit(designer, "grid", [("act:1", "read")])
    assert role_doc(crm)["grants"] == [{"entity": "deal", "actions": ["read"]}]
    page = text(designer.get(ROLE))
    assert designer.post(f"{ROLE}/undo", {"base": base_of(page)}).status_code == 303
    assert len(role_doc(crm)["grants"]) == 2
    page = text(designer.get(ROLE))
    assert designer.post(f"{ROLE}/redo", {"base": base_of(page)}).status_code == 303
    assert len(role_doc(crm)["grants"]) == 1
    stale = designer.post(f"{ROLE}/edit/grid", {"base": "1", "act:0": "delete"})
    assert stale.status_code == 409 and role_doc(crm)["grants"] == [{"entity": "deal", "actions": ["read"]}]
    edited = [e for e in events(app, "definition_edited") if e.get("name") == "clerk"]
    assert {e["action"] for e in edited} >= {"changed the grid of actions", "undo", "redo"}
    assert all(e["user"] == "admin" and e["definition_kind"] == "role" for e in edited)


def test_field_rules_record_rule_context_transitions_operations_and_settings(app, crm, designer):
    edit(designer, "grid", [("act:0", "read"), ("act:+deal", "read"), ("act:+deal", "update")])
    grant = {"grant": "1", "entity": "deal"}
    assert "role-grant" in text(designer.get(f"{ROLE}?grant=1"))
    edit(designer, "fields", {**grant, "f:margin": "hidden", "f:amount": "read_only", "f:title": ""})
    assert deal_grant(crm)["fields"] == {"margin": "hidden", "amount": "read_only"}
    # the record rule: built row by row, a $user fact as the value
    edit(designer, "record_rule", {**grant, "c:record_rule/mode": "all", "cadd:record_rule": "row"})
    edit(
        designer,
        "record_rule",
        {
            **grant,
            "c:record_rule/mode": "all",
            "c:record_rule/0/field": "owner",
            "c:record_rule/0/op": "=",
            "c:record_rule/0/value": "$user.id",
        },
    )
    assert deal_grant(crm)["record_rule"] == {"all": [{"field": "owner", "op": "=", "value": "$user.id"}]}
    context = {
        "ip_in": "10.0.0.0/8\n192.168.1.7",
        "from": "08:00",
        "to": "18:00",
        "timezone": "Asia/Shanghai",
    }
    edit(
        designer,
        "context",
        [*grant.items(), *context.items(), ("min_level", "3"), ("days", "1"), ("days", "5")],
    )
    assert deal_grant(crm)["context"] == {
        "ip_in": ["10.0.0.0/8", "192.168.1.7"],
        "hours": {"from": "08:00", "to": "18:00", "days": [1, 5], "timezone": "Asia/Shanghai"},
        "min_level": 3,
    }
    page = text(designer.get(f"{ROLE}?grant=1"))
    assert 'value="submit"' in page and 'value="win"' not in page  # automatic transitions are the platform's
    edit(designer, "transitions", {**grant, "transitions": "submit"})
    assert deal_grant(crm)["transitions"] == ["submit"]
    edit(designer, "operations", {"operations": "drop_deal"})
    edit(designer, "settings", {"label:en": "Clerk", "label:zh-CN": "职员", "description:en": "Front desk"})
    doc = role_doc(crm)
    assert doc["operations"] == ["drop_deal"] and doc["label"] == {"en": "Clerk", "zh-CN": "职员"}
    assert doc["description"] == {"en": "Front desk"} and "admin" not in doc
    edit(designer, "settings", {"label:en": "Clerk", "admin": "1"})
    assert role_doc(crm)["admin"] is True and "role-admin-note" in text(designer.get(ROLE))
    # clearing the context and removing the grant
    edit(designer, "context", grant)
    assert "context" not in deal_grant(crm)
    edit(designer, "remove", grant)
    assert [g["entity"] for g in role_doc(crm)["grants"]] == ["note"]


HOSTILE = [
    ("grid", {"act:+salary": "read"}),  # another app's table
    ("grid", {"act:+ghost": "read"}),  # no such table
    ("grid", {"act:0": "sudo"}),  # no such action
    ("grid", {"act:5": "read"}),  # no such grant
    ("fields", {"grant": "0", "entity": "note", "f:ghost": "hidden"}),  # no such field
    ("fields", {"grant": "0", "entity": "note", "f:body": "secret"}),  # no such rule
    ("fields", {"grant": "7", "entity": "note", "f:body": "hidden"}),  # no such grant
    ("fields", {"grant": "0", "entity": "deal", "f:body": "hidden"}),  # a stale page: not that table's grant
    (
        "record_rule",
        {
            "grant": "0",
            "entity": "note",
            "c:record_rule/mode": "all",
            "c:record_rule/0/field": "pay",
            "c:record_rule/0/op": "=",
            "c:record_rule/0/value": "1",
        },
    ),  # another table's field
    (
        "record_rule",
        {
            "grant": "0",
            "entity": "note",
            "c:record_rule/mode": "all",
            "c:record_rule/0/field": "body",
            "c:record_rule/0/op": "=",
            "c:record_rule/0/value": "$user.salary",
        },
    ),  # not a user fact
    ("context", {"grant": "0", "entity": "note", "ip_in": "not-an-address"}),
    ("context", {"grant": "0", "entity": "note", "from": "18:00", "to": "08:00"}),
    ("context", {"grant": "0", "entity": "note", "from": "08:00", "to": "18:00", "timezone": "Mars/Base"}),
    ("context", {"grant": "0", "entity": "note", "from": "08:00", "to": "18:00", "days": "9"}),
    ("context", {"grant": "0", "entity": "note", "min_level": "101"}),
    ("context", {"grant": "0", "entity": "note", "min_level": "-1"}),
    ("transitions", {"grant": "0", "entity": "note", "transitions": "submit"}),  # not the note's
    ("operations", {"operations": "drop_everything"}),
]


@pytest.mark.parametrize(("section", "data"), HOSTILE)
def test_hostile_input_is_refused_and_saves_nothing(app, crm, designer, section, data):
    before = role_doc(crm)
    response = edit(designer, section, data, expect=422)
    assert "Not saved" in text(response)
    assert role_doc(crm) == before


def test_unknown_sections_roles_and_apps(crm, designer):
    page = text(designer.get(ROLE))
    assert designer.post(f"{ROLE}/edit/nonsense", {"base": base_of(page)}).status_code == 400
    assert designer.post(f"{ROLE}/edit/grid", {"act:0": "read"}).status_code == 400  # no base
    assert designer.get("/design/crm/role/ghost").status_code == 404
    assert designer.get("/design/crm/role/hr_boss").status_code == 404  # another app's role
    assert designer.get("/design/nowhere/roles").status_code == 404
    assert designer.post("/design/nowhere/roles", {"name": "x"}).status_code == 404


def test_publishing_puts_the_role_in_force_and_logs_the_permission_change(app, crm, designer):
    edit(designer, "grid", [("act:0", "read"), ("act:+deal", "read")])
    edit(designer, "fields", {"grant": "1", "entity": "deal", "f:margin": "hidden"})
    crm.post("/api/data/crm/deal", json={"title": "Big one", "amount": "100.00", "margin": "40.00"})
    cleo = signed_in(app, "cleo", PASSWORD)
    assert cleo.get("/a/crm/deal").status_code == 403  # the draft is not in force
    plan = text(designer.get("/design/crm/publish"))
    assert 'data-kind="role" data-name="clerk"' in plan
    assert designer.post("/design/crm/publish").status_code == 303
    listed = text(cleo.get("/a/crm/deal"))
    assert "Big one" in listed and "Margin" not in listed and "40.00" not in listed
    published = [e for e in events(app, "definition_published") if e.get("role") == "clerk"]
    assert published and published[-1]["app"] == "crm" and published[-1]["user"] == "admin"
    versions = designer.get("/design/crm/role/clerk/versions?a=1&b=2")
    assert versions.status_code == 200 and "margin" in text(versions)


def test_explain_a_holder_on_a_record(app, crm, designer):
    edit(designer, "grid", [("act:0", "read"), ("act:+deal", "read"), ("act:+deal", "update")])
    grant = {"grant": "1", "entity": "deal"}
    edit(designer, "fields", {**grant, "f:margin": "hidden"})
    edit(
        designer,
        "record_rule",
        {
            **grant,
            "c:record_rule/mode": "all",
            "c:record_rule/0/field": "title",
            "c:record_rule/0/op": "=",
            "c:record_rule/0/value": "Mine",
        },
    )
    edit(designer, "transitions", {**grant, "transitions": "submit"})
    assert designer.post("/design/crm/publish").status_code == 303
    mine = crm.post("/api/data/crm/deal", json={"title": "Mine"}).get_json()["id"]
    theirs = crm.post("/api/data/crm/deal", json={"title": "Theirs"}).get_json()["id"]
    page = text(designer.get(ROLE))
    assert 'href="/design/crm/role/clerk/explain"' in page
    form = text(designer.get(f"{ROLE}/explain"))
    assert "cleo" in form and "bea" not in form  # only holders of the role are offered
    cleo_id = re.search(r'<option value="(\d+)"[^>]*>[^<]*\(cleo\)', form).group(1)
    answer = text(designer.get(f"{ROLE}/explain?user={cleo_id}&entity=deal&record={mine}"))
    assert re.search(r'data-action="update"><th scope="row">update</th>\s*<td[^>]*data-allowed="yes"', answer)
    assert re.search(r'data-transition="submit">.*?data-allowed="yes"', answer, re.S)
    assert "Margin" in answer  # hidden fields are named
    other = text(designer.get(f"{ROLE}/explain?user={cleo_id}&entity=deal&record={theirs}"))
    assert re.search(r'data-action="update"><th scope="row">update</th>\s*<td[^>]*data-allowed="no"', other)
    assert "outside what your roles allow" in other
    # hostile: a user who does not hold the role, an unknown table or record, another app's table
    bea_id = int(cleo_id) + 2  # bea was created after cleo
    assert designer.get(f"{ROLE}/explain?user={bea_id}&entity=deal").status_code == 404
    assert designer.get(f"{ROLE}/explain?user=abc&entity=deal").status_code == 404
    assert designer.get(f"{ROLE}/explain?user={cleo_id}&entity=salary").status_code == 404
    assert designer.get(f"{ROLE}/explain?user={cleo_id}&entity=deal&record=999").status_code == 404


@pytest.mark.parametrize("who", ["cleo", "bea", "hank"])
def test_who_may_not_design_roles(app, crm, who):
    """A holder of a plain role, a table's designer (configure on one table) and another app's administrator
    are refused every role designer page and post; nothing changes."""
    browser = signed_in(app, who, PASSWORD)
    before = role_doc(crm)
    for url in (ROLES, ROLE, f"{ROLE}/explain"):
        assert browser.get(url).status_code == 403, url
    for url, data in (
        (ROLES, {"name": "x"}),
        (f"{ROLE}/edit/grid", {"base": "1", "act:+deal": "read"}),
        (f"{ROLE}/undo", {"base": "1"}),
        (f"{ROLE}/redo", {"base": "1"}),
    ):
        assert browser.post(url, data).status_code == 403, url
    assert role_doc(crm) == before


def test_an_app_administrator_designs_roles_and_publishes_them(app, crm):
    bo = signed_in(app, "bo", PASSWORD)
    assert bo.get(ROLES).status_code == 200
    edit(bo, "grid", [("act:0", "read"), ("act:+deal", "read")])
    assert [g["entity"] for g in role_doc(crm)["grants"]] == ["note", "deal"]
    assert bo.post("/design/crm/publish").status_code == 303
    assert [
        g["entity"] for g in crm.get("/api/definitions/crm/role/clerk").get_json()["published"]["grants"]
    ] == [
        "note",
        "deal",
    ]
    assert bo.get("/design/hr/roles").status_code == 403  # not the other app
