"""Group commit on SQLite: writers queued behind each other share one COMMIT, each keeps its own outcome,
and none returns (or rings the outbox bell) before the group's COMMIT."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from lowcode.core.budget import StatementBudget, is_over_budget, statement_budget
from lowcode.core.db import Database
from lowcode.core.group_commit import (
    GroupCommitSettings,
    GroupLost,
    after_durable_commit,
    sees_others_uncommitted_work,
)
from lowcode.errors import ServerBusy
from lowcode.runtime.outbox_signal import OUTBOX_BELL, ring_after_commit
from tests.dbs import backend

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="group commit is SQLite's")

PATIENT = GroupCommitSettings(max_members=32, max_ms=60_000)  # groups end only when nobody waits


def _wait_until(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.002)


def _make(tmp_path, settings: GroupCommitSettings = PATIENT) -> tuple[Database, list[str]]:
    db = Database(f"sqlite:///{tmp_path / 'group.db'}", busy_timeout_ms=10_000, group_commit=settings)
    commits: list[str] = []

    @sa.event.listens_for(db.engine, "after_cursor_execute")
    def _count(conn, cursor, statement, params, context, many):
        if statement == "COMMIT":  # group commit's own COMMIT
            commits.append("group")

    @sa.event.listens_for(db.engine, "commit")
    def _count_plain(conn):  # a transaction of its own (group commit off)
        commits.append("plain")

    with db.write() as s:
        s.execute(sa.text("CREATE TABLE gc (id INTEGER PRIMARY KEY, who TEXT NOT NULL)"))
    commits.clear()
    return db, commits


def _lost(outcome) -> bool:
    """A member told its group's transaction failed: 503 "try again", caused by :class:`GroupLost`."""
    return isinstance(outcome, ServerBusy) and isinstance(outcome.__cause__, GroupLost)


def _rows(db: Database) -> list[str]:
    with db.read() as s:
        return s.execute(sa.text("SELECT who FROM gc ORDER BY who")).scalars().all()


def _run_behind_first(db: Database, names: list[str], body) -> dict[str, object]:
    """The first writer holds the queue until all others wait behind it; each runs ``body(session, name)``.
    Returns each writer's outcome: "ok" or the exception it raised."""
    outcomes: dict[str, object] = {}
    holding = threading.Event()

    def writer(name: str) -> None:
        try:
            with db.write() as s:
                s.execute(sa.text("INSERT INTO gc (who) VALUES (:w)"), {"w": name})
                if name == names[0]:
                    holding.set()
                    _wait_until(lambda: db.write_queue.waiting() == len(names) - 1)
                body(s, name)
            outcomes[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - inspected by the test
            outcomes[name] = exc

    first = threading.Thread(target=writer, args=(names[0],))
    first.start()
    assert holding.wait(10)
    others = [threading.Thread(target=writer, args=(n,)) for n in names[1:]]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join(30)
    return outcomes


def test_queued_writers_share_one_commit(tmp_path):
    db, commits = _make(tmp_path)
    try:
        names = [f"w{i}" for i in range(8)]
        outcomes = _run_behind_first(db, names, lambda s, n: None)
        assert outcomes == {n: "ok" for n in names}
        assert _rows(db) == names
        assert commits == ["group"]  # 8 writers, one COMMIT (one fsync)
    finally:
        db.dispose()


def test_group_commit_off_commits_each_writer(tmp_path):
    db, commits = _make(tmp_path, GroupCommitSettings(enabled=False))
    try:
        assert db.group_committer is None
        names = [f"w{i}" for i in range(4)]
        assert _run_behind_first(db, names, lambda s, n: None) == {n: "ok" for n in names}
        assert _rows(db) == names and commits == ["plain"] * 4
    finally:
        db.dispose()


def test_a_failing_member_loses_only_its_own_work(tmp_path):
    db, commits = _make(tmp_path)

    def body(session, name):
        if name == "w2":
            raise ValueError("refused")
        if name == "w3":  # a failing statement: rolled back with its savepoint
            session.execute(sa.text("INSERT INTO gc (id, who) VALUES (1, 'dup')"))

    try:
        outcomes = _run_behind_first(db, [f"w{i}" for i in range(5)], body)
        assert isinstance(outcomes.pop("w2"), ValueError)
        assert isinstance(outcomes.pop("w3"), sa.exc.IntegrityError)
        assert outcomes == {"w0": "ok", "w1": "ok", "w4": "ok"}
        assert _rows(db) == ["w0", "w1", "w4"]
        assert commits == ["group"]
    finally:
        db.dispose()


def test_a_failed_commit_reaches_every_member(tmp_path):
    db, commits = _make(tmp_path)
    with db.write() as s:
        s.execute(sa.text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        s.execute(
            sa.text(
                "CREATE TABLE child (id INTEGER PRIMARY KEY, "
                "parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )

    def body(session, name):
        if name == "w1":  # checked only at COMMIT: the group's COMMIT fails
            session.execute(sa.text("INSERT INTO child (parent_id) VALUES (999)"))

    try:
        outcomes = _run_behind_first(db, ["w0", "w1", "w2"], body)
        assert set(outcomes) == {"w0", "w1", "w2"}
        assert all(_lost(o) for o in outcomes.values()), outcomes
        assert "FOREIGN KEY" in str(outcomes["w0"].__cause__)
        assert _rows(db) == []
        with db.write() as s:  # the next writer starts a fresh group
            s.execute(sa.text("INSERT INTO gc (who) VALUES ('after')"))
        assert _rows(db) == ["after"]
    finally:
        db.dispose()


def test_nested_savepoints_inside_a_member(tmp_path):
    db, _commits = _make(tmp_path)

    def body(session, name):
        with session.begin_nested():
            session.execute(sa.text("INSERT INTO gc (who) VALUES (:w)"), {"w": name + "-kept"})
        savepoint = session.begin_nested()
        session.execute(sa.text("INSERT INTO gc (who) VALUES (:w)"), {"w": name + "-undone"})
        savepoint.rollback()

    try:
        outcomes = _run_behind_first(db, ["a", "b", "c"], body)
        assert outcomes == {"a": "ok", "b": "ok", "c": "ok"}
        assert _rows(db) == ["a", "a-kept", "b", "b-kept", "c", "c-kept"]
    finally:
        db.dispose()


def test_nobody_sees_or_hears_of_a_member_before_the_groups_commit(tmp_path):
    """The first member's hooks (outbox bell included) wait for the COMMIT; so does its return, and a
    reader on another connection does not see its row while the group is open."""
    db, commits = _make(tmp_path)
    seen: dict[str, object] = {}
    returned, holding = threading.Event(), threading.Event()
    bell_before = OUTBOX_BELL.generation

    def hook():
        seen["hook_commits"] = list(commits)
        seen["hook_rows"] = _rows(db)

    def body(session, name):
        seen[f"{name}_sees_uncommitted"] = sees_others_uncommitted_work(session)
        if name == "first":
            after_durable_commit(session, hook)
            ring_after_commit(session)
        else:  # the first one is done and waits for the COMMIT, which our work is part of
            seen["first_returned"] = returned.is_set()
            seen["hook_ran"] = "hook_rows" in seen
            seen["bell_rang"] = OUTBOX_BELL.generation != bell_before
            seen["reader_sees"] = _rows(db)

    def writer_first():
        with db.write() as s:
            s.execute(sa.text("INSERT INTO gc (who) VALUES ('first')"))
            holding.set()
            _wait_until(lambda: db.write_queue.waiting() == 1)
            body(s, "first")
        returned.set()

    def writer_second():
        with db.write() as s:
            s.execute(sa.text("INSERT INTO gc (who) VALUES ('second')"))
            body(s, "second")

    try:
        first = threading.Thread(target=writer_first)
        first.start()
        assert holding.wait(10)
        second = threading.Thread(target=writer_second)
        second.start()
        for t in (first, second):
            t.join(30)
        assert returned.is_set()
        assert seen["first_returned"] is False and seen["hook_ran"] is False and seen["bell_rang"] is False
        assert seen["reader_sees"] == []
        # what the second member read may vanish with the group: caches must not keep it (SnapshotCache)
        assert seen["first_sees_uncommitted"] is False and seen["second_sees_uncommitted"] is True
        assert seen["hook_commits"] == ["group"] and seen["hook_rows"] == ["first", "second"]
        assert OUTBOX_BELL.generation != bell_before
    finally:
        db.dispose()


def test_a_statement_stopped_by_its_budget_fails_the_whole_group(tmp_path):
    """SQLite rolls the whole transaction back when a writing statement is interrupted: every member
    raises; none is told its work was kept."""
    db, _commits = _make(tmp_path)
    budget = StatementBudget(write_steps=20_000)
    heavy = sa.text(
        "INSERT INTO gc (who) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) "
        "SELECT 'x' || i FROM n"
    )

    def body(session, name):
        if name == "w1":
            with statement_budget(budget):
                session.execute(heavy)

    try:
        outcomes = _run_behind_first(db, ["w0", "w1", "w2"], body)
        assert is_over_budget(
            outcomes["w1"]
        )  # its own cause, as without group commit (QueryTooCostly in a request)
        assert _lost(outcomes["w0"])  # its work was in the lost transaction
        assert outcomes["w2"] == "ok"  # began a fresh group after the loss
        assert _rows(db) == ["w2"]
    finally:
        db.dispose()


def test_a_writer_alone_is_never_in_a_group(tmp_path):
    """``write(alone=True)`` (a job's chunk) queued behind a member: the group commits first, then the lone
    writer commits its own transaction; neither waits for the other's COMMIT."""
    db, commits = _make(tmp_path)
    holding, order = threading.Event(), []

    def member():
        with db.write() as s:
            s.execute(sa.text("INSERT INTO gc (who) VALUES ('member')"))
            holding.set()
            _wait_until(lambda: db.write_queue.waiting() == 1)
        order.append(("member", list(commits)))

    def lone():
        assert holding.wait(10)
        with db.write(alone=True) as s:
            s.execute(sa.text("INSERT INTO gc (who) VALUES ('alone')"))
        order.append(("alone", list(commits)))

    try:
        threads = [threading.Thread(target=member), threading.Thread(target=lone)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        seen = dict(order)
        assert seen["member"][0] == "group" and seen["alone"] == [
            "group",
            "plain",
        ]  # the group committed first
        assert _rows(db) == ["alone", "member"]
    finally:
        db.dispose()
