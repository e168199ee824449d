"""The database: engine set-up per dialect and explicit transactions.

SQLite runs in WAL mode with ``synchronous=FULL`` and a busy timeout; write transactions start with
``BEGIN IMMEDIATE`` so two writers queue instead of failing half-way with "database is locked". Threads of
one process queue first in the file's :class:`~lowcode.core.write_queue.WriteQueue` (arrival order), so
they never sleep in SQLite's busy handler; other processes meet them at SQLite's lock. With group commit
(:mod:`lowcode.core.group_commit`, ``SQLITE_GROUP_COMMIT``) queued writers share one transaction and one
COMMIT; each still returns only once its work is durable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from lowcode.core.budget import current_budget, install_budget, is_over_budget, spent_limit
from lowcode.core.commit_clock import install_commit_clock
from lowcode.core.group_commit import GROUP_OPTION, GroupCommitSettings, GroupCommitter, GroupLost
from lowcode.core.jsonutil import dumps
from lowcode.core.texts import Text
from lowcode.core.write_queue import QueueSlot, WriteQueue, queue_for
from lowcode.errors import QueryTooCostly, ServerBusy

WRITE_OPTION = "lowcode_write"
_slot: ContextVar[QueueSlot | None] = ContextVar("lowcode_write_slot", default=None)


@dataclass(frozen=True)
class PoolSettings:
    """The connection pool: connections kept, extra ones allowed, seconds a request waits for one."""

    size: int = 10
    overflow: int = 20
    timeout_s: int = 10


class Database:
    """Owns the engine and hands out sessions whose transaction is the caller's unit of work."""

    def __init__(
        self,
        url: str,
        busy_timeout_ms: int = 30000,
        echo: bool = False,
        pool: PoolSettings | None = None,
        group_commit: GroupCommitSettings | None = None,
    ):
        self.url = url
        self.engine = _make_engine(url, busy_timeout_ms, echo, pool or PoolSettings())
        install_budget(self.engine, WRITE_OPTION)
        self.dialect = self.engine.dialect.name
        self.write_queue: WriteQueue | None = _queue_of(self.engine)
        self._queue_timeout_s = busy_timeout_ms / 1000
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            bind=self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        if self.dialect == "postgresql":
            install_commit_clock(self._writer)
        group_commit = group_commit or GroupCommitSettings()
        self.group_committer: GroupCommitter | None = None
        if self.write_queue is not None and group_commit.enabled:
            self.group_committer = GroupCommitter(
                self.engine, self.write_queue, self._queue_timeout_s, group_commit
            )

    @contextmanager
    def write(self, alone: bool = False) -> Iterator[Session]:
        """A write transaction: commits on success, rolls back on any exception; returns once the commit
        is durable. Under group commit a failed COMMIT of the group is :class:`ServerBusy` (nothing done).

        ``alone``: never in a commit group - for long units of work (a background job's chunk), so that no
        other writer's COMMIT waits for them. An exception may carry ``after_rollback``: callables taking a session, run in a fresh write
        transaction once the failed one is rolled back (e.g. logging why a rule refused the write).
        """
        try:
            with _costs_mapped(write=True), self._transaction(alone) as session:
                yield session
        except GroupLost as exc:  # another write of its commit group failed the shared transaction
            raise ServerBusy(
                Text(
                    "Another write committed together with this one failed, so nothing was done. Try again."
                ),
                retry_after=1,
            ) from exc
        except Exception as exc:
            pending = getattr(exc, "after_rollback", None)
            if pending:
                with self._transaction() as session:
                    for record in pending:
                        record(session)
            raise

    @contextmanager
    def _transaction(self, alone: bool = False) -> Iterator[Session]:
        """A member of the current commit group, or (``alone``, group commit off, PostgreSQL, a nested write
        of the thread holding the queue) a transaction of its own on a pooled connection."""
        committer = self.group_committer
        if committer is not None and not alone and not self.write_queue.held_by_me():
            with committer.member(WRITE_OPTION) as session:
                yield session
            return
        with self._queued(), self._writer() as session, session.begin():
            yield session

    def _queued(self):
        """The transaction's place in the write queue: taken at its BEGIN (``_on_begin``), given back when
        the session is closed - after COMMIT or ROLLBACK, however the block ends."""
        if self.write_queue is None:
            return nullcontext()
        return _holding_slot(QueueSlot(self.write_queue, self._queue_timeout_s))

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end)."""
        with _costs_mapped(write=False), self._reader() as session:
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        """Close every pooled connection (and group commit's shared one)."""
        if self.group_committer is not None:
            self.group_committer.close()
        self.engine.dispose()


@contextmanager
def _holding_slot(slot: QueueSlot) -> Iterator[None]:
    token = _slot.set(slot)
    try:
        yield
    finally:
        _slot.reset(token)
        slot.give_back()


def _queue_of(engine: sa.Engine) -> WriteQueue | None:
    """The process-wide write queue of a SQLite file (none for PostgreSQL or an in-memory database)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return queue_for(engine.url.database)


@contextmanager
def _costs_mapped(write: bool) -> Iterator[None]:
    """A statement stopped by its budget becomes :class:`QueryTooCostly`, a wait for a pooled connection
    that timed out :class:`ServerBusy` (the transaction is rolled back either way)."""
    try:
        yield
    except DBAPIError as exc:
        if current_budget() is None or not is_over_budget(exc):
            raise
        limit, value = spent_limit(write)
        unit = "ms" if limit.endswith("_MS") else "SQLite steps"
        raise QueryTooCostly(
            f"A statement ran over its budget ({value} {unit}, LOWCODE_{limit}) and was stopped; nothing was "
            "changed. Narrow the filter or search.",
            limit=limit,
            max=value,
        ) from exc
    except PoolTimeout as exc:
        raise ServerBusy(
            "The server is busy (no database connection came free); nothing was done. Try again.",
            retry_after=1,
        ) from exc


def _make_engine(url: str, busy_timeout_ms: int, echo: bool, pool: PoolSettings) -> sa.Engine:
    sizes = {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout_s}
    if url.startswith("sqlite"):
        memory = sa.engine.make_url(url).database in (None, "", ":memory:")
        engine = sa.create_engine(
            url,
            echo=echo,
            json_serializer=dumps,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
            **({} if memory else sizes),
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return sa.create_engine(url, echo=echo, json_serializer=dumps, pool_pre_ping=True, **sizes)


def _adapt_decimal(value: Decimal) -> int | str:
    """pysqlite cannot bind Decimal: whole numbers go as integers, others as exact text (SQLite's numeric
    affinity compares them as numbers). Exact-decimal columns never get here: they bind scaled integers."""
    return int(value) if value == value.to_integral_value() else format(value, "f")


sqlite3.register_adapter(Decimal, _adapt_decimal)


def _configure_sqlite(engine: sa.Engine, busy_timeout_ms: int) -> None:
    memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control away from pysqlite so BEGIN is ours (see SQLAlchemy's pysqlite notes).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        options = conn.get_execution_options()
        if options.get(GROUP_OPTION):
            return  # group commit's connection: SQLite's transaction begins at a group's first savepoint
        write = options.get(WRITE_OPTION, False)
        slot = _slot.get() if write else None
        if slot is not None:
            try:
                slot.take()
            except sqlite3.OperationalError as exc:  # the turn did not come within the busy timeout
                raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
