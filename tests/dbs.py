"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test, dropped afterwards.

``fresh_database`` is migrated to the head revision - every test runs on the schema the migrations make.
The migrations run once per test process into a template (a SQLite file, or a PostgreSQL database used as
``CREATE DATABASE ... TEMPLATE``) that each test gets a copy of; ``empty_database`` has no tables at all.

A finished test's PostgreSQL database is dropped later, with others (``_Graveyard``): PostgreSQL 15 forces a
checkpoint on every ``DROP DATABASE``, which took 0.4 s to several seconds a test on the loaded machine;
concurrent drops share checkpoints (docs/TESTING.md).

``LOWCODE_TEST_DB=postgresql`` selects PostgreSQL (127.0.0.1:5432, trust auth, or
``LOWCODE_TEST_PG_URL``). When the server is unreachable the test is skipped with the reason, unless
``LOWCODE_REQUIRE_SERVICES=1`` (set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from lowcode.commands import migrate_database

PG_ADMIN_URL = os.environ.get("LOWCODE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def backend() -> str:
    """The database the suite runs on: ``sqlite`` (default) or ``postgresql``."""
    return os.environ.get("LOWCODE_TEST_DB", "sqlite")


def skip_or_fail(reason: str) -> None:
    """Skip with a reason - or fail when CI requires every service to be there."""
    if os.environ.get("LOWCODE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def pg_url(name: str) -> str:
    """The URL of the PostgreSQL database ``name`` on the test server."""
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def create_postgres_database(template: str | None = None) -> str:
    """Create a uniquely named PostgreSQL database (a copy of ``template`` if given); returns its name."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"lc_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
    except sa.exc.OperationalError as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}")
    finally:
        admin.dispose()
    return name


@contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (a copy of ``template`` if given, made ahead by ``SPARES``): yields its URL;
    dropped afterwards (soon, with others: ``GRAVEYARD``)."""
    name = SPARES.take(template) if template else create_postgres_database()
    try:
        yield pg_url(name)
    finally:
        GRAVEYARD.bury(name)


class _Spares:
    """A copy of each template asked for more than once, made ahead in a background thread while the test
    that took the previous one runs (``CREATE DATABASE ... TEMPLATE`` took 0.1-0.6 s on this machine, most of a
    PostgreSQL test's set-up). A template is never changed once copies are made of it, so a copy made ahead
    equals one made on demand."""

    def __init__(self):
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="lc-spare-db")
        self.ready: dict[str, Future] = {}
        self.asked: Counter[str] = Counter()

    def take(self, template: str) -> str:
        """A new database copied from ``template``: the one made ahead, else one made now."""
        self.asked[template] += 1
        future = self.ready.pop(template, None)
        name = None
        if future is not None:
            try:
                name = future.result()
            except (Exception, pytest.skip.Exception, pytest.fail.Exception):
                name = None  # made again below, where a failure is reported to the test
        if name is None:
            name = create_postgres_database(template)
        if self.asked[template] > 1:
            self.ready[template] = self.pool.submit(create_postgres_database, template)
        return name

    def settle(self) -> list[str]:
        """Wait for the copies being made; returns the names of those made and forgets them."""
        futures, self.ready = list(self.ready.values()), {}
        return [f.result() for f in futures if f.exception() is None]

    def wait(self) -> None:
        """Wait for the copies being made (before a template may be dropped)."""
        for future in self.ready.copy().values():  # a copy: the main thread may add one meanwhile
            future.exception()


SPARES = _Spares()


def _drop(name: str) -> None:
    """``DROP DATABASE ... WITH (FORCE)`` on its own connection (the drops of a batch run side by side)."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


class _Graveyard:
    """The databases of finished tests, dropped ``BATCH`` at a time by ``THREADS`` connections at once in a
    background thread, the rest when the test process ends. Every ``DROP DATABASE`` waits for a checkpoint
    (PostgreSQL 15), and concurrent drops share one: 16 drops took 95 s one by one and 7 s eight at a time
    on the loaded machine. A test never sees a buried database again (its name was unique)."""

    BATCH = 32
    THREADS = 8

    def __init__(self):
        self.names: list[str] = []
        self.at_end: list[str] = []
        self.lock = threading.Lock()
        self.worker: threading.Thread | None = None
        self.failed: list[str] = []  # drops of a background batch that raised: tried again by ``flush``
        # in case the process ends without pytest_sessionfinish (tests/conftest.py)
        atexit.register(self.flush)

    def bury(self, name: str) -> None:
        """Schedule ``name`` to be dropped; starts a batch in the background once enough are waiting."""
        with self.lock:
            self.names.append(name)
            if len(self.names) < self.BATCH or (self.worker and self.worker.is_alive()):
                return
            batch, self.names = self.names, []
            self.worker = threading.Thread(target=self._drop_all, args=(batch,), daemon=True)
            self.worker.start()

    def keep_until_end(self, name: str) -> None:
        """Drop ``name`` (a template of the other databases) only when the test process ends."""
        self.at_end.append(name)

    def flush(self) -> None:
        """At the end of the test process: wait for the running batch, then drop every database left."""
        if self.worker:
            self.worker.join()
        spares = SPARES.settle()
        with self.lock:
            batch = self.names + self.failed + spares + self.at_end
            self.names, self.failed, self.at_end = [], [], []
        self._drop_all(batch)
        if self.failed:  # a second failure is the suite's to report: databases were left behind
            left, self.failed = self.failed, []
            raise RuntimeError(f"test databases not dropped: {', '.join(left)}")

    def _drop_all(self, names: list[str]) -> None:
        SPARES.wait()  # no copy of a template is still being made when the template is dropped
        with ThreadPoolExecutor(self.THREADS) as pool:
            futures = {name: pool.submit(_drop, name) for name in names}
        failed = [name for name, future in futures.items() if future.exception() is not None]
        with self.lock:
            self.failed += failed


GRAVEYARD = _Graveyard()


@contextmanager
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A fresh database URL of the selected backend with no tables (``lowcode migrate`` has not run)."""
    if backend() == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'test.db'}"


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """A fresh database URL of the selected backend, migrated to the head revision."""
    template = _migrated_template()
    if backend() == "postgresql":
        with postgres_database(template) as url:
            yield url
    else:
        target = tmp_path / "test.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"


@contextmanager
def copy_of(seed_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database holding a copy of the seed database at ``seed_url`` (made by a session fixture and no
    longer connected to): a file copy, or ``CREATE DATABASE ... TEMPLATE``; dropped afterwards."""
    if backend() == "postgresql":
        with postgres_database(seed_url.rsplit("/", 1)[1]) as url:
            yield url
    else:
        target = tmp_path / "test.db"
        shutil.copyfile(seed_url.removeprefix("sqlite:///"), target)
        yield f"sqlite:///{target}"


def migrate_url(url: str) -> str:
    """Run ``lowcode migrate`` on the database at ``url``; returns its one-line summary."""
    return migrate_database(url)


@functools.cache
def _migrated_template() -> str:
    """Once per test process: the migrations run on an empty database, which is kept as the template of
    ``fresh_database`` (a SQLite file path, or a PostgreSQL database name); removed when the process ends."""
    if backend() == "postgresql":
        name = create_postgres_database()
        GRAVEYARD.keep_until_end(name)
        url = pg_url(name)
        migrate_url(url)  # disposes its engine: CREATE DATABASE ... TEMPLATE needs no open connection
        return name
    folder = tempfile.mkdtemp(prefix="lc_schema_")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = Path(folder) / "schema.db"
    migrate_url(f"sqlite:///{path}")  # closing the last connection checkpoints the WAL into the file
    return str(path)
