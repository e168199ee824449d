"""Safe defaults at start-up: a weak secret key is refused outside development/testing, and the session
cookie is Secure unless the environment is development/testing or LOWCODE_SECURE_COOKIES says otherwise."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lowcode.app import create_app
from lowcode.cli import main
from lowcode.commands import ensure_admin
from lowcode.config import InsecureSettings
from tests.conftest import ADMIN_PASSWORD
from tests.dbs import fresh_database

STRONG = "k" * 32


def _session_cookie(app) -> str:
    ensure_admin(app, "admin", ADMIN_PASSWORD)
    response = app.test_client().post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200
    return next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))


@pytest.mark.parametrize(("env", "cookies", "secure"), [
    ("production", None, True), ("development", None, False), ("testing", None, False),
    ("production", False, False), ("development", True, True),
])  # fmt: skip
def test_session_cookie_secure_flag(tmp_path, env, cookies, secure):
    overrides = {"ENV": env, "SECRET_KEY": STRONG} | ({} if cookies is None else {"SECURE_COOKIES": cookies})
    with fresh_database(tmp_path) as url:
        app = create_app({"DATABASE_URL": url, **overrides})
        try:
            assert ("; Secure" in _session_cookie(app)) is secure
        finally:
            app.extensions["lowcode"].db.dispose()


def test_short_secret_key_refused_in_production_only(tmp_path):
    with fresh_database(tmp_path) as url:
        with pytest.raises(InsecureSettings, match="shorter than 32 bytes"):
            create_app({"DATABASE_URL": url, "ENV": "production", "SECRET_KEY": "k" * 31})
        for env in ("development", "testing"):
            create_app({"DATABASE_URL": url, "ENV": env, "SECRET_KEY": "short"}).extensions[
                "lowcode"
            ].db.dispose()
        create_app({"DATABASE_URL": url, "ENV": "production", "SECRET_KEY": STRONG}).extensions[
            "lowcode"
        ].db.dispose()
        # no key at all: one is generated in the instance folder (64 hex characters), so production starts
        create_app({"DATABASE_URL": url, "ENV": "production"}).extensions["lowcode"].db.dispose()


def test_cli_refuses_a_short_key_with_one_line(tmp_path):
    with fresh_database(tmp_path) as url:
        env = {"LOWCODE_DATABASE_URL": url, "LOWCODE_SECRET_KEY": "short", "LOWCODE_ENV": "production"}
        result = CliRunner().invoke(main, ["demo", "--no-data"], env=env)
        assert result.exit_code == 1
        assert (
            result.output.strip()
            .splitlines()[-1]
            .startswith("error: cannot start: LOWCODE_SECRET_KEY is shorter")
        )


def test_unknown_environment_refused(tmp_path):
    with fresh_database(tmp_path) as url, pytest.raises(InsecureSettings, match="LOWCODE_ENV must be one of"):
        create_app({"DATABASE_URL": url, "ENV": "prod"})


def test_secure_cookies_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LOWCODE_SECURE_COOKIES", "false")
    with fresh_database(tmp_path) as url:
        app = create_app({"DATABASE_URL": url, "ENV": "production", "SECRET_KEY": STRONG})
        try:
            assert app.config["SESSION_COOKIE_SECURE"] is False
        finally:
            app.extensions["lowcode"].db.dispose()
