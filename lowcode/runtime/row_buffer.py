"""Platform rows (audit, outbox, rule-run log) of a rule run collected and inserted together.

A rule that loops over an order's lines writes an audit row and an outbox event for every record it
changes or creates, and a run-log row at its end. Inside :func:`collecting` those rows are kept in the
session (``session.info``) and sent with one ``executemany`` per table when the outermost collecting block
ends, in the order they were added - the same rows, ids in the same order per table, in the same
transaction, before anything commits.

What reads them inside the transaction first calls :func:`flush` (the 409 hint's "changed since", a
record's history). A refusal (a :class:`~lowcode.errors.LowcodeError`) leaves the block with its rows
written, as they would have been without collecting (a dry run reports them, the rollback removes them);
any other error discards them (the transaction is failing). A savepoint that may be rolled back while the
outer work carries on is taken with :func:`savepoint`: the rows collected inside it are dropped when it
rolls back, the others kept (and written again where a flush inside it sent them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lowcode.errors import LowcodeError

_KEY = "lc_row_buffer"


class _Buffer:
    """The collected rows of one session, in insertion order, and how many collecting blocks are open."""

    def __init__(self) -> None:
        self.depth = 0
        self.rows: list[tuple[Any, dict[str, Any]]] = []


def _buffer(session: Session) -> _Buffer:
    buffer = session.info.get(_KEY)
    if buffer is None:
        buffer = session.info[_KEY] = _Buffer()
    return buffer


def insert(session: Session, statement: Any, row: dict[str, Any]) -> None:
    """Run ``statement`` (a prebuilt Core INSERT) with ``row`` now, or at the end of the collecting block.
    ``session`` may be a stand-in with only ``execute`` (a dry run's capture)."""
    info = getattr(session, "info", None)
    buffer = info.get(_KEY) if info is not None else None
    if buffer is not None and buffer.depth:
        buffer.rows.append((statement, row))
    else:
        session.execute(statement, row)


def insert_many(session: Session, statement: Any, rows: list[dict[str, Any]]) -> None:
    """Like :func:`insert` for several rows of one statement (one ``executemany`` when not collecting)."""
    buffer = session.info.get(_KEY)
    if buffer is not None and buffer.depth:
        buffer.rows.extend((statement, row) for row in rows)
    elif rows:
        session.execute(statement, rows)


def flush(session: Session) -> None:
    """Write the collected rows now: one ``executemany`` per statement, each table's rows in order."""
    buffer = session.info.get(_KEY)
    if buffer is None or not buffer.rows:
        return
    rows, buffer.rows = buffer.rows, []
    grouped: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
    for statement, row in rows:
        grouped.setdefault(id(statement), (statement, []))[1].append(row)
    for statement, params in grouped.values():
        session.execute(statement, params if len(params) > 1 else params[0])


@contextmanager
def collecting(session: Session) -> Iterator[None]:
    """Collect the platform rows written inside; the outermost block writes them when it ends."""
    buffer = _buffer(session)
    buffer.depth += 1
    try:
        yield
    except LowcodeError:
        buffer.depth -= 1
        if not buffer.depth:
            _flush_on_refusal(session, buffer)
        raise
    except BaseException:
        buffer.depth -= 1
        if not buffer.depth:
            buffer.rows.clear()
        raise
    buffer.depth -= 1
    if not buffer.depth:
        flush(session)


def _flush_on_refusal(session: Session, buffer: _Buffer) -> None:
    """A refusal's rows exist until the rollback, as without collecting (a dry run reports them); where the
    transaction cannot take them any more (a failed statement on PostgreSQL) they are dropped, and the
    refusal is what the caller sees."""
    try:
        flush(session)
    except SQLAlchemyError:
        buffer.rows.clear()


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """``session.begin_nested()`` for work that may be rolled back while the outer work carries on. The rows
    collected inside stay collected with the others when it succeeds (no statement of its own); when it rolls
    back the buffer goes back to the rows collected before it - those written inside it by a
    :func:`flush` were rolled back with it, so they are written again later; its own are dropped."""
    buffer = _buffer(session)
    before = list(buffer.rows)
    try:
        with session.begin_nested():
            yield
    except BaseException:
        buffer.rows = before
        raise
