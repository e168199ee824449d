"""Statement budgets: how long one SQL statement of a request may run before the database stops it.

A budget is in force only inside :func:`statement_budget` (the app enters it for each HTTP request); the
command line, migrations, template installs from the CLI, the worker and tests' own set-up run without one.

* PostgreSQL: each transaction begun under a budget starts with ``SET LOCAL statement_timeout`` (read or
  write milliseconds by the kind of transaction); ``SET LOCAL`` ends with the transaction, so a pooled
  connection never carries it to the next user. A statement over it fails with SQLSTATE 57014.
* SQLite: before each statement a progress handler is installed that counts virtual-machine steps (and
  checks the same wall-clock limit) and interrupts the statement when either is spent; a statement run
  without a budget removes the handler, and so does returning the connection to the pool.

:func:`is_over_budget` recognises the database's error; :class:`lowcode.core.db.Database` turns it into
:class:`lowcode.errors.QueryTooCostly`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

PROGRESS_INTERVAL = 10_000
"""SQLite virtual-machine steps between two calls of the progress handler."""
QUERY_CANCELED = "57014"
"""PostgreSQL's SQLSTATE for a statement stopped by ``statement_timeout``."""


@dataclass(frozen=True)
class StatementBudget:
    """Limits of one statement: milliseconds (both databases) and SQLite VM steps; 0 means no limit.

    Read transactions get the ``read_*`` limits, write transactions (``Database.write``) the ``write_*``.
    """

    read_ms: int = 5000
    write_ms: int = 30000
    read_steps: int = 0
    write_steps: int = 0

    def limits(self, write: bool) -> tuple[int, int]:
        """``(milliseconds, steps)`` of a statement in a read or a write transaction."""
        return (self.write_ms, self.write_steps) if write else (self.read_ms, self.read_steps)


_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "BEGIN")
"""Statements the budget leaves alone (a few VM steps each)."""
_CURRENT: ContextVar[StatementBudget | None] = ContextVar("lowcode_statement_budget", default=None)
_TRIPPED = threading.local()  # what stopped this thread's last SQLite statement: "steps" or "time"


@contextmanager
def statement_budget(budget: StatementBudget | None) -> Iterator[None]:
    """Run the block's statements under ``budget`` (None: without one)."""
    token = _CURRENT.set(budget)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_budget() -> StatementBudget | None:
    """The budget in force in this context, if any."""
    return _CURRENT.get()


def spent_limit(write: bool) -> tuple[str, int]:
    """The setting (without ``LOWCODE_``) and value of the limit that stopped this thread's last statement
    in a read or write transaction: the SQLite step budget if that was it, else the statement timeout."""
    budget = _CURRENT.get() or StatementBudget()
    ms, steps = budget.limits(write)
    if getattr(_TRIPPED, "by", None) == "steps":
        return ("SQLITE_WRITE_STEP_BUDGET" if write else "SQLITE_STEP_BUDGET"), steps
    return ("WRITE_STATEMENT_TIMEOUT_MS" if write else "STATEMENT_TIMEOUT_MS"), ms


def is_over_budget(error: BaseException) -> bool:
    """The database stopped a statement for its budget (PostgreSQL 57014, SQLite ``interrupted``)."""
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    return code == QUERY_CANCELED or str(orig).strip() == "interrupted"


def install_budget(engine: sa.Engine, write_option: str) -> None:
    """Enforce the budget in force on ``engine``'s statements; ``write_option`` is the execution option
    that marks write transactions."""
    if engine.dialect.name == "sqlite":
        _install_sqlite(engine, write_option)
    elif engine.dialect.name == "postgresql":
        _install_postgresql(engine, write_option)


def _install_postgresql(engine: sa.Engine, write_option: str) -> None:
    @event.listens_for(engine, "begin")
    def _set_timeout(conn):
        budget = _CURRENT.get()
        if budget is None:
            return
        ms, _ = budget.limits(conn.get_execution_options().get(write_option, False))
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(ms)}")


def _install_sqlite(engine: sa.Engine, write_option: str) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _guard(conn, _cursor, statement, _params, _context, _many):
        if statement.startswith(_TRANSACTION_CONTROL):
            return  # a savepoint's rollback after a stopped statement must not forget what stopped it
        dbapi_conn = conn.connection.driver_connection
        budget = _CURRENT.get()
        if budget is None:
            dbapi_conn.set_progress_handler(None, PROGRESS_INTERVAL)
            return
        ms, steps = budget.limits(conn.get_execution_options().get(write_option, False))
        _TRIPPED.by = None
        dbapi_conn.set_progress_handler(_progress_handler(ms, steps), PROGRESS_INTERVAL)

    @event.listens_for(engine, "checkin")
    def _clear(dbapi_conn, _record):
        if dbapi_conn is not None:
            dbapi_conn.set_progress_handler(None, PROGRESS_INTERVAL)


def _progress_handler(ms: int, steps: int):
    """A progress handler answering "stop" (non-zero) once ``steps`` VM steps or ``ms`` have passed."""
    deadline = time.monotonic() + ms / 1000 if ms else None
    max_calls = steps // PROGRESS_INTERVAL if steps else None
    calls = 0

    def handler() -> int:
        nonlocal calls
        calls += 1
        if max_calls is not None and calls > max_calls:
            _TRIPPED.by = "steps"
            return 1
        if deadline is not None and time.monotonic() > deadline:
            _TRIPPED.by = "time"
            return 1
        return 0

    return handler
