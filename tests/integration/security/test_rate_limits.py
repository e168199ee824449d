"""Request rate limits on the API (issue 9, item 2): per token, per cookie user, per address for anonymous
callers and for failed authentications; 429 in the API's error shape with Retry-After; a shared Redis store.

The suite runs with limits so high they never bite (``TESTING_DEFAULTS`` in lowcode/config.py); these tests
set small ones through ``app_config``."""

from __future__ import annotations

import secrets
import uuid

import pytest
import redis

from lowcode.app import create_app
from lowcode.config import InsecureSettings, load_settings
from tests.conftest import ADMIN_PASSWORD, ApiClient, login
from tests.dbs import fresh_database, skip_or_fail
from tests.integration.pages.helpers import Browser

PASSWORD = "user-pass-123"
LIMITS = {"RATE_LIMIT": "6/minute", "RATE_LIMIT_WRITES": "3/minute", "RATE_LIMIT_AUTH_FAILURES": "4/minute"}


@pytest.fixture
def app_config() -> dict:
    return dict(LIMITS)


def client_at(app, address: str, use_cookies: bool = False):
    """A test client whose requests come from ``address``."""
    client = app.test_client(use_cookies=use_cookies)
    client.environ_base["REMOTE_ADDR"] = address
    return client


def new_user(api: ApiClient, username: str) -> None:
    created = api.post("/api/admin/users", json={"username": username, "password": PASSWORD})
    assert created.status_code == 201, created.get_json()


def spend(client, count: int, headers: dict | None = None, url: str = "/api/auth/me") -> list[int]:
    return [client.get(url, headers=headers or {}).status_code for _ in range(count)]


def assert_limited(response, limit: int, what: str, who: str) -> None:
    """A 429 in the API's error shape, telling when to come back."""
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"] == f"Too many {what}: at most {limit} per minute for {who}. Try again later."
    assert 0 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_a_token_over_its_limit_gets_429_while_another_token_still_passes(app, api):
    new_user(api, "carol")  # the admin token's 1st request (a write)
    carol = app.test_client(use_cookies=False)
    carol_headers = {"Authorization": f"Bearer {login(carol, 'carol', PASSWORD)}"}
    first = api.get("/api/auth/me")
    assert first.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "6"
    assert first.headers["X-RateLimit-Remaining"] == "4"
    assert "Retry-After" not in first.headers
    assert [api.get("/api/auth/me").status_code for _ in range(4)] == [200] * 4
    assert_limited(api.get("/api/auth/me"), 6, "requests", "this token")
    assert api.get("/api/auth/me").status_code == 429  # and it stays refused
    assert spend(carol, 6, carol_headers) == [200] * 6  # another user's token is counted apart


def test_two_tokens_of_one_user_are_counted_apart(app, api):
    second = ApiClient(app.test_client(use_cookies=False), login(app.test_client(), "admin", ADMIN_PASSWORD))
    assert [api.get("/api/auth/me").status_code for _ in range(7)] == [200] * 6 + [429]
    assert second.get("/api/auth/me").status_code == 200


def test_cookie_sessions_are_counted_per_user_not_per_address(app, api):
    new_user(api, "dave")
    new_user(api, "erin")
    dave, erin = Browser(app.test_client()), Browser(app.test_client())  # both from 127.0.0.1
    assert dave.login("dave", PASSWORD).status_code == 303
    assert erin.login("erin", PASSWORD).status_code == 303
    assert spend(dave.client, 6) == [200] * 6
    assert_limited(dave.client.get("/api/auth/me"), 6, "requests", "this user")
    assert spend(erin.client, 6) == [200] * 6
    another_dave = Browser(app.test_client())  # a second sign-in of the same user shares the count
    assert another_dave.login("dave", PASSWORD).status_code == 303
    assert another_dave.client.get("/api/auth/me").status_code == 429


def test_anonymous_requests_are_counted_by_client_address(app):
    one, two = client_at(app, "10.0.0.1"), client_at(app, "10.0.0.2")
    assert spend(one, 6, url="/api/openapi.json") == [200] * 6
    assert_limited(one.get("/api/openapi.json"), 6, "requests", "this address")
    assert spend(two, 1, url="/api/openapi.json") == [200]
    # sign-in attempts are anonymous requests too: the limit holds before the password is even checked
    refused = one.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert refused.status_code == 429


def test_writes_have_their_own_smaller_limit(app, demo_api):
    def create(n: int) -> int:
        body = {"code": f"RL{n}", "name": f"Rate {n}"}
        return demo_api.post("/api/data/demo/customer", json=body).status_code

    assert [create(n) for n in range(3)] == [201] * 3
    response = demo_api.post("/api/data/demo/customer", json={"code": "RL9", "name": "Over"})
    assert_limited(response, 3, "writes", "this token")
    listed = demo_api.get("/api/data/demo/customer?limit=500")
    assert listed.status_code == 200  # reads still pass
    codes = sorted(r["code"] for r in listed.get_json()["data"] if r["code"].startswith("RL"))
    assert codes == ["RL0", "RL1", "RL2"]  # the refused write wrote nothing


def test_guessed_tokens_are_limited_by_the_address_they_come_from(app, api):
    guesser, bystander = client_at(app, "10.0.0.7"), client_at(app, "10.0.0.8")

    def guess(client) -> int:
        return client.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {secrets.token_urlsafe(24)}"}
        ).status_code

    assert [guess(guesser) for _ in range(4)] == [401] * 4  # each guess is a new credential...
    assert_limited(
        guesser.get("/api/auth/me", headers={"Authorization": "Bearer x"}),
        4,
        "failed authentications",
        "this address",
    )
    assert guess(bystander) == 401  # ...but they all came from one address
    assert api.get("/api/auth/me").status_code == 200  # a valid token from elsewhere is not concerned


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer \u00e9\u00ff",
        "Basic YWRtaW46cm9vdA==",
        "Bearer " + "a" * 8000,
        "bearer\tx",
    ],
)
def test_malformed_credentials_are_counted_not_crashed_on(app, header):
    client = client_at(app, "10.0.0.9")
    statuses = spend(client, 7, {"Authorization": header}, url="/api/openapi.json")
    assert set(statuses) <= {200, 401, 429} and statuses[6] == 429  # 401s meet the auth failure limit first


def test_a_forged_session_cookie_is_counted_by_address(app):
    client = client_at(app, "10.0.0.10", use_cookies=True)
    client.set_cookie("session", "eyJ1c2VyX2lkIjoxfQ.forged.signature")
    assert spend(client, 7, url="/api/openapi.json") == [200] * 6 + [429]
    assert client_at(app, "10.0.0.11").get("/api/openapi.json").status_code == 200


def test_pages_are_not_rate_limited(app):
    client = client_at(app, "10.0.0.12")
    assert {client.get("/login").status_code for _ in range(10)} == {200}
    assert "X-RateLimit-Limit" not in client.get("/login").headers


def test_the_limits_can_be_switched_off(tmp_path):
    with fresh_database(tmp_path) as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "k", **LIMITS, "RATE_LIMIT_ENABLED": False})
        try:
            client = client_at(app, "10.0.0.13")
            assert spend(client, 10, url="/api/openapi.json") == [200] * 10
            assert "X-RateLimit-Limit" not in client.get("/api/openapi.json").headers
        finally:
            app.extensions["lowcode"].db.dispose()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("RATE_LIMIT", "lots", "LOWCODE_RATE_LIMIT is not a rate limit: 'lots'"),
        ("RATE_LIMIT", "-5/minute", "LOWCODE_RATE_LIMIT is not a rate limit"),
        ("RATE_LIMIT", "", "LOWCODE_RATE_LIMIT is empty"),
        ("RATE_LIMIT_WRITES", "10 per fortnight", "LOWCODE_RATE_LIMIT_WRITES is not a rate limit"),
        ("RATE_LIMIT_STRATEGY", "leaky-bucket", "LOWCODE_RATE_LIMIT_STRATEGY must be one of"),
        ("RATE_LIMIT_STORAGE", "carrier-pigeon://loft", "LOWCODE_RATE_LIMIT_STORAGE cannot be used"),
    ],
)
def test_unusable_settings_refuse_to_start(tmp_path, setting, value, message):
    with fresh_database(tmp_path) as url, pytest.raises(InsecureSettings, match=message):
        create_app({"DATABASE_URL": url, "SECRET_KEY": "k", setting: value})


def test_the_test_environment_defaults_high_limits_but_explicit_settings_win(tmp_path, monkeypatch):
    for name in ("RATE_LIMIT", "RATE_LIMIT_ENABLED"):
        monkeypatch.delenv(f"LOWCODE_{name}", raising=False)
    assert (
        load_settings(str(tmp_path), {"ENV": "production", "SECRET_KEY": "k"})["RATE_LIMIT"] == "600/minute"
    )
    testing = load_settings(str(tmp_path), {"ENV": "testing"})
    assert testing["RATE_LIMIT"] == "1000000/minute"
    assert testing["RATE_LIMIT_ENABLED"] is True
    assert (
        load_settings(str(tmp_path), {"ENV": "testing", "RATE_LIMIT": "5/minute"})["RATE_LIMIT"] == "5/minute"
    )
    monkeypatch.setenv("LOWCODE_RATE_LIMIT", "7/minute")
    monkeypatch.setenv("LOWCODE_RATE_LIMIT_ENABLED", "0")
    from_env = load_settings(str(tmp_path), {"ENV": "testing"})
    assert (from_env["RATE_LIMIT"], from_env["RATE_LIMIT_ENABLED"]) == ("7/minute", False)


def test_the_redis_store_is_shared_by_every_process(tmp_path):
    """Two apps (as two gunicorn workers) on one Redis: the count is the sum of both."""
    connection = redis.Redis(host="127.0.0.1", port=6379, db=0, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as exc:
        skip_or_fail(f"Redis is not reachable at 127.0.0.1:6379: {exc}")
    prefix = f"lc-test-{uuid.uuid4().hex[:12]}"
    settings = {**LIMITS, "SECRET_KEY": "k", "RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0",
                "RATE_LIMIT_KEY_PREFIX": prefix}  # fmt: skip
    with fresh_database(tmp_path) as url:
        workers = [create_app({"DATABASE_URL": url, **settings}) for _ in range(2)]
        try:
            clients = [client_at(worker, "10.0.0.14") for worker in workers]
            statuses = [clients[i % 2].get("/api/openapi.json").status_code for i in range(7)]
            assert statuses == [200] * 6 + [429]
            assert client_at(workers[0], "10.0.0.15").get("/api/openapi.json").status_code == 200
            assert connection.keys(f"LIMITS:LIMITER/{prefix}/*")  # the counters are in Redis
        finally:
            for key in connection.scan_iter(f"LIMITS:LIMITER/{prefix}/*"):
                connection.delete(key)
            for worker in workers:
                worker.extensions["lowcode"].db.dispose()


def test_an_unreachable_store_falls_back_to_counting_in_memory(tmp_path):
    """Redis down (nothing listens on port 1): requests are still served, and still limited per process."""
    settings = {**LIMITS, "SECRET_KEY": "k", "RATE_LIMIT_STORAGE": "redis://127.0.0.1:1/0"}
    with fresh_database(tmp_path) as url:
        app = create_app({"DATABASE_URL": url, **settings})
        try:
            assert spend(client_at(app, "10.0.0.16"), 7, url="/api/openapi.json") == [200] * 6 + [429]
        finally:
            app.extensions["lowcode"].db.dispose()


def test_serving_with_several_workers_warns_about_a_per_process_store():
    from lowcode.commands import shared_store_warning

    memory = {"RATE_LIMIT_ENABLED": True, "RATE_LIMIT_STORAGE": "memory://"}
    assert "LOWCODE_RATE_LIMIT_STORAGE=redis://" in shared_store_warning(memory, 4)
    assert shared_store_warning(memory, 1) is None
    assert shared_store_warning({**memory, "RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0"}, 4) is None
    assert shared_store_warning({**memory, "RATE_LIMIT_ENABLED": False}, 4) is None
