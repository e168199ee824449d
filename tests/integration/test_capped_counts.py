"""Counts that do not scan a big table for every first page: a list counts at most ``COUNT_LIMIT`` rows and
then says "more than N" - in the API (``total_exact``), the list page and the app home's queue counts, in
both languages - and stays exact below the limit, within the reader's record rules (issue 14, item 2)."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import add_role_users, signed_in, text

LIMIT = 3
PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {
        "name": "desk",
        "label": "Desk",
        "queues": [
            {"name": "open", "label": "Open", "entity": "ticket", "condition": {"field": "state", "op": "=", "value": "open"}},
            {"name": "closed", "label": "Closed", "entity": "ticket", "condition": {"field": "state", "op": "=", "value": "closed"}},
        ],
    },
    "entities": [{"name": "ticket", "label": "Ticket", "title_field": "title", "fields": [
        {"name": "title", "type": "text"},
        {"name": "state", "type": "select", "options": {"choices": [{"value": "open"}, {"value": "closed"}]}},
        {"name": "agent", "type": "text"},
    ]}],
    "roles": [{"name": "agent", "label": "Agent", "grants": [
        {"entity": "ticket", "actions": ["read"], "record_rule": {"field": "agent", "op": "=", "value": "amy"}},
    ]}],
}  # fmt: skip


@pytest.fixture
def app_config() -> dict:
    return {"COUNT_LIMIT": LIMIT}


@pytest.fixture
def desk(app, api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    for n in range(5):
        body = {"title": f"t{n}", "state": "open", "agent": "amy" if n < 2 else "bob"}
        assert api.post("/api/data/desk/ticket", json=body).status_code == 201
    assert api.post("/api/data/desk/ticket", json={"title": "c", "state": "closed"}).status_code == 201
    add_role_users(app, "desk", {"amy": "agent"}, PASSWORD)
    return api


def test_the_api_counts_up_to_the_limit_then_says_it_is_a_lower_bound(desk):
    everything = desk.get("/api/data/desk/ticket?limit=2").get_json()
    assert (everything["total"], everything["total_exact"]) == (LIMIT, False)
    assert len(everything["data"]) == 2  # the page itself is not capped
    closed = desk.get('/api/data/desk/ticket?filter={"field":"state","op":"=","value":"closed"}').get_json()
    assert (closed["total"], closed["total_exact"]) == (1, True)
    exactly = desk.get(
        "/api/data/desk/ticket?filter=" + '{"field":"title","op":"in","value":["t0","t1","t2"]}'
    )
    assert (exactly.get_json()["total"], exactly.get_json()["total_exact"]) == (3, True)


def test_a_reader_counts_only_what_her_record_rule_lets_her_read(app, desk):
    amy = signed_in(app, "amy", PASSWORD)
    response = amy.get("/api/data/desk/ticket")
    assert (response.get_json()["total"], response.get_json()["total_exact"]) == (2, True)
    assert 'data-exact="yes"' in text(amy.get("/a/desk/ticket"))


@pytest.mark.parametrize(("lang", "more"), [("en", "More than 3 records"), ("zh_CN", "超过 3 条记录")])
def test_the_list_page_and_the_queues_say_more_than_the_limit(app, desk, lang, more):
    admin = signed_in(app, "admin", ADMIN_PASSWORD, lang)
    page = text(admin.get("/a/desk/ticket"))
    assert 'data-total="3" data-exact="no"' in page and more in page
    home = text(admin.get("/a/desk"))
    assert 'data-count="3">3+</div>' in home  # the open queue: 5 tickets
    assert 'data-count="1">1</div>' in home  # the closed one, exact
