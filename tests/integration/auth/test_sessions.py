"""Sessions and tokens end when they should (issue 9, item 4): sign-in tokens expire and can be refreshed;
a password reset, a deactivation and a role removal end every session and token of the user, cookies
included; signing out ends the sign-in whichever credential it was opened or closed with.

Each user signs in twice: through the page form (a cookie, ``Browser``) and through ``/api/auth/login``
(a bearer token and a cookie of that same sign-in)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lowcode.app import create_app
from lowcode.auth.users import hash_token
from lowcode.commands import ensure_admin
from lowcode.core.models import ApiToken, SecurityEvent
from tests.conftest import ADMIN_PASSWORD, ApiClient
from tests.dbs import fresh_database
from tests.integration.pages.helpers import Browser

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "crm", "label": "CRM"},
    "entities": [{"name": "lead", "label": "Lead", "fields": [{"name": "title", "type": "text"}]}],
    "roles": [
        {"name": "sales", "label": "Sales", "grants": [{"entity": "lead", "actions": ["read"]}]},
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "lead", "actions": ["read"]}]},
    ],
}


class SignIns:
    """One user's live credentials: a page cookie, and an API sign-in (bearer plus its own cookie)."""

    def __init__(self, app, username: str, password: str = PASSWORD):
        self.app = app
        self.page = Browser(app.test_client())
        assert self.page.login(username, password).status_code == 303
        self.api_client = app.test_client()
        response = self.api_client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        self.body = response.get_json()
        self.bearer = self.body["token"]

    def page_alive(self) -> bool:
        status = self.page.client.get("/api/auth/me").status_code
        assert self.page.client.get("/").status_code == (200 if status == 200 else 302)
        return status == 200

    def api_cookie_alive(self) -> bool:
        return self.api_client.get("/api/auth/me").status_code == 200

    def bearer_alive(self, token: str | None = None) -> bool:
        headers = {"Authorization": f"Bearer {token or self.bearer}"}
        return self.app.test_client(use_cookies=False).get("/api/auth/me", headers=headers).status_code == 200

    def all_alive(self) -> list[bool]:
        return [self.page_alive(), self.api_cookie_alive(), self.bearer_alive()]


@pytest.fixture
def crm(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    return api


def new_user(api, username: str, role: str | None = "sales") -> tuple[int, int | None]:
    created = api.post("/api/admin/users", json={"username": username, "password": PASSWORD})
    assert created.status_code == 201, created.get_json()
    user_id = created.get_json()["id"]
    if role is None:
        return user_id, None
    assigned = api.post("/api/admin/assignments", json={"user_id": user_id, "app": "crm", "role": role})
    assert assigned.status_code == 201, assigned.get_json()
    return user_id, assigned.get_json()["id"]


def integrator_token(api, user_id: int, role: str = "sales") -> str:
    body = {"user_id": user_id, "app": "crm", "role": role, "name": f"sync-{role}"}
    response = api.post("/api/admin/tokens", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def expire(app, token: str) -> None:
    """Put a token's ``expires_at`` in the past (instead of waiting for it)."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with app.extensions["lowcode"].db.write() as s:
        s.execute(sa.update(ApiToken).where(ApiToken.token_hash == hash_token(token)).values(expires_at=past))


# -- expiry and refresh -----------------------------------------------------------------------------------
def test_sign_in_tokens_expire_after_the_configured_lifetime(tmp_path):
    with fresh_database(tmp_path) as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "TOKEN_TTL_HOURS": 3})
        try:
            ensure_admin(app, "admin", ADMIN_PASSWORD)
            before = dt.datetime.now(dt.UTC)
            admin = SignIns(app, "admin", ADMIN_PASSWORD)
            expires = dt.datetime.fromisoformat(admin.body["expires_at"])
            assert before + dt.timedelta(hours=3) <= expires <= before + dt.timedelta(hours=3, minutes=1)
            with app.extensions["lowcode"].db.read() as s:
                stored = s.scalar(
                    sa.select(ApiToken.expires_at).where(ApiToken.token_hash == hash_token(admin.bearer))
                )
            assert stored is not None
            expire(app, admin.bearer)
            assert not admin.bearer_alive()
            assert not admin.api_cookie_alive()  # the cookie of that sign-in ends with its token
            assert admin.page_alive()  # another sign-in
        finally:
            app.extensions["lowcode"].db.dispose()


def test_the_default_lifetime_is_twelve_hours(app):
    before = dt.datetime.now(dt.UTC)
    response = app.test_client().post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    expires = dt.datetime.fromisoformat(response.get_json()["expires_at"])
    assert before + dt.timedelta(hours=12) <= expires <= before + dt.timedelta(hours=12, minutes=1)


def test_a_page_cookie_expires_too(app):
    browser = Browser(app.test_client())
    assert browser.login("admin", ADMIN_PASSWORD).status_code == 303
    assert browser.client.get("/").status_code == 200
    with browser.client.session_transaction() as cookie:
        assert cookie["exp"] > dt.datetime.now(dt.UTC).timestamp() + 11 * 3600
        cookie["exp"] = int(dt.datetime.now(dt.UTC).timestamp()) - 1  # what the clock would do in 12 h
    assert browser.client.get("/").status_code == 302
    assert browser.client.get("/api/auth/me").status_code == 401


def test_refresh_exchanges_a_live_sign_in_token_for_a_new_one(app, crm):
    user_id, _ = new_user(crm, "sam")
    sam = SignIns(app, "sam")
    refreshed = app.test_client().post("/api/auth/refresh", headers={"Authorization": f"Bearer {sam.bearer}"})
    assert refreshed.status_code == 200, refreshed.get_json()
    body = refreshed.get_json()
    assert (
        body["token"] != sam.bearer and body["token_type"] == "Bearer" and body["user"]["username"] == "sam"
    )
    assert dt.datetime.fromisoformat(body["expires_at"]) > dt.datetime.now(dt.UTC) + dt.timedelta(hours=11)
    assert sam.bearer_alive(body["token"])
    with app.extensions["lowcode"].db.read() as s:
        logged = s.scalars(sa.select(SecurityEvent).where(SecurityEvent.kind == "token_created")).all()
        assert [(e.username, e.detail.get("refreshed")) for e in logged] == [("sam", True)]
    assert not sam.bearer_alive()  # the old token is revoked
    assert not sam.api_cookie_alive()  # and the cookie of its sign-in with it
    again = app.test_client().post("/api/auth/refresh", headers={"Authorization": f"Bearer {sam.bearer}"})
    assert again.status_code == 401
    expire(app, body["token"])
    late = app.test_client().post("/api/auth/refresh", headers={"Authorization": f"Bearer {body['token']}"})
    assert late.status_code == 401  # an expired token cannot be refreshed
    plain = integrator_token(crm, user_id)
    refused = app.test_client().post("/api/auth/refresh", headers={"Authorization": f"Bearer {plain}"})
    assert refused.status_code == 403 and sam.bearer_alive(plain)
    assert app.test_client().post("/api/auth/refresh").status_code == 401


# -- an administrator ends a user's sessions ------------------------------------------------------------
@pytest.mark.parametrize(
    "change", [{"password": "new-password-9"}, {"active": False}], ids=["password reset", "deactivation"]
)
def test_reset_and_deactivation_end_every_session_and_token(app, crm, change):
    user_id, _ = new_user(crm, "sam")
    sam = SignIns(app, "sam")
    plain = integrator_token(crm, user_id)
    assert sam.all_alive() == [True, True, True]
    assert crm.patch(f"/api/admin/users/{user_id}", json=change).status_code == 200
    assert sam.all_alive() == [False, False, False]
    if "active" in change:  # reactivating revives nothing, not even the integrator token
        assert crm.patch(f"/api/admin/users/{user_id}", json={"active": True}).status_code == 200
        assert sam.all_alive() == [False, False, False]
        assert not sam.bearer_alive(plain)
    else:  # integrator tokens do not come from the password: an administrator revokes them by id
        assert sam.bearer_alive(plain)


def test_losing_administrator_rights_ends_every_session(app, crm):
    boss_id, _ = new_user(crm, "boss", role=None)
    assert crm.patch(f"/api/admin/users/{boss_id}", json={"is_admin": True}).status_code == 200
    boss = SignIns(app, "boss")
    assert crm.patch(f"/api/admin/users/{boss_id}", json={"job_title": "Boss"}).status_code == 200
    assert boss.all_alive() == [True, True, True]  # other changes end nothing
    assert crm.patch(f"/api/admin/users/{boss_id}", json={"is_admin": False}).status_code == 200
    assert boss.all_alive() == [False, False, False]


def test_role_removal_ends_every_session_and_the_tokens_of_that_role(app, crm):
    user_id, sales = new_user(crm, "sam")
    viewer = crm.post("/api/admin/assignments", json={"user_id": user_id, "app": "crm", "role": "viewer"})
    assert viewer.status_code == 201
    sam = SignIns(app, "sam")
    sales_token, viewer_token = integrator_token(crm, user_id), integrator_token(crm, user_id, "viewer")
    assert crm.delete(f"/api/admin/assignments/{sales}").status_code == 200
    assert sam.all_alive() == [False, False, False]
    assert not sam.bearer_alive(sales_token)  # it acted with the removed role
    assert sam.bearer_alive(viewer_token)


# -- signing out ------------------------------------------------------------------------------------------
def test_bearer_logout_ends_the_cookie_of_the_same_sign_in_only(app, crm):
    new_user(crm, "sam")
    sam = SignIns(app, "sam")
    other = app.test_client().post("/api/auth/login", json={"username": "sam", "password": PASSWORD})
    other_token = other.get_json()["token"]
    out = ApiClient(app.test_client(use_cookies=False), sam.bearer).post("/api/auth/logout")
    assert out.status_code == 204
    assert not sam.bearer_alive() and not sam.api_cookie_alive()
    assert sam.page_alive() and sam.bearer_alive(other_token)  # other sign-ins go on


def test_cookie_logout_revokes_the_token_of_its_own_sign_in_only(app, crm):
    new_user(crm, "sam")
    sam = SignIns(app, "sam")
    other = app.test_client().post("/api/auth/login", json={"username": "sam", "password": PASSWORD})
    other_token = other.get_json()["token"]
    out = sam.api_client.post("/api/auth/logout", headers={"X-CSRF-Token": sam.body["csrf_token"]})
    assert out.status_code == 204
    assert not sam.api_cookie_alive() and not sam.bearer_alive()
    assert not sam.page_alive()  # a cookie sign-out ends every cookie session of the user (the epoch)
    assert sam.bearer_alive(other_token)  # but no other bearer sign-in
