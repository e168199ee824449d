"""Shared fixtures: an app on a fresh database, an admin API client, template helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lowcode.app import create_app
from lowcode.auth import users
from lowcode.commands import ensure_admin, install_template
from tests.dbs import GRAVEYARD, copy_of, fresh_database
from tests.route_builders import share_route_builders

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "root-pass-2026"
# The suite runs as "testing": short secret keys and cookies over plain http (docs/SECURITY.md). Set here so
# that the commands the tests run (CliRunner, subprocesses) inherit it.
os.environ.setdefault("LOWCODE_ENV", "testing")
# Every test signs someone in, most create users: the production scrypt cost (N=2**15, ~100 ms and 32 MB per
# hash or check) was most of the suite's set-up time. The tests hash at N=2**10 - still scrypt, still salted,
# checked by the same code; tests/unit/auth/test_password_hashing.py pins the production method.
PRODUCTION_PASSWORD_METHOD = users.PASSWORD_METHOD
users.PASSWORD_METHOD = "scrypt:1024:8:1"
share_route_builders()  # each app's routes compile their URL builders once per process (tests/route_builders.py)


def pytest_sessionfinish(session):
    """Drop the PostgreSQL databases of this test process that are still waiting (tests/dbs.py)."""
    GRAVEYARD.flush()


@pytest.fixture
def app_config() -> dict:
    """Extra settings for the ``app`` fixture (a test folder's conftest may override this)."""
    return {}


@pytest.fixture(scope="session")
def demo_seed(tmp_path_factory) -> str:
    """Once per test process: a database with the administrator and the demo template installed (definitions
    and demo data); the ``app`` of a test that asks for ``demo_api`` starts on a copy of it."""
    with fresh_database(tmp_path_factory.mktemp("demo_seed")) as url:
        application = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret"})
        ensure_admin(application, "admin", ADMIN_PASSWORD)
        install_template(application, ROOT / "app_templates" / "demo")
        application.extensions["lowcode"].db.dispose()  # a copy needs the seed without connections
        yield url


@pytest.fixture
def app(request, tmp_path, app_config):
    """The app on a fresh database (SQLite file, or PostgreSQL with LOWCODE_TEST_DB=postgresql) - a copy of
    the demo seed when the test uses ``demo_api``."""
    seeded = "demo_api" in request.fixturenames
    database = copy_of(request.getfixturevalue("demo_seed"), tmp_path) if seeded else fresh_database(tmp_path)
    with database as url:
        application = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", **app_config})
        ensure_admin(application, "admin", ADMIN_PASSWORD)
        yield application
        application.extensions["lowcode"].db.dispose()


class ApiClient:
    """A test client that sends a bearer token and JSON."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method, url, json=None, headers=None, **kw):
        merged = {**self.headers, **(headers or {})}
        return self.client.open(url, method=method, json=json, headers=merged, **kw)

    def get(self, url, **kw):
        return self._call("GET", url, **kw)

    def post(self, url, json=None, **kw):
        return self._call("POST", url, json=json, **kw)

    def put(self, url, json=None, **kw):
        return self._call("PUT", url, json=json, **kw)

    def patch(self, url, json=None, **kw):
        return self._call("PATCH", url, json=json, **kw)

    def delete(self, url, **kw):
        return self._call("DELETE", url, **kw)


def login(client, username: str, password: str) -> str:
    """Sign in through the API; returns the bearer token."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


@pytest.fixture
def api(app) -> ApiClient:
    """An API client signed in as the administrator."""
    client = app.test_client()
    return ApiClient(client, login(client, "admin", ADMIN_PASSWORD))


@pytest.fixture
def demo_api(app, api) -> ApiClient:
    """The admin client with the demo template installed (definitions and demo data): ``app`` is then a copy
    of ``demo_seed``, installed once per test process."""
    return api
