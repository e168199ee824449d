"""Related lists follow the reader's record rules: a rep whose rule shows only their own visits sees only those
in a customer's related list - on the record page and on every "load more" page - and counts only those."""

from __future__ import annotations

import html
import re

import pytest

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment
from tests.conftest import ApiClient, login

from .helpers import Browser, text

PASSWORD = "rep-pass-2026"
OWN = {"field": "owner", "op": "=", "value": "$user.id"}
BUNDLE = {
    "app": {"name": "crm", "label": {"en": "CRM", "zh-CN": "客户管理"}},
    "entities": [
        {
            "name": "customer",
            "label": {"en": "Customer", "zh-CN": "客户"},
            "title_field": "name",
            "fields": [
                {"name": "name", "type": "text", "label": {"en": "Name", "zh-CN": "名称"}, "required": True}
            ],
        },
        {
            "name": "visit",
            "label": {"en": "Visit", "zh-CN": "拜访"},
            "title_field": "note",
            "fields": [
                {"name": "note", "type": "text", "label": {"en": "Note", "zh-CN": "备注"}, "required": True},
                {
                    "name": "customer",
                    "type": "link",
                    "label": {"en": "Customer", "zh-CN": "客户"},
                    "options": {"entity": "customer"},
                },
            ],
        },
    ],
    "views": [
        {
            "name": "customer_list",
            "entity": "customer",
            "label": "Customers",
            "columns": ["name"],
            "related": [
                {
                    "name": "visits",
                    "entity": "visit",
                    "field": "customer",
                    "label": {"en": "Visits", "zh-CN": "拜访记录"},
                    "columns": ["note"],
                    "sort": [{"field": "note"}],
                    "page_size": 2,
                }
            ],
        },
        {"name": "visit_list", "entity": "visit", "label": "Visits", "columns": ["note", "customer"]},
    ],
    "roles": [
        {
            "name": "rep",
            "label": "Rep",
            "grants": [
                {"entity": "customer", "actions": ["read"]},
                {"entity": "visit", "actions": ["read", "create"], "record_rule": OWN},
            ],
        },
    ],
}
MORE = re.compile(r'<tr class="related-more">.*?hx-get="([^"]+)"', re.S)


def _visits(page: str) -> list[str]:
    """The titles of the visits a related-list page (or rows partial) shows, in order."""
    return [html.unescape(t) for t in re.findall(r'<a href="/a/crm/visit/\d+">([^<]*)</a>', page)]


@pytest.fixture
def crm(app, api):
    """One customer with three visits by ann and three by bob, made in turns (ann-1, bob-1, ann-2, ...)."""
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    with app.extensions["lowcode"].db.write() as s:
        for name in ("ann", "bob"):
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="crm", role="rep", granted_by="test"))
    customer = api.post("/api/data/crm/customer", json={"name": "Acme"}).get_json()["id"]
    reps = {}
    for name in ("ann", "bob"):
        client = app.test_client()
        reps[name] = ApiClient(client, login(client, name, PASSWORD))
    for i in (1, 2, 3):
        for name in ("ann", "bob"):
            body = {"note": f"{name}-{i}", "customer": customer}
            assert reps[name].post("/api/data/crm/visit", json=body).status_code == 201
    return customer


@pytest.mark.parametrize(("lang", "label"), [("en", "Visits"), ("zh_CN", "拜访记录")])
def test_a_related_list_shows_only_the_records_the_readers_rule_allows(app, crm, lang, label):
    browser = Browser(app.test_client())
    assert browser.login("ann", PASSWORD).status_code == 303
    assert browser.post("/language", {"lang": lang, "next": "/"}).status_code == 303
    page = text(browser.get(f"/a/crm/customer/{crm}"))
    section = page[page.index('data-related="visits"') :]
    assert label in section
    assert _visits(section) == ["ann-1", "ann-2"]  # the first page of two, bob's left out
    assert 'rounded-pill">3<' in section  # counted within the rule: ann's three, not six
    more = MORE.search(section)
    assert more, "no 'load more' link"
    rest = browser.get(html.unescape(more.group(1)), htmx=True)
    assert rest.status_code == 200
    assert _visits(text(rest)) == ["ann-3"] and "bob" not in text(rest) and not MORE.search(text(rest))
    assert "bob" not in page


def test_the_administrator_sees_every_related_record_over_the_pages(admin_browser, crm):
    page = text(admin_browser.get(f"/a/crm/customer/{crm}"))
    seen = _visits(page[page.index('data-related="visits"') :])
    more = MORE.search(page)
    while more:
        rows = text(admin_browser.get(html.unescape(more.group(1)), htmx=True))
        seen += _visits(rows)
        more = MORE.search(rows)
    assert seen == ["ann-1", "ann-2", "ann-3", "bob-1", "bob-2", "bob-3"]


@pytest.fixture
def admin_browser(app) -> Browser:
    from tests.conftest import ADMIN_PASSWORD

    browser = Browser(app.test_client())
    assert browser.login("admin", ADMIN_PASSWORD).status_code == 303
    return browser
