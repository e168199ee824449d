"""Database concurrency failures become a 409 the client can retry, not a 500."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from lowcode.api.errors import _is_concurrency_failure


class _PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__("boom")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("orig", "expected"),
    [
        (_PgError("40P01"), True),  # deadlock detected
        (_PgError("40001"), True),  # serialization failure
        (_PgError("23505"), False),  # unique violation is not a retryable conflict
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("no such table: x"), False),
    ],
)
def test_concurrency_failures_are_recognised(orig, expected):
    assert _is_concurrency_failure(OperationalError("stmt", {}, orig)) is expected


def test_a_deadlock_is_a_409_with_the_error_shape(tmp_path):
    from lowcode.app import create_app
    from tests.dbs import migrate_url

    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate_url(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"})

    @app.get("/api/_deadlock")
    def _deadlock():
        raise OperationalError("UPDATE ...", {}, _PgError("40P01"))

    response = app.test_client().get("/api/_deadlock")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "concurrent_update"
