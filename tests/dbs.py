"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test, dropped afterwards.

``LOWCODE_TEST_DB=postgresql`` selects PostgreSQL (127.0.0.1:5432, trust auth, or
``LOWCODE_TEST_PG_URL``). When the server is unreachable the test is skipped with the reason, unless
``LOWCODE_REQUIRE_SERVICES=1`` (set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("LOWCODE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def backend() -> str:
    """The database the suite runs on: ``sqlite`` (default) or ``postgresql``."""
    return os.environ.get("LOWCODE_TEST_DB", "sqlite")


def skip_or_fail(reason: str) -> None:
    """Skip with a reason - or fail when CI requires every service to be there."""
    if os.environ.get("LOWCODE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a uniquely named PostgreSQL database; yield its URL; drop it."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"lc_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        skip_or_fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """A fresh database URL of the selected backend."""
    if backend() == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'test.db'}"
