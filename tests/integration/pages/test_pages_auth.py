"""Sign-in, sign-out, the sign-in guard, CSRF on page forms, error pages."""

from __future__ import annotations

from lowcode.auth.users import create_user
from tests.conftest import ADMIN_PASSWORD

from .helpers import Browser, csrf_of, text

PAGES = ["/", "/a/demo", "/a/demo/order", "/a/demo/order/1", "/a/demo/order/new", "/a/demo/order/1/edit"]


def test_anonymous_page_views_go_to_sign_in(browser):
    for url in PAGES:
        response = browser.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == f"/login?next={url}"
    response = browser.get("/a/demo/order?q=a&sort=-total")
    assert response.headers["Location"] == "/login?next=/a/demo/order?q%3Da%26sort%3D-total"


def test_anonymous_posts_are_refused(browser):
    response = browser.post("/a/demo/order/1/delete", csrf=False)
    assert response.status_code == 401
    assert "Please sign in" in text(response)


def test_sign_in_goes_to_next_and_sign_out_ends_the_session(demo_api, browser):
    response = browser.login("admin", ADMIN_PASSWORD, next_url="/a/demo/order")
    assert response.status_code == 303
    assert response.headers["Location"] == "/a/demo/order"
    assert browser.get("/a/demo/order").status_code == 200
    # the pre-login CSRF token was replaced at sign-in
    assert csrf_of(text(browser.get("/"))) == browser.token
    response = browser.post("/logout")
    assert response.status_code == 303
    assert browser.get("/a/demo/order").status_code == 302


def test_wrong_password_shows_the_form_again_and_repeated_failures_lock_out(browser):
    response = browser.login("admin", "not-the-password")
    assert response.status_code == 401
    page = text(response)
    assert "Wrong username or password." in page
    assert 'name="password"' in page
    assert 'value="admin"' in page  # the username is kept, the password is not
    for _ in range(4):
        browser.login("admin", "not-the-password")
    response = browser.login("admin", ADMIN_PASSWORD)  # locked out for a while, even with the password
    assert response.status_code == 429
    assert "Too many failed sign-ins" in text(response)


def test_only_relative_next_targets_are_followed(browser):
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = browser.login("admin", ADMIN_PASSWORD, next_url=target)
        assert response.status_code == 303
        assert response.headers["Location"] == "/", target


def test_sign_in_without_the_csrf_token_is_refused(browser):
    browser.get("/login")
    response = browser.client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 403
    assert browser.get("/").status_code == 302  # still signed out


def test_unknown_app_and_record_get_a_friendly_404(admin):
    for url in ("/a/nope", "/a/demo/nope", "/a/demo/order/99999", "/a/demo/order_line"):
        response = admin.get(url)
        assert response.status_code == 404, url
        page = text(response)
        assert "Not found" in page and "<nav" in page


def test_a_user_without_roles_sees_no_app_and_gets_403_with_the_reason(app, demo_api):
    with app.extensions["lowcode"].db.write() as session:
        create_user(session, "clerk", "counter-pass-1")
    browser = Browser(app.test_client())
    assert browser.login("clerk", "counter-pass-1").status_code == 303
    assert "There is no app you may use yet." in text(browser.get("/"))
    response = browser.get("/a/demo/order")
    assert response.status_code == 403
    assert "clerk has no role that grants &#39;read&#39; on demo.order" in text(response)
    response = browser.get("/a/demo")
    assert response.status_code == 403
    assert "Orders demo" not in text(response)
