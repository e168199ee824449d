"""The inbox page: the user's notifications, mark read with the CSRF token, the unread count in the nav."""

from __future__ import annotations

import re

import pytest

from tests.integration.pages.helpers import Browser, csrf_of, text

from .conftest import PASSWORD, client_for, confirm, new_order

UNREAD_BADGE = re.compile(r'data-unread="(\d+)"')
ITEM = re.compile(r'data-notification="(\d+)" data-read="(true|false)"')


@pytest.fixture(scope="module", autouse=True)
def compiled_translations():
    from lowcode.pages.i18n import compile_catalogs

    compile_catalogs()


@pytest.fixture
def alice(app, sales) -> Browser:
    dave = client_for(app, "dave")
    for note in ("first", "<script>alert(1)</script>"):
        assert confirm(dave, new_order(dave, amount="5", note=note)).status_code == 200
    browser = Browser(app.test_client())
    assert browser.login("alice", PASSWORD).status_code == 303
    return browser


def _badge(page: str) -> int:
    match = UNREAD_BADGE.search(page)
    return int(match.group(1)) if match else 0


def test_the_nav_shows_the_unread_count_and_the_inbox_lists_notifications(alice):
    assert _badge(text(alice.get("/"))) == 2
    page = text(alice.get("/inbox"))
    assert [read for _, read in ITEM.findall(page)] == ["false", "false"]
    assert "Order SO-0002 confirmed" in page and "Order SO-0001 confirmed" in page
    assert page.index("SO-0002") < page.index("SO-0001")  # newest first
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert 'href="/a/sales/sales_order/1"' in page


def test_mark_read_needs_the_csrf_token_and_only_touches_ones_own(app, alice):
    page = text(alice.get("/inbox"))
    newest = int(ITEM.findall(page)[0][0])
    assert alice.post(f"/inbox/{newest}/read", csrf=False).status_code == 403
    response = alice.post(f"/inbox/{newest}/read")
    assert response.status_code == 303 and response.headers["Location"] == "/inbox"
    page = text(alice.get("/inbox"))
    assert [read for _, read in ITEM.findall(page)] == ["true", "false"] and _badge(page) == 1
    assert _badge(text(alice.get("/inbox?unread=1"))) == 1
    assert len(ITEM.findall(text(alice.get("/inbox?unread=1")))) == 1
    bob = Browser(app.test_client())
    bob.login("bob", PASSWORD)
    bobs = [int(i) for i, _ in ITEM.findall(text(bob.get("/inbox")))]
    assert alice.post(f"/inbox/{bobs[0]}/read").status_code == 404
    assert alice.post("/inbox/read-all").status_code == 303
    assert _badge(text(alice.get("/inbox"))) == 0
    assert _badge(text(bob.get("/inbox"))) == 2  # bob's are untouched


def test_the_inbox_speaks_chinese_and_anonymous_visitors_sign_in_first(app, alice):
    alice.post("/language", {"lang": "zh_CN", "next": "/inbox"})
    page = text(alice.get("/inbox"))
    assert "消息" in page and "全部标为已读" in page and "标为已读" in page
    anonymous = app.test_client().get("/inbox")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert csrf_of(page)
