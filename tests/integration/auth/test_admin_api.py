"""``/api/admin``: departments, users, role assignments and integrator tokens - and that only
administrators get in."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lowcode.core.models import ApiToken, SecurityEvent
from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "hr", "label": "HR", "grace_hours": 24},
    "entities": [{"name": "staff", "label": "Staff", "fields": [
        {"name": "name", "type": "text", "required": True},
        {"name": "region", "type": "text"},
        {"name": "salary", "type": "money"},
    ]}],
    "roles": [
        {"name": "clerk", "label": "Clerk", "grants": [{
            "entity": "staff", "actions": ["read", "create"],
            "record_rule": {"field": "region", "op": "=", "value": "north"}, "fields": {"salary": "hidden"}}]},
        {"name": "nobody", "label": "Nobody"},
    ],
}  # fmt: skip
OTHER = {
    "app": {"name": "ops", "label": "Ops"},
    "entities": [{"name": "task", "label": "Task", "fields": [{"name": "title", "type": "text"}]}],
    "roles": [{"name": "viewer", "label": "Viewer", "grants": [{"entity": "task", "actions": ["read"]}]}],
}


@pytest.fixture
def hr(api):
    for bundle in (BUNDLE, OTHER):
        assert api.post("/api/templates/import", json=bundle).status_code == 201
    for name, region in [("Ann", "north"), ("Bo", "south")]:
        api.post("/api/data/hr/staff", json={"name": name, "region": region, "salary": "100"})
    api.post("/api/data/ops/task", json={"title": "t"})
    return api


def new_user(api, username, **fields) -> int:
    response = api.post("/api/admin/users", json={"username": username, "password": PASSWORD, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def assign(api, user_id, app="hr", role="clerk", **extra) -> dict:
    response = api.post(
        "/api/admin/assignments", json={"user_id": user_id, "app": app, "role": role, **extra}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def client_for(app, username, password=PASSWORD) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, username, password))


def events(app, kind) -> list[SimpleNamespace]:
    """The security events of a kind, oldest first (plain objects: the read session is gone after)."""
    with app.extensions["lowcode"].db.read() as s:
        rows = s.scalars(
            sa.select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id)
        )
        return [
            SimpleNamespace(username=e.username, user_id=e.user_id, detail=e.detail, at=e.at) for e in rows
        ]


ROUTES = [
    ("get", "/api/admin/departments", None), ("post", "/api/admin/departments", {"name": "x"}),
    ("patch", "/api/admin/departments/1", {"name": "y"}), ("delete", "/api/admin/departments/1", None),
    ("get", "/api/admin/users", None), ("post", "/api/admin/users", {"username": "u", "password": PASSWORD}),
    ("get", "/api/admin/users/1", None), ("patch", "/api/admin/users/1", {"job_title": "x"}),
    ("get", "/api/admin/users/1/assignments", None),
    ("post", "/api/admin/assignments", {"user_id": 1, "app": "hr", "role": "clerk"}),
    ("post", "/api/admin/assignments/1/renew", {"ends_at": None}), ("delete", "/api/admin/assignments/1", None),
    ("get", "/api/admin/tokens", None),
    ("post", "/api/admin/tokens", {"user_id": 1, "app": "hr", "role": "clerk", "name": "n"}),
    ("delete", "/api/admin/tokens/1", None),
    ("get", "/api/admin/explain?user=1&app=hr&entity=staff", None), ("get", "/api/admin/review", None),
    ("get", "/api/admin/security-events", None),
]  # fmt: skip


def test_every_admin_route_refuses_anonymous_users_and_scoped_tokens(app, hr):
    clerk = new_user(hr, "clerk")
    assign(hr, clerk)
    user = client_for(app, "clerk")
    admin_id = hr.get("/api/admin/users?q=admin").get_json()["data"][0]["id"]
    scoped = hr.post(
        "/api/admin/tokens", json={"user_id": admin_id, "app": "hr", "role": "clerk", "name": "erp"}
    )
    as_token = ApiClient(app.test_client(), scoped.get_json()["token"])
    anonymous = ApiClient(app.test_client(), None)
    for method, url, body in ROUTES:
        kw = {"json": body} if body is not None else {}
        assert getattr(anonymous, method)(url, **kw).status_code == 401, url
        assert getattr(user, method)(url, **kw).status_code == 403, url
        # the token's user is an administrator, but the token acts only as hr.clerk
        assert getattr(as_token, method)(url, **kw).status_code == 403, url
    assert hr.get("/api/admin/departments").status_code == 200
    assert len(events(app, "permission_denied")) == 2 * len(ROUTES)


def test_department_tree_moves_its_subtree_and_refuses_cycles_and_non_empty_deletes(hr):
    def dept(name, parent=None):
        response = hr.post("/api/admin/departments", json={"name": name, "parent_id": parent})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    root, sales = dept("Head office"), dept("Sales")
    north = dept("North", sales["id"])
    east = dept("East", north["id"])
    assert east["path"] == f"/{sales['id']}/{north['id']}/{east['id']}/"
    moved = hr.patch(f"/api/admin/departments/{north['id']}", json={"parent_id": root["id"]})
    assert moved.status_code == 200 and moved.get_json()["path"] == f"/{root['id']}/{north['id']}/"
    paths = {d["id"]: d["path"] for d in hr.get("/api/admin/departments").get_json()["data"]}
    assert paths[east["id"]] == f"/{root['id']}/{north['id']}/{east['id']}/"
    for parent in (east["id"], north["id"]):
        cycle = hr.patch(f"/api/admin/departments/{north['id']}", json={"parent_id": parent})
        assert cycle.status_code == 422 and "parent_id" in cycle.get_json()["error"]["fields"]
    assert hr.patch(f"/api/admin/departments/{north['id']}", json={"parent_id": 999}).status_code == 404
    assert hr.patch(f"/api/admin/departments/{north['id']}", json={"name": ""}).status_code == 422
    new_user(hr, "emp", department_id=east["id"])
    refused = hr.delete(f"/api/admin/departments/{north['id']}")
    assert refused.status_code == 422 and "1 sub-department" in refused.get_json()["error"]["message"]
    assert "1 user" in hr.delete(f"/api/admin/departments/{east['id']}").get_json()["error"]["message"]
    assert hr.delete(f"/api/admin/departments/{sales['id']}").status_code == 204
    assert hr.delete(f"/api/admin/departments/{sales['id']}").status_code == 404


def test_users_are_validated_and_managers_never_form_a_cycle(app, hr):
    boss, mid = new_user(hr, "boss", display_name="The Boss"), new_user(hr, "mid")
    low = new_user(hr, "low", job_title="clerk", level=3)
    bad = hr.post(
        "/api/admin/users", json={"username": "boss", "password": "short", "level": 101, "colour": 1}
    )
    assert bad.status_code == 422
    assert hr.post("/api/admin/users", json={"username": "x", "password": "short"}).get_json()["error"][
        "fields"
    ]
    assert set(bad.get_json()["error"]["fields"]) == {"colour"}  # unknown fields are refused first
    assert hr.patch(f"/api/admin/users/{mid}", json={"manager_id": boss}).status_code == 200
    assert hr.patch(f"/api/admin/users/{low}", json={"manager_id": mid}).status_code == 200
    for target, manager in [(boss, low), (boss, boss), (mid, 9999)]:
        response = hr.patch(f"/api/admin/users/{target}", json={"manager_id": manager})
        assert response.status_code == 422 and "manager_id" in response.get_json()["error"]["fields"]
    old_session = client_for(app, "low")
    assert old_session.get("/api/auth/me").status_code == 200
    changed = hr.patch(
        f"/api/admin/users/{low}", json={"password": "new-password-1", "level": 5, "language": "zh_CN"}
    )
    assert old_session.get("/api/auth/me").status_code == 401  # a reset password ends bearer sign-ins
    assert changed.status_code == 200 and "password" not in changed.get_json()
    assert hr.patch(f"/api/admin/users/{low}", json={"language": "xx"}).status_code == 422
    client_for(app, "low", "new-password-1")
    assert hr.get(f"/api/admin/users/{boss}").get_json()["display_name"] == "The Boss"
    assert hr.get("/api/admin/users/9999").status_code == 404
    last = events(app, "user_changed")[-1]
    assert last.username == "low" and last.detail["changes"]["password"] == "changed"
    assert last.detail["changes"]["tokens_revoked"] == 1
    assert "new-password-1" not in str(last.detail)
    assert hr.patch(f"/api/admin/users/{low}", json={"active": False}).status_code == 200
    assert (
        app.test_client()
        .post("/api/auth/login", json={"username": "low", "password": "new-password-1"})
        .status_code
        == 401
    )


def test_an_administrator_cannot_demote_or_deactivate_themselves(hr):
    me = hr.get("/api/admin/users?q=admin").get_json()["data"][0]["id"]
    for change in ({"is_admin": False}, {"active": False}):
        assert hr.patch(f"/api/admin/users/{me}", json=change).status_code == 422
    assert hr.get(f"/api/admin/users/{me}").get_json()["is_admin"] is True


def test_a_role_grants_what_it_says_and_nothing_without_it(app, hr):
    ann, zed = new_user(hr, "ann"), new_user(hr, "zed")
    assignment = assign(hr, ann, note="new starter")
    assert assignment["in_force"] and assignment["granted_by"] == "admin"
    reader, stranger = client_for(app, "ann"), client_for(app, "zed")
    rows = reader.get("/api/data/hr/staff").get_json()["data"]
    assert [r["name"] for r in rows] == ["Ann"] and "salary" not in rows[0]  # record rule + hidden field
    assert reader.post("/api/data/hr/staff", json={"name": "N", "region": "north"}).status_code == 201
    assert reader.post("/api/data/hr/staff", json={"name": "S", "region": "south"}).status_code == 403
    assert reader.get("/api/data/ops/task").status_code == 403  # a role of another app
    assert stranger.get("/api/data/hr/staff").status_code == 403
    again = hr.post("/api/admin/assignments", json={"user_id": ann, "app": "hr", "role": "clerk"})
    assert again.status_code == 422 and "Renew" in again.get_json()["error"]["fields"]["role"][0]
    listed = hr.get(f"/api/admin/users/{ann}/assignments").get_json()["data"]
    assert [(a["app"], a["role"], a["note"]) for a in listed] == [("hr", "clerk", "new starter")]
    ended = hr.delete(f"/api/admin/assignments/{assignment['id']}")
    assert ended.status_code == 200 and ended.get_json()["in_force"] is False
    assert client_for(app, "ann").get("/api/data/hr/staff").status_code == 403
    assert hr.delete(f"/api/admin/assignments/{assignment['id']}").status_code == 422  # already ended
    assert [e.detail["role"] for e in events(app, "role_assigned")] == ["clerk"]
    assert [(e.username, e.detail["assignment"]) for e in events(app, "role_unassigned")] == [
        ("ann", assignment["id"])
    ]
    assert zed not in [e.user_id for e in events(app, "role_assigned")]


@pytest.mark.parametrize("body, field", [
    ({"app": "hr", "role": "ghost"}, "role"), ({"app": "nope", "role": "clerk"}, "role"),
    ({"app": "hr", "role": "clerk", "ends_at": "2001-01-01T00:00:00Z"}, "ends_at"),
    ({"app": "hr", "role": "clerk", "ends_at": "soon"}, "ends_at"),
    ({"app": "hr", "role": "clerk", "note": "x" * 201}, "note"),
])  # fmt: skip
def test_assignments_need_a_published_role_and_a_future_end(hr, body, field):
    user = new_user(hr, "someone")
    response = hr.post("/api/admin/assignments", json={"user_id": user, **body})
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    assert hr.get(f"/api/admin/users/{user}/assignments").get_json()["data"] == []
    assert (
        hr.post("/api/admin/assignments", json={"user_id": 9999, "app": "hr", "role": "clerk"}).status_code
        == 404
    )
    wrong_type = hr.post("/api/admin/assignments", json={"user_id": str(user), "app": "hr", "role": "clerk"})
    assert wrong_type.status_code == 422 and "user_id" in wrong_type.get_json()["error"]["fields"]


def test_scoped_token_acts_only_with_its_role_in_its_app_and_is_shown_once(app, hr):
    admin_id = hr.get("/api/admin/users?q=admin").get_json()["data"][0]["id"]
    created = hr.post("/api/admin/tokens", json={"user_id": admin_id, "app": "hr", "role": "clerk",
                                                 "name": "erp sync", "expires_at": "2999-01-01T00:00:00+08:00"})  # fmt: skip
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["token"].startswith("lc_") and body["expires_at"].startswith("2998-12-31T16:00:00")
    erp = ApiClient(app.test_client(), body["token"])
    rows = erp.get("/api/data/hr/staff").get_json()["data"]
    assert [r["name"] for r in rows] == ["Ann"] and "salary" not in rows[0]  # clerk, not the admin
    assert erp.post("/api/data/hr/staff", json={"name": "S", "region": "south"}).status_code == 403
    assert erp.get("/api/data/ops/task").status_code == 403
    assert erp.post("/api/data/ops/task", json={"title": "x"}).status_code == 403
    assert erp.get("/api/definitions").status_code == 403
    listed = hr.get("/api/admin/tokens").get_json()["data"]
    assert [(t["name"], t["app"], t["role"]) for t in listed] == [("erp sync", "hr", "clerk")]
    assert listed[0]["last_used_at"] is not None and "token" not in listed[0]
    assert body["token"] not in str(hr.get("/api/admin/tokens?all=1").get_json())
    assert len(hr.get("/api/admin/tokens?all=1").get_json()["data"]) == 2  # + the admin's sign-in token
    with app.extensions["lowcode"].db.read() as s:
        assert s.get(ApiToken, body["id"]).token_hash != body["token"]
    revoked = hr.delete(f"/api/admin/tokens/{body['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"] is not None
    assert erp.get("/api/data/hr/staff").status_code == 401
    assert hr.delete(f"/api/admin/tokens/{body['id']}").status_code == 422
    assert [e.detail["name"] for e in events(app, "token_created")] == ["erp sync"]
    assert [e.detail["token"] for e in events(app, "token_revoked")] == [body["id"]]
    assert any(e.detail.get("token") == "erp sync" for e in events(app, "token_used"))


@pytest.mark.parametrize("body, field", [
    ({"app": "hr", "role": "ghost", "name": "n"}, "role"), ({"app": "hr", "role": "clerk", "name": ""}, "name"),
    ({"app": "hr", "role": "clerk", "name": "n", "expires_at": "2000-01-01"}, "expires_at"),
])  # fmt: skip
def test_token_requests_are_validated(hr, body, field):
    user = new_user(hr, "svc")
    response = hr.post("/api/admin/tokens", json={"user_id": user, **body})
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    assert hr.get("/api/admin/tokens").get_json()["data"] == []


def test_security_events_list_by_kind(app, hr):
    user = new_user(hr, "evt")
    assign(hr, user)
    response = hr.get("/api/admin/security-events?kind=role_assigned")
    assert [(e["kind"], e["username"], e["detail"]["by"]) for e in response.get_json()["data"]] == [
        ("role_assigned", "evt", "admin")
    ]
    assert len(hr.get("/api/admin/security-events?limit=1").get_json()["data"]) == 1
    assert hr.get("/api/admin/security-events?kind=bogus").status_code == 400
    assert hr.get("/api/admin/security-events?limit=0").status_code == 400


def test_cookie_sessions_need_the_csrf_token_to_change_anything(app, hr):
    browser = app.test_client()
    signed_in = browser.post("/api/auth/login", json={"username": "admin", "password": "root-pass-2026"})
    csrf = signed_in.get_json()["csrf_token"]
    assert browser.get("/api/admin/departments").status_code == 200  # reads need no CSRF token
    assert browser.post("/api/admin/departments", json={"name": "X"}).status_code == 403
    sent = browser.post("/api/admin/departments", json={"name": "X"}, headers={"X-CSRF-Token": csrf})
    assert sent.status_code == 201


def test_password_policy_on_create_and_reset_gives_422_with_the_reasons(api):
    """A new user or a reset password must pass the policy; each reason is listed under ``password``."""
    weak = api.post("/api/admin/users", json={"username": "walter", "password": "qwertyuiop"})
    assert weak.status_code == 422
    assert any("too common" in r for r in weak.get_json()["error"]["fields"]["password"])
    named = api.post("/api/admin/users", json={"username": "walter", "password": "walter-2026!"})
    assert named.status_code == 422
    assert any("username" in r for r in named.get_json()["error"]["fields"]["password"])
    created = api.post("/api/admin/users", json={"username": "walter", "password": "tall-river-77"})
    assert created.status_code == 201, created.get_json()
    user_id = created.get_json()["id"]
    reset = api.patch(f"/api/admin/users/{user_id}", json={"password": "a" * 12})
    assert reset.status_code == 422
    assert any("repeated" in r for r in reset.get_json()["error"]["fields"]["password"])
    assert api.patch(f"/api/admin/users/{user_id}", json={"password": "other-river-88"}).status_code == 200
