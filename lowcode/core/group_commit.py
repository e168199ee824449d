"""Group commit on SQLite: writers queued behind each other share one transaction and one COMMIT (one fsync).

With ``synchronous=FULL`` every COMMIT waits for an fsync, and one writer at a time holds SQLite's write
lock, so N queued writers wait for N fsyncs. Here the writers of one :class:`~lowcode.core.db.Database` use
ONE connection to the file (only the write queue's holder touches it):

- the first writer of a group issues ``BEGIN IMMEDIATE``; each writer's unit of work (a ``Database.write()``
  block) runs inside a SAVEPOINT of that transaction (the session joins the connection with
  ``join_transaction_mode="create_savepoint"``, so nested ``begin_nested()`` savepoints work as before);
- a writer whose work succeeded releases its savepoint; one that failed rolls its savepoint back and raises
  as it always did (the others' work stays);
- then, if the next waiter in the queue is a writer of the same database (and the group has fewer than
  ``max_members`` members and is younger than ``max_ms``), the queue and the open transaction pass to it and
  the finished writer waits, without the queue, for the group's COMMIT; otherwise it COMMITs once for the
  whole group and wakes every member. A failed COMMIT raises in every member (nothing of theirs is kept);
- so a writer returns only once its work is durable, and work to be done after the commit (the outbox
  bell) is registered with :func:`after_durable_commit`, which runs it then.

If SQLite itself ends the transaction under a member (an interrupted statement - a statement budget - or an
I/O error roll the whole transaction back), the members' work is lost: each of them raises
:class:`GroupLost`. :class:`GroupCommitter` is the machinery; ``Database.write()`` uses it when enabled.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from lowcode.core.write_queue import QueueSlot, WriteQueue

log = logging.getLogger(__name__)
GROUP_OPTION = "lowcode_group"
"""Execution option of the shared group connection (its ``begin`` is SQLAlchemy's only, not SQLite's)."""
_HOOKS = "lowcode_after_durable_commit"
_JOINED = "lowcode_joined_uncommitted_group"
_member: ContextVar[tuple[QueueSlot, dict] | None] = ContextVar("lowcode_group_member", default=None)


@dataclass(frozen=True)
class GroupCommitSettings:
    """``SQLITE_GROUP_COMMIT``: on or off; a group's most members and its longest life before it commits."""

    enabled: bool = True
    max_members: int = 32
    max_ms: float = 20.0


class GroupLost(sa.exc.OperationalError):
    """The group's transaction was ended under it (by SQLite, or its COMMIT failed): nothing of it is kept."""

    def __init__(self, reason: BaseException):
        super().__init__("COMMIT", None, reason if isinstance(reason, Exception) else Exception(str(reason)))


@dataclass
class CommitGroup:
    """One open SQLite transaction shared by consecutive writers."""

    started: float = field(default_factory=time.monotonic)
    members: int = 0  # writers whose work succeeded and who wait for the COMMIT
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def age_ms(self) -> float:
        """Milliseconds since the group's ``BEGIN IMMEDIATE``."""
        return (time.monotonic() - self.started) * 1000


def sees_others_uncommitted_work(session: Session) -> bool:
    """``session`` is a group member that joined after other members' work (not yet committed): what it
    reads may still vanish with the group, so process caches must not keep it (``SnapshotCache``)."""
    return bool(session.info.get(_JOINED))


def after_durable_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run ``hook`` once ``session``'s transaction is committed and durable (never if it rolls back).

    In a group-commit member that is after the group's COMMIT, not when its savepoint is released.
    """
    hooks = session.info.get(_HOOKS)
    if hooks is not None:
        hooks.append(hook)
    else:
        event.listen(session, "after_commit", lambda _session: hook(), once=True)


class GroupCommitter:
    """The shared connection of one database and the group open on it (touched by the queue's holder only)."""

    def __init__(self, engine: sa.Engine, queue: WriteQueue, timeout_s: float, settings: GroupCommitSettings):
        self.engine, self.queue, self.timeout_s, self.settings = engine, queue, timeout_s, settings
        self._conn: sa.Connection | None = None
        self._conn_mutex = threading.Lock()
        self._group: CommitGroup | None = None
        event.listen(engine, "savepoint", self._on_savepoint)

    @contextmanager
    def member(self, write_option: str) -> Iterator[Session]:
        """One writer's unit of work in the group: a session on the shared connection; returns once the
        group's COMMIT is durable (raises if the work failed, or if the group's COMMIT did)."""
        slot = QueueSlot(self.queue, self.timeout_s, tag=self)
        session = Session(
            bind=self._connection(write_option),
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )
        hooks: list[Callable[[], None]] = []
        session.info[_HOOKS] = hooks
        token = _member.set((slot, session.info))
        ok, failure = False, None
        try:
            with session, session.begin():
                try:
                    yield session
                except BaseException as exc:
                    failure = exc
                    raise
            ok = True
        except Exception as exc:
            if failure is None or exc is failure or self._in_transaction():
                raise
            raise failure from None  # SQLite ended the transaction (its savepoint is gone): the cause counts
        finally:
            _member.reset(token)
            if slot.held:
                self._finish(slot, ok)
        for hook in hooks:
            hook()

    def _connection(self, write_option: str) -> sa.Connection:
        with self._conn_mutex:
            if self._conn is None or self._conn.closed:
                conn = self.engine.connect().execution_options(**{write_option: True, GROUP_OPTION: True})
                conn.begin()  # SQLAlchemy's transaction only: SQLite's starts at a group's first savepoint
                self._conn = conn
            return self._conn

    def _on_savepoint(self, conn: sa.Connection, _name) -> None:
        """A member's first savepoint: wait for the queue, then join the open group or begin one."""
        if not conn.get_execution_options().get(GROUP_OPTION):
            return
        member = _member.get()
        if member is None or member[0].held:
            return  # a savepoint nested in a member's work
        slot, info = member
        try:
            slot.take()
        except sqlite3.OperationalError as exc:  # the turn did not come within the busy timeout
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        if self._group is None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            self._group = CommitGroup()
        info[_JOINED] = self._group.members > 0

    def _finish(self, slot: QueueSlot, ok: bool) -> None:
        """The holder's work is done: pass the open group on to the next writer, or commit it."""
        group = self._group
        if group is None:  # BEGIN IMMEDIATE itself failed
            slot.give_back()
            return
        if not self._in_transaction():  # SQLite rolled the whole transaction back
            self._end(group, slot, GroupLost(RuntimeError("SQLite ended the group's transaction")))
        else:
            group.members += ok
            if self._room_in(group) and self.queue.hand_over(self):
                slot.held = False  # the next writer holds the queue and the group now
                if ok:
                    group.done.wait()
                    if group.error is not None:
                        raise group.error
                return
            self._end(group, slot, None)
        if ok and group.error is not None:
            raise group.error

    def _in_transaction(self) -> bool:
        """SQLite's transaction of the group is still open on the shared connection."""
        return self._conn.connection.driver_connection.in_transaction

    def _room_in(self, group: CommitGroup) -> bool:
        """The group may take another member (fewer than ``max_members``, younger than ``max_ms``)."""
        return group.members < self.settings.max_members and group.age_ms() < self.settings.max_ms

    def _end(self, group: CommitGroup, slot: QueueSlot, error: BaseException | None) -> None:
        """COMMIT the group (ROLLBACK when no member's work is left or it was lost), wake its members."""
        try:
            if error is None:
                try:  # the COMMIT is no member's statement: no member's budget (progress handler) applies
                    self._conn.connection.driver_connection.set_progress_handler(None, 1)
                    self._conn.exec_driver_sql("COMMIT" if group.members else "ROLLBACK")
                except Exception as exc:  # noqa: BLE001 - every member must hear of it
                    # a lone writer's COMMIT failed on its own work: it hears the cause, as without a group
                    error = exc if group.members == 1 else GroupLost(exc)
            if error is not None:
                group.error = error
                log.warning("group commit of %d writers failed: %s", group.members, error)
                self._roll_back_leftovers()
        finally:
            self._group = None
            slot.give_back()
            group.done.set()

    def _roll_back_leftovers(self) -> None:
        """After a failure: end whatever SQLite transaction is left (the next group begins afresh on the same
        connection; writers waiting in the queue already hold it as their session's bind)."""
        try:
            driver = self._conn.connection.driver_connection
            if driver.in_transaction:
                driver.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - the next BEGIN IMMEDIATE tells if the connection is unusable
            log.exception("rolling back the group connection")

    def close(self) -> None:
        """Close the shared connection (``Database.dispose``)."""
        with self._conn_mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
