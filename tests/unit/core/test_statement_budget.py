"""The statement budget on SQLite: the progress handler stops a statement over its steps or time (a
``QueryTooCostly`` naming the limit), only while a budget is in force, and never stays on a connection."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lowcode.core.budget import StatementBudget, is_over_budget, statement_budget
from lowcode.core.db import Database
from lowcode.errors import QueryTooCostly

COUNT = sa.text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT count(*) FROM n"
)


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'b.db'}")
    yield database
    database.dispose()


def test_a_statement_over_its_steps_is_stopped_and_named(db):
    budget = statement_budget(StatementBudget(read_ms=0, read_steps=50_000))
    with budget, pytest.raises(QueryTooCostly) as caught, db.read() as session:
        session.scalar(COUNT)
    assert caught.value.extra == {"limit": "SQLITE_STEP_BUDGET", "max": 50_000}
    assert is_over_budget(caught.value.__cause__)
    with db.read() as session:  # the same pooled connection, no budget: runs to the end
        assert session.scalar(COUNT) == 300000


def test_a_statement_over_its_time_is_stopped(db):
    budget = statement_budget(StatementBudget(read_ms=1, read_steps=0))
    with budget, pytest.raises(QueryTooCostly) as caught, db.read() as session:
        session.scalar(sa.text(str(COUNT).replace("300000", "20000000")))
    assert caught.value.extra == {"limit": "STATEMENT_TIMEOUT_MS", "max": 1}


def test_writes_get_the_write_limits(db):
    with db.write() as session:
        session.execute(sa.text("CREATE TABLE t (n INTEGER)"))
    insert = sa.text(
        "INSERT INTO t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
        "SELECT i FROM n"
    )
    with statement_budget(StatementBudget(read_steps=0, write_ms=0, write_steps=50_000)):
        with pytest.raises(QueryTooCostly) as caught, db.write() as session:
            session.execute(insert)
        assert caught.value.extra["limit"] == "SQLITE_WRITE_STEP_BUDGET"
        with db.read() as session:  # reads are not held to the write steps, and nothing was inserted
            assert session.scalar(COUNT) == 300000
            assert session.scalar(sa.text("SELECT count(*) FROM t")) == 0
    with db.write() as session:
        session.execute(insert)
    with db.read() as session:
        assert session.scalar(sa.text("SELECT count(*) FROM t")) == 300000
