"""Administration pages: administrators only (403 for others, sign-in for anonymous visitors), users and
their role assignments, departments, CSRF on every form, Chinese words."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lowcode.auth.users import create_user
from lowcode.core.models import Department, RoleAssignment, User
from tests.conftest import ADMIN_PASSWORD

from .helpers import Browser, field_errors, text

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "crm", "label": "CRM", "grace_hours": 24},
    "entities": [{
        "name": "deal", "label": "Deal", "title_field": "title",
        "fields": [
            {"name": "title", "type": "text", "required": True, "label": "Title"},
            {"name": "amount", "type": "money", "label": "Amount"},
            {"name": "cost", "type": "money", "label": "Secret cost"},
        ],
    }],
    "roles": [
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "deal", "actions": ["read"]}]},
        {"name": "sales", "label": "Sales", "grants": [{
            "entity": "deal", "actions": ["read", "create"],
            "record_rule": {"field": "owner", "op": "=", "value": "$user.id"}, "fields": {"cost": "hidden"}}]},
    ],
}  # fmt: skip
GET_PAGES = ["/admin", "/admin/users", "/admin/users/1", "/admin/departments", "/admin/tokens", "/admin/roles",
             "/admin/roles/crm/viewer", "/admin/explain?user=admin&app=crm&entity=deal", "/admin/review",
             "/admin/security"]  # fmt: skip
POST_PAGES = ["/admin/users", "/admin/users/1", "/admin/users/1/assignments", "/admin/assignments/1/renew",
              "/admin/assignments/1/end", "/admin/departments", "/admin/departments/1", "/admin/departments/1/delete",
              "/admin/tokens", "/admin/tokens/1/revoke", "/admin/roles/new", "/admin/roles/crm/viewer/draft",
              "/admin/roles/crm/viewer/publish", "/admin/roles/crm/viewer/rollback/1"]  # fmt: skip


@pytest.fixture
def crm(app, api):
    """The CRM app, and ``nia`` (not an administrator) holding its viewer role."""
    return install_crm(app, api)


def install_crm(app, api):
    """Import the CRM app; add ``nia`` with its viewer role."""
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    with app.extensions["lowcode"].db.write() as s:
        nia = create_user(s, "nia", PASSWORD)
        s.add(RoleAssignment(user_id=nia.id, app="crm", role="viewer", granted_by="test"))
    return api


def signed_in(app, username: str = "admin", password: str = ADMIN_PASSWORD) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username, password).status_code == 303
    return browser


@pytest.fixture
def boss(app, crm) -> Browser:
    """A browser signed in as the administrator."""
    return signed_in(app)


def assignments(page: str) -> list[tuple[str, str]]:
    """(app, role) of each row of a user page's assignment table."""
    return re.findall(r'<tr data-assignment="\d+">\s*<td>(\w+)</td><td>(\w+)</td>', page)


def user_id(app, username: str) -> int:
    with app.extensions["lowcode"].db.read() as s:
        return s.scalar(sa.select(User.id).where(User.username == username))


def test_only_administrators_get_in(app, crm, boss):
    nia = signed_in(app, "nia", PASSWORD)
    for url in GET_PAGES:
        response = nia.get(url)
        assert response.status_code == 403, url
        assert "administrators only" in text(response)
        assert boss.get(url).status_code == 200, url
    for url in POST_PAGES:
        assert (
            nia.post(url, {"name": "x", "username": "x", "password": "long-enough-1"}).status_code == 403
        ), url
    assert user_id(app, "x") is None
    anonymous = Browser(app.test_client())
    for url in GET_PAGES:
        response = anonymous.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith(
            "/login?next=/admin"
        ), url
    assert anonymous.post("/admin/users", {"username": "y"}, csrf=False).status_code == 401
    # the nav links to the administration only for administrators
    assert 'href="/admin"' in text(boss.get("/")) and 'href="/admin"' not in text(nia.get("/"))


def test_admin_creates_a_user_and_assigns_edits_renews_and_ends_roles(app, boss):
    page = text(boss.get("/admin/users"))
    assert "nia" in page and "New user" in page
    refused = boss.post("/admin/users", {"username": "pat", "password": "short"})
    assert refused.status_code == 422 and field_errors(text(refused), "password")
    common = boss.post("/admin/users", {"username": "pat", "password": "Password123"})
    assert common.status_code == 422 and any(
        "too common" in e for e in field_errors(text(common), "password")
    )
    response = boss.post("/admin/users", {"username": "pat", "password": PASSWORD, "display_name": "Pat Lee",
                                          "job_title": "Clerk", "level": "3", "language": "en"})  # fmt: skip
    assert response.status_code == 303
    pat = user_id(app, "pat")
    assert response.headers["Location"] == f"/admin/users/{pat}"
    assert "Pat Lee" in text(boss.get("/admin/users?q=pat")) and "Pat Lee" not in text(
        boss.get("/admin/users?q=zz")
    )

    # assign a published role; assigning it again is refused with the service's reason
    response = boss.post(f"/admin/users/{pat}/assignments", {"role": "crm/sales", "note": "new hire"})
    assert response.status_code == 303
    page = text(boss.get(f"/admin/users/{pat}"))
    assert assignments(page) == [("crm", "sales")] and "new hire" in page and "In force" in page
    again = boss.post(f"/admin/users/{pat}/assignments", {"role": "crm/sales"})
    assert again.status_code == 422 and "already holds crm.sales" in text(again)
    assert boss.post(f"/admin/users/{pat}/assignments", {"role": "crm/nope"}).status_code == 422
    pat_browser = signed_in(app, "pat", PASSWORD)
    assert pat_browser.get("/a/crm/deal").status_code == 200

    # a new department starts the grace period: the notice says so and the assignment gets an end date
    boss.post("/admin/departments", {"name": "Sales"})
    with app.extensions["lowcode"].db.read() as s:
        sales_dept = s.scalar(sa.select(Department.id).where(Department.name == "Sales"))
    edit = {"display_name": "Pat Lee", "active": "on", "language": "en", "department_id": str(sales_dept),
            "job_title": "Clerk", "level": "3"}  # fmt: skip
    response = boss.post(f"/admin/users/{pat}", edit)
    assert response.status_code == 303
    page = text(boss.get(response.headers["Location"]))
    assert "grace period" in page and "Renew the ones that should stay" in page
    assert "Grace period: renew to keep" in page
    bad = boss.post(f"/admin/users/{pat}", {**edit, "level": "500"})
    assert bad.status_code == 422 and field_errors(text(bad), "level") == ["An integer from 0 to 100."]

    with app.extensions["lowcode"].db.read() as s:
        assignment_id, ends_at = s.execute(
            sa.select(RoleAssignment.id, RoleAssignment.ends_at).where(RoleAssignment.user_id == pat)
        ).one()
    assert ends_at is not None
    assert boss.post(f"/admin/assignments/{assignment_id}/renew", {"ends_at": ""}).status_code == 303
    page = text(boss.get(f"/admin/users/{pat}"))
    assert "Grace period: renew to keep" not in page and "open-ended" in page
    assert boss.post(f"/admin/assignments/{assignment_id}/end").status_code == 303
    page = text(boss.get(f"/admin/users/{pat}"))
    assert "Ended" in page and f"/admin/assignments/{assignment_id}/end" not in page
    ended_again = boss.post(f"/admin/assignments/{assignment_id}/end")
    assert ended_again.status_code == 422 and "stays ended" in text(ended_again)
    gone = pat_browser.get("/a/crm/deal")  # the role is gone at once, and pat's session with it
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")

    # a reset password: the old one no longer signs in
    assert boss.post(f"/admin/users/{pat}", {**edit, "password": "brand-new-pass-1"}).status_code == 303
    assert Browser(app.test_client()).login("pat", PASSWORD).status_code == 401
    # administrators cannot take their own rights away here either
    me = user_id(app, "admin")
    own = boss.post(f"/admin/users/{me}", {"display_name": "Admin", "language": "en", "level": "0"})
    assert own.status_code == 422 and "your own administrator rights" in text(own)


def test_department_tree_create_move_and_refused_delete(app, boss):
    for name in ("Head office", "Finance"):
        assert boss.post("/admin/departments", {"name": name}).status_code == 303
    with app.extensions["lowcode"].db.read() as s:
        ids = dict(s.execute(sa.select(Department.name, Department.id)).all())
    head, finance = ids["Head office"], ids["Finance"]
    assert boss.post("/admin/departments", {"name": "Payroll", "parent_id": str(finance)}).status_code == 303
    assert boss.post("/admin/departments", {"name": " "}).status_code == 422
    # move Finance (with Payroll) under Head office and rename it
    moved = boss.post(f"/admin/departments/{finance}", {"name": "Finance & Tax", "parent_id": str(head)})
    assert moved.status_code == 303
    with app.extensions["lowcode"].db.read() as s:
        paths = dict(s.execute(sa.select(Department.name, Department.path)).all())
    assert paths["Finance & Tax"] == f"/{head}/{finance}/" and paths["Payroll"].startswith(
        f"/{head}/{finance}/"
    )
    cycle = boss.post(f"/admin/departments/{head}", {"name": "Head office", "parent_id": str(finance)})
    assert cycle.status_code == 422 and "cannot move under itself" in text(cycle)
    # a department with a sub-department is not deleted: the service's reason is shown
    refused = boss.post(f"/admin/departments/{head}/delete")
    assert refused.status_code == 422
    assert "is not empty: 0 user(s), 1 sub-department(s)" in text(refused)
    page = text(boss.get("/admin/departments"))
    assert "Finance &amp; Tax" in page and page.index("Head office") < page.index("Finance &amp; Tax")
    payroll = ids.get("Payroll") or _id_of(app, "Payroll")
    assert boss.post(f"/admin/departments/{payroll}/delete").status_code == 303
    assert "Payroll" not in text(boss.get("/admin/departments"))


def _id_of(app, name: str) -> int:
    with app.extensions["lowcode"].db.read() as s:
        return s.scalar(sa.select(Department.id).where(Department.name == name))


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(app, boss):
    response = boss.post("/admin/users", {"username": "sly", "password": PASSWORD}, csrf=False)
    assert response.status_code == 403 and "CSRF" in text(response)
    assert user_id(app, "sly") is None
    nia = user_id(app, "nia")
    wrong = boss.client.post(
        f"/admin/users/{nia}/assignments", data={"role": "crm/sales", "csrf_token": "forged"}
    )
    assert wrong.status_code == 403
    assert boss.post("/admin/departments", {"name": "Ghost"}, csrf=False).status_code == 403
    assert boss.post("/admin/roles/crm/viewer/draft", {"body": "{}"}, csrf=False).status_code == 403
    assert boss.post("/admin/roles/crm/viewer/publish", csrf=False).status_code == 403
    with app.extensions["lowcode"].db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(RoleAssignment)) == 1
        assert s.scalar(sa.select(sa.func.count()).select_from(Department)) == 0
    assert assignments(text(boss.get(f"/admin/users/{nia}"))) == [("crm", "viewer")]


def test_the_administration_speaks_chinese(app, boss):
    assert boss.post("/language", {"lang": "zh_CN", "next": "/admin"}).status_code == 303
    page = text(boss.get("/admin"))
    for word in ("管理", "用户", "部门", "角色", "令牌", "权限审查", "安全事件", "解释权限"):
        assert word in page, word
    assert "Users" not in page and "Departments" not in page
    page = text(boss.get("/admin/users"))
    assert "新建用户" in page and "用户名" in page and "创建用户" in page
    explain = text(boss.get("/admin/explain?user=nia&app=crm&entity=deal"))
    assert "允许" in explain and "原因" in explain
    assert re.search(r"<th[^>]*>操作</th>", explain)
