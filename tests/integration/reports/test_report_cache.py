"""The report result cache (issue 16 item 4): readers with the same permission scope share an entry, a reader
with other record rules never sees another's figures, a write committed by another process (another app
instance with its own engine and cache, through its own API) shows at once, a change of access invalidates,
a rolled-back write does not. SQLite and PostgreSQL (LOWCODE_TEST_DB=postgresql)."""

from __future__ import annotations

import pytest

from lowcode.app import create_app
from tests.conftest import ADMIN_PASSWORD, ApiClient, login
from tests.integration.reports.bundle import PASSWORD, PERIOD, as_user, install

URL = f"/api/reports/shop/sales?{PERIOD}"
ANALYST = {
    "name": "analyst",
    "label": "Analyst",
    "reports": ["sales"],
    "grants": [
        {"entity": "order", "actions": ["read"]},
        {"entity": "customer", "actions": ["read"]},
    ],
}


@pytest.fixture
def shop(app, api):
    """The report bundle, an ``analyst`` role without record rules and two analysts, ann and abe."""
    from tests.integration.pages.helpers import add_role_users

    ids = install(app, api)
    assert api.put("/api/definitions/shop/role/analyst", json=ANALYST).status_code in (200, 201)
    assert api.post("/api/definitions/shop/role/analyst/publish", json={}).status_code == 200
    add_role_users(app, "shop", {"ann": "analyst", "abe": "analyst"}, PASSWORD)
    return {"api": api, "ids": ids, "cache": app.extensions["lowcode"].report_cache}


def _total(client: ApiClient) -> str | None:
    response = client.get(URL)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["totals"]["values"]["revenue"]


def _counts(cache) -> tuple[int, int]:
    return cache.stats.hits, cache.stats.misses


def test_readers_with_the_same_scope_share_an_entry(app, shop):
    ann, abe, cache = as_user(app, "ann"), as_user(app, "abe"), shop["cache"]
    cache.clear()
    hits, misses = _counts(cache)
    first = ann.get(URL).get_json()
    assert _counts(cache) == (hits, misses + 1)
    assert abe.get(URL).get_json() == first  # abe's rules are ann's: her entry answers
    assert ann.get(URL).get_json() == first
    assert _counts(cache) == (hits + 2, misses + 1)
    assert first["totals"]["values"]["revenue"] == "93.33"
    assert len(cache) == 1


def test_other_record_rules_never_see_anothers_figures(app, shop):
    ann, kim, cache = as_user(app, "ann"), as_user(app, "kim"), shop["cache"]
    assert _total(ann) == "93.33"
    assert _total(kim) == "30.00"  # kim's own orders only (owner = $user.id), a separate entry
    assert _total(ann) == "93.33"
    assert _total(kim) == "30.00"
    assert len(cache) == 2
    other_period = URL.replace("2026-02-28", "2026-01-31")
    assert as_user(app, "ann").get(other_period).get_json()["totals"]["values"]["revenue"] == "53.33"
    assert len(cache) == 3  # other parameters, another entry


def test_a_write_committed_by_another_process_shows_at_once(app, shop):
    """A second app instance on the same database (its own engine, pool and cache) writes through its API;
    the first instance's cached entry no longer stands."""
    ann, cache = as_user(app, "ann"), shop["cache"]
    assert _total(ann) == "93.33"
    assert _total(ann) == "93.33"
    hits, misses = _counts(cache)
    other = create_app({"DATABASE_URL": app.extensions["lowcode"].db.url, "SECRET_KEY": "test-secret"})
    try:
        client = other.test_client()
        admin = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
        order = shop["ids"]["orders"][0]  # 2026-01-15, lines 20.00 + 33.33
        body = admin.get(f"/api/data/shop/order/{order}").get_json()
        keep = ("id", "product", "qty", "amount", "cost")
        lines = [{k: v for k, v in line.items() if k in keep} for line in body["lines"]]
        lines[0]["amount"] = "25.00"
        response = admin.patch(
            f"/api/data/shop/order/{order}",
            json={"lines": lines},
            headers={"If-Match": f'"{body["version"]}"'},
        )
        assert response.status_code == 200, response.get_json()
    finally:
        other.extensions["lowcode"].db.dispose()
    assert _total(ann) == "98.33"  # 93.33 - 20.00 + 25.00: the child rows' parent moved the counter
    assert _counts(cache) == (hits, misses + 1)
    assert _total(ann) == "98.33"
    assert _counts(cache) == (hits + 1, misses + 1)


def test_a_write_to_a_joined_entity_invalidates(app, shop):
    ann, api = as_user(app, "ann"), shop["api"]
    names = lambda: [r["values"]["customer"] for r in ann.get(URL).get_json()["rows"]]  # noqa: E731
    assert "Acme" in names()
    acme = api.get('/api/data/shop/customer?filter={"field":"name","op":"=","value":"Acme"}').get_json()
    record = acme["data"][0]
    response = api.patch(
        f"/api/data/shop/customer/{record['id']}", json={"name": "Acme Ltd"}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200, response.get_json()
    assert "Acme Ltd" in names() and "Acme" not in names()


def test_a_change_of_access_invalidates(app, shop):
    from tests.integration.pages.helpers import add_role_users

    ann, cache = as_user(app, "ann"), shop["cache"]
    _total(ann)
    hits, misses = _counts(cache)
    add_role_users(app, "shop", {"sam": "analyst"}, PASSWORD)  # the access version moves
    assert _total(ann) == "93.33"
    assert _counts(cache) == (hits, misses + 1)


def test_a_rolled_back_write_does_not_move_the_counter(app, shop):
    from lowcode.runtime.change_counters import counter_key, read_counters, touch

    db = app.extensions["lowcode"].db
    key = counter_key("shop", "order")
    with db.read() as session:
        (before,) = read_counters(session, [key])
    assert before > 0  # the orders installed moved it
    with pytest.raises(RuntimeError), db.write() as session:
        touch(session, "shop", "order")
        raise RuntimeError("refused")
    with db.write() as session:
        touch(session, "shop", "order")
        touch(session, "shop", "order")  # once per transaction
    with db.read() as session:
        assert read_counters(session, [key, counter_key("shop", "nothing")]) == (before + 1, 0)


def test_bad_parameters_are_refused_before_the_cache(app, shop):
    response = shop["api"].get("/api/reports/shop/sales?param.period.from=yesterday")
    assert response.status_code == 400
    assert "param.period" in str(response.get_json())
    assert len(shop["cache"]) == 0
    response = as_user(app, "vic").get(URL)  # no grant: refused before any lookup
    assert response.status_code == 403


def test_the_report_page_answers_from_the_cache_in_each_language(app, shop):
    """The cached result holds no language: the page in zh_CN after the page in English, from the same entry,
    shows Chinese labels and the same figures."""
    from tests.integration.pages.helpers import signed_in

    cache = shop["cache"]
    cache.clear()
    english = signed_in(app, "ann", PASSWORD).get(f"/a/shop/reports/sales?{PERIOD}").get_data(as_text=True)
    hits, misses = _counts(cache)
    chinese = signed_in(app, "abe", PASSWORD, lang="zh_CN").get(f"/a/shop/reports/sales?{PERIOD}")
    page = chinese.get_data(as_text=True)
    assert _counts(cache) == (hits + 1, misses)
    assert "Revenue" in english and "收入" in page and "Revenue" not in page
    assert "93.33" in english and "93.33" in page
