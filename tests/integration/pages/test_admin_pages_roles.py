"""Administration pages: the role editor (errors at their JSON paths, publish, roll back - and the data
API follows at once), explain access, integrator tokens shown once, the review report, security events."""

from __future__ import annotations

import html
import json
import re

import pytest
import sqlalchemy as sa

from lowcode.core.definition_models import Definition
from lowcode.core.models import ApiToken, RoleAssignment
from tests.conftest import ApiClient, login

from .helpers import Browser, text
from .test_admin_pages import PASSWORD, install_crm, signed_in, user_id

SALES_V2 = {
    "name": "sales", "label": "Sales", "grants": [{
        "entity": "deal", "actions": ["read", "create", "update"],
        "record_rule": {"field": "owner", "op": "=", "value": "$user.id"}, "fields": {"cost": "hidden"}}],
}  # fmt: skip


@pytest.fixture
def crm(app, api):
    """The CRM app, and ``nia`` holding its viewer role (as in ``test_admin_pages``)."""
    return install_crm(app, api)


@pytest.fixture
def boss(app, crm) -> Browser:
    """A browser signed in as the administrator."""
    return signed_in(app)


def editor_text(page: str) -> str:
    """The JSON in the editor's textarea."""
    match = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, "no editor"
    return html.unescape(match.group(1))


def json_paths(page: str) -> dict[str, str]:
    """The errors listed by the editor: JSON path -> message."""
    found = re.findall(r'<li data-json-path="([^"]*)"><code>[^<]*</code>: ([^<]*)</li>', page)
    return {path: html.unescape(message) for path, message in found}


def api_for(app, username: str, password: str = PASSWORD) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, username, password))


def test_role_editor_shows_errors_at_their_paths_then_publishes_and_the_api_follows(app, crm, boss):
    page = text(boss.get("/admin/roles"))
    assert 'href="/admin/roles/crm/sales"' in page and 'href="/admin/roles/crm/viewer"' in page
    editor = text(boss.get("/admin/roles/crm/sales"))
    assert json.loads(editor_text(editor))["grants"][0]["actions"] == ["read", "create"]
    boss.post(f"/admin/users/{user_id(app, 'nia')}/assignments", {"role": "crm/sales"})
    nia = api_for(app, "nia")
    created = nia.post("/api/data/crm/deal", json={"title": "Nia's deal", "amount": "10"})
    assert created.status_code == 201, created.get_json()
    deal = created.get_json()["id"]
    assert nia.patch(f"/api/data/crm/deal/{deal}", json={"title": "Renamed"}).status_code == 403

    # a schema error is shown at its JSON path; the typed text stays in the editor
    bad = {**SALES_V2, "grants": [{**SALES_V2["grants"][0], "actions": ["read", "fly"]}], "colour": "red"}
    response = boss.post("/admin/roles/crm/sales/draft", {"body": json.dumps(bad)})
    assert response.status_code == 422
    errors = json_paths(text(response))
    assert "'fly' is not one of" in errors["grants/0/actions/1"] and "colour" in errors["/"]
    assert json.loads(editor_text(text(response)))["colour"] == "red"
    not_json = boss.post("/admin/roles/crm/sales/draft", {"body": '{"name": "sales",'})
    assert not_json.status_code == 422 and "This is not valid JSON." in text(not_json)
    # a draft naming an unknown field is saved, with the refusal that publishing would give
    unknown = {**SALES_V2, "grants": [{**SALES_V2["grants"][0], "fields": {"nope": "hidden"}}]}
    assert boss.post("/admin/roles/crm/sales/draft", {"body": json.dumps(unknown)}).status_code == 303
    page = text(boss.get("/admin/roles/crm/sales"))
    assert json_paths(page) == {"role:sales/grants/0/fields": "unknown field 'nope'"}
    refused = boss.post("/admin/roles/crm/sales/publish")
    assert refused.status_code == 422
    assert json_paths(text(refused)) == {"role:sales/grants/0/fields": "unknown field 'nope'"}
    assert nia.patch(f"/api/data/crm/deal/{deal}", json={"title": "Renamed"}).status_code == 403

    # the valid draft is published: the data API honours it for the role's holder at once
    assert boss.post("/admin/roles/crm/sales/draft", {"body": json.dumps(SALES_V2)}).status_code == 303
    assert "unpublished changes" in text(boss.get("/admin/roles/crm/sales"))
    response = boss.post("/admin/roles/crm/sales/publish")
    assert response.status_code == 303
    page = text(boss.get(response.headers["Location"]))
    assert "Published as version 2." in page and 'data-version="1"' in page and 'data-version="2"' in page
    updated = nia.patch(f"/api/data/crm/deal/{deal}", json={"title": "Renamed", "version": 1})
    assert updated.status_code == 200, updated.get_json()

    # roll back to version 1: a new version 3 with the old body; updating is refused again
    response = boss.post("/admin/roles/crm/sales/rollback/1")
    assert response.status_code == 303
    page = text(boss.get("/admin/roles/crm/sales"))
    assert "Version 1 published again as version 3." in page
    assert json.loads(editor_text(page))["grants"][0]["actions"] == ["read", "create"]
    assert nia.patch(f"/api/data/crm/deal/{deal}", json={"title": "Again"}).status_code == 403
    assert boss.post("/admin/roles/crm/sales/rollback/9").status_code == 422
    assert boss.get("/admin/roles/crm/ghost").status_code == 404
    kinds = [e["detail"].get("version") for e in boss_events(app, "definition_published")]
    assert kinds[:2] == [3, 2]


def boss_events(app, kind: str) -> list[dict]:
    api = api_for(app, "admin", "root-pass-2026")
    return api.get(f"/api/admin/security-events?kind={kind}").get_json()["data"]


def test_a_new_role_is_created_as_a_draft(app, crm, boss):
    response = boss.post("/admin/roles/new", {"app": "crm", "name": "auditor"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/roles/crm/auditor"
    page = text(boss.get("/admin/roles/crm/auditor"))
    assert json.loads(editor_text(page)) == {
        "schema_version": 1,
        "name": "auditor",
        "label": "auditor",
        "grants": [],
    }
    assert "Not published yet." in page
    assert boss.post("/admin/roles/new", {"app": "crm", "name": "auditor"}).status_code == 422
    bad_name = boss.post("/admin/roles/new", {"app": "crm", "name": "Bad Name"})
    assert bad_name.status_code == 422 and "does not match" in text(bad_name)
    assert boss.post("/admin/roles/new", {"app": "nowhere", "name": "x"}).status_code == 422
    assert boss.post("/admin/roles/crm/auditor/publish").status_code == 303
    with app.extensions["lowcode"].db.read() as s:
        published = s.scalar(sa.select(Definition.published_version).where(Definition.name == "auditor"))
    assert published == 1
    assert "crm/auditor" in text(boss.get(f"/admin/users/{user_id(app, 'nia')}"))  # now assignable


def test_explain_shows_why_an_action_is_denied(app, crm, boss):
    boss.post(f"/admin/users/{user_id(app, 'nia')}/assignments", {"role": "crm/sales"})
    page = text(boss.get("/admin/explain?user=nia&app=crm&entity=deal&ip=10.0.0.1"))
    rows = dict(re.findall(r'<tr data-action="(\w+)".*?data-allowed="(\w+)"', page, re.S))
    assert rows == {"read": "yes", "create": "yes", "update": "no", "delete": "no", "export": "no",
                    "import": "no", "approve": "no", "configure": "no"}  # fmt: skip
    delete_row = page.split('data-action="delete"')[1].split("</tr>")[0]
    assert "no role that grants &#39;delete&#39;" in delete_row
    assert "owner is the user&#39;s id" in page  # the record rule as a sentence
    assert "Hidden fields: Secret cost" in " ".join(page.split())
    missing = boss.get("/admin/explain?user=nobody&app=crm&entity=deal")
    assert missing.status_code == 404 and "No user" in text(missing)


def test_a_token_is_shown_once_then_listed_without_it_and_revoked(app, crm, boss):
    nia = user_id(app, "nia")
    refused = boss.post("/admin/tokens", {"user_id": str(nia), "role": "crm/viewer", "name": ""})
    assert refused.status_code == 422 and "A token needs a name" in text(refused)
    response = boss.post("/admin/tokens", {"user_id": str(nia), "role": "crm/viewer", "name": "ERP"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = text(response)
    token = re.search(r'id="new-token" value="([^"]+)"', page).group(1)
    assert "shown only this once" in page
    integrator = ApiClient(app.test_client(), token)
    assert integrator.get("/api/data/crm/deal").status_code == 200
    listing = text(boss.get("/admin/tokens"))
    assert "ERP" in listing and token not in listing and token[:12] not in listing
    with app.extensions["lowcode"].db.read() as s:
        token_id = s.scalar(sa.select(ApiToken.id).where(ApiToken.name == "ERP"))
    assert boss.post(f"/admin/tokens/{token_id}/revoke").status_code == 303
    listing = text(boss.get("/admin/tokens"))
    assert "Revoked" in listing and f"/admin/tokens/{token_id}/revoke" not in listing
    assert integrator.get("/api/data/crm/deal").status_code == 401
    again = boss.post(f"/admin/tokens/{token_id}/revoke")
    assert again.status_code == 422 and "already revoked" in text(again)


def test_review_report_and_security_events(app, crm, boss):
    with app.extensions["lowcode"].db.read() as s:
        viewer = s.scalar(sa.select(RoleAssignment.id).where(RoleAssignment.role == "viewer"))
    assert boss.post(f"/admin/assignments/{viewer}/end").status_code == 303
    page = text(boss.get("/admin/review"))
    admins = page.split('class="review-admins"')[1].split("</ul>")[0]
    assert "admin" in admins and "platform administrator" in admins and "nia" not in admins
    past_end = page.split('class="review-past-end"')[1].split("</section>")[0]
    assert f'data-assignment="{viewer}"' in past_end and "nia" in past_end
    page = text(boss.get("/admin/security?kind=user_changed"))
    assert set(re.findall(r'<tr data-kind="(\w+)"', page)) <= {"user_changed"}
    boss.post("/admin/users", {"username": "kim", "password": PASSWORD})
    page = text(boss.get("/admin/security?kind=user_changed&limit=50"))
    assert re.findall(r'<tr data-kind="(\w+)"', page) == ["user_changed"] and "kim" in page
    everything = text(boss.get("/admin/security"))
    assert "login_succeeded" in everything
    assert boss.get("/admin/security?kind=bogus").status_code == 400


def test_conditions_read_as_sentences(app):
    from lowcode.pages.admin_reports import describe_condition, describe_context

    rule = {"any": [{"all": [{"field": "stage", "op": "in", "value": ["open", "won"]},
                             {"field": "amount", "op": "between", "value": [1, 9]}]},
                    {"not": {"field": "region", "op": "is_empty"}},
                    {"field": "team", "op": "=", "value": "$user.department"}]}  # fmt: skip
    with app.test_request_context("/admin/explain"):
        assert describe_condition(rule) == (
            "((stage is one of 'open', 'won' and amount is between 1 and 9) or not (region is empty) "
            "or team is the user's department)"
        )
        assert describe_condition({"all": []}) == "always"
        assert describe_context("hours", {"from": "09:00", "to": "17:00", "days": [1, 2]}) == (
            "from 09:00 to 17:00 (UTC) on weekdays 1, 2"
        )
    with app.test_request_context("/admin/explain", headers={"Accept-Language": "zh-CN"}):
        assert describe_condition({"field": "level", "op": ">=", "value": 3}) == "level 不小于 3"
