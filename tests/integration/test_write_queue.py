"""The SQLite write queue in a live database: writers of one process take turns in arrival order, never
sleep in SQLite's busy handler, and every way a write transaction ends gives the turn back."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from lowcode.core.db import Database
from tests.dbs import backend

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="the write queue is SQLite's")


def _wait_until(predicate, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.002)


def _free(db: Database) -> bool:
    """Nobody holds the queue: another thread gets it at once."""
    got: list[bool] = []

    def probe():
        ok = db.write_queue.acquire(0.5)
        got.append(ok)
        if ok:
            db.write_queue.release()

    t = threading.Thread(target=probe)
    t.start()
    t.join()
    return got == [True]


@pytest.fixture
def db(app):
    database = app.extensions["lowcode"].db
    with database.write() as s:
        s.execute(sa.text("CREATE TABLE wq_probe (id INTEGER PRIMARY KEY, who TEXT)"))
    return database


def test_a_second_writer_waits_in_the_queue_not_in_sqlite(db):
    holding, done = threading.Event(), threading.Event()
    order: list[str] = []

    def first():
        with db.write() as s:
            s.execute(sa.text("INSERT INTO wq_probe (who) VALUES ('first')"))
            holding.set()
            _wait_until(lambda: db.write_queue.waiting() == 1)  # the second one queued behind us
            order.append("first commits")

    def second():
        holding.wait()
        with db.write() as s:
            s.execute(sa.text("INSERT INTO wq_probe (who) VALUES ('second')"))
            order.append("second writes")
        done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert done.is_set()
    assert order == ["first commits", "second writes"]
    with db.read() as s:
        assert s.execute(sa.text("SELECT who FROM wq_probe ORDER BY id")).scalars().all() == [
            "first",
            "second",
        ]
    assert _free(db)


def test_a_failing_write_gives_the_turn_back(db):
    with pytest.raises(RuntimeError), db.write() as s:
        s.execute(sa.text("INSERT INTO wq_probe (who) VALUES ('rolled back')"))
        raise RuntimeError("refused")
    assert _free(db)
    with pytest.raises(sa.exc.IntegrityError), db.write() as s:  # a failing statement
        s.execute(sa.text("INSERT INTO wq_probe (id, who) VALUES (1, 'a'), (1, 'b')"))
    assert _free(db)
    with db.write() as s:  # the next write goes through at once
        s.execute(sa.text("INSERT INTO wq_probe (who) VALUES ('next')"))
    with db.read() as s:
        assert s.execute(sa.text("SELECT who FROM wq_probe")).scalars().all() == ["next"]


def test_after_rollback_work_runs_in_its_own_turn(db):
    class Refused(Exception):
        pass

    def log(session):
        session.execute(sa.text("INSERT INTO wq_probe (who) VALUES ('logged after rollback')"))
        assert db.write_queue.held_by_me()  # taken at the BEGIN of this fresh transaction

    exc = Refused("no")
    exc.after_rollback = [log]
    with pytest.raises(Refused), db.write() as s:
        s.execute(sa.text("INSERT INTO wq_probe (who) VALUES ('refused')"))
        raise exc
    assert _free(db)
    with db.read() as s:
        assert s.execute(sa.text("SELECT who FROM wq_probe")).scalars().all() == ["logged after rollback"]


def test_a_write_without_statements_never_queues(db):
    db.write_queue.acquire(1)  # another writer holds the queue
    try:
        t0 = time.monotonic()
        with db.write():
            pass
        assert time.monotonic() - t0 < 1
    finally:
        db.write_queue.release()


def test_waiting_longer_than_the_busy_timeout_is_database_is_locked(app):
    url = app.extensions["lowcode"].db.url
    impatient = Database(url, busy_timeout_ms=100)
    try:
        assert impatient.write_queue is app.extensions["lowcode"].db.write_queue  # one queue per file
        impatient.write_queue.acquire(1)
        errors: list[BaseException] = []

        def writer():
            try:
                with impatient.write() as s:
                    s.execute(sa.text("SELECT 1"))
            except sa.exc.OperationalError as exc:
                errors.append(exc)

        t = threading.Thread(target=writer)
        t.start()
        t.join(5)
        impatient.write_queue.release()
        assert len(errors) == 1 and "database is locked" in str(errors[0].orig)
        assert _free(impatient)
    finally:
        impatient.dispose()
