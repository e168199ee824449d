"""The database: engine set-up per dialect and explicit transactions.

SQLite runs in WAL mode with ``synchronous=FULL`` and a busy timeout; write transactions start with
``BEGIN IMMEDIATE`` so two writers queue instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from lowcode.core.jsonutil import dumps

WRITE_OPTION = "lowcode_write"


class Database:
    """Owns the engine and hands out sessions whose transaction is the caller's unit of work."""

    def __init__(self, url: str, busy_timeout_ms: int = 30000, echo: bool = False):
        self.url = url
        self.engine = _make_engine(url, busy_timeout_ms, echo)
        self.dialect = self.engine.dialect.name
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            bind=self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commits on success, rolls back on any exception.

        An exception may carry ``after_rollback``: callables taking a session, run in a fresh write
        transaction once the failed one is rolled back (e.g. logging why a rule refused the write).
        """
        try:
            with self._writer() as session, session.begin():
                yield session
        except Exception as exc:
            pending = getattr(exc, "after_rollback", None)
            if pending:
                with self._writer() as session, session.begin():
                    for record in pending:
                        record(session)
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end)."""
        with self._reader() as session:
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _make_engine(url: str, busy_timeout_ms: int, echo: bool) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            echo=echo,
            json_serializer=dumps,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return sa.create_engine(
        url, echo=echo, json_serializer=dumps, pool_size=10, max_overflow=20, pool_pre_ping=True
    )


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
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
