"""``runtime/row_buffer.py``: rows collected inside a block are written at its end, in order, in one
executemany; a refusal keeps them, another error drops them; a savepoint drops only its own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.errors import RuleRefused
from lowcode.runtime import row_buffer

METADATA = sa.MetaData()
ROWS = sa.Table("rows", METADATA, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
INSERT = ROWS.insert()


@pytest.fixture
def session():
    engine = sa.create_engine("sqlite://")
    METADATA.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def names(session) -> list[str]:
    return list(session.scalars(sa.select(ROWS.c.name).order_by(ROWS.c.id)))


def test_rows_wait_for_the_outermost_block_and_keep_their_order(session):
    statements: list[int] = []
    sa.event.listen(session, "do_orm_execute", lambda state: statements.append(1))
    with row_buffer.collecting(session):
        row_buffer.insert(session, INSERT, {"name": "a"})
        with row_buffer.collecting(session):
            row_buffer.insert(session, INSERT, {"name": "b"})
        assert statements == []  # the inner block does not write
        row_buffer.insert_many(session, INSERT, [{"name": "c"}, {"name": "d"}])
    assert statements == [1]  # one executemany
    assert names(session) == ["a", "b", "c", "d"]


def test_a_reader_flushes_first(session):
    with row_buffer.collecting(session):
        row_buffer.insert(session, INSERT, {"name": "a"})
        row_buffer.flush(session)
        assert names(session) == ["a"]
        row_buffer.insert(session, INSERT, {"name": "b"})
    assert names(session) == ["a", "b"]


def test_a_refusal_leaves_with_its_rows_written_another_error_drops_them(session):
    with pytest.raises(RuleRefused), row_buffer.collecting(session):
        row_buffer.insert(session, INSERT, {"name": "refused"})
        raise RuleRefused("no")
    assert names(session) == ["refused"]
    with pytest.raises(ZeroDivisionError), row_buffer.collecting(session):
        row_buffer.insert(session, INSERT, {"name": "broken"})
        raise ZeroDivisionError
    assert names(session) == ["refused"]
    row_buffer.insert(session, INSERT, {"name": "after"})  # outside any block: written at once
    assert names(session) == ["refused", "after"]


def test_a_rolled_back_savepoint_drops_only_its_own_rows(session):
    with row_buffer.collecting(session):
        row_buffer.insert(session, INSERT, {"name": "before"})
        with pytest.raises(RuleRefused), row_buffer.savepoint(session):
            row_buffer.insert(session, INSERT, {"name": "inside"})
            raise RuleRefused("no")
        with row_buffer.savepoint(session):
            row_buffer.insert(session, INSERT, {"name": "kept"})
        row_buffer.insert(session, INSERT, {"name": "after"})
    assert names(session) == ["before", "kept", "after"]


def test_a_savepoint_sends_no_rows_of_its_own_and_one_rolled_back_after_a_flush_keeps_the_outer_rows(session):
    with row_buffer.collecting(session):
        row_buffer.insert(session, INSERT, {"name": "before"})
        with row_buffer.savepoint(session):
            row_buffer.insert(session, INSERT, {"name": "kept"})
        assert names(session) == []  # nothing written yet: no flush on the way in or out
        with pytest.raises(RuleRefused), row_buffer.savepoint(session):
            row_buffer.insert(session, INSERT, {"name": "inside"})
            row_buffer.flush(session)  # e.g. a history read inside it: the outer rows go out in the savepoint
            raise RuleRefused("no")
        row_buffer.insert(session, INSERT, {"name": "after"})
    assert names(session) == ["before", "kept", "after"]
