"""The process write queue of a SQLite file: first come first served, timeouts, no barging, one per file."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from lowcode.core.write_queue import QueueSlot, WriteQueue, queue_for


def _wait_until(predicate, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.001)


def test_waiters_get_the_queue_in_arrival_order():
    queue = WriteQueue()
    assert queue.acquire(1)
    order: list[int] = []

    def waiter(i):
        assert queue.acquire(5)
        order.append(i)
        queue.release()

    threads = []
    for i in range(8):  # start them one by one so the arrival order is known
        t = threading.Thread(target=waiter, args=(i,))
        t.start()
        threads.append(t)
        _wait_until(lambda n=i + 1: queue.waiting() == n)
    queue.release()
    for t in threads:
        t.join()
    assert order == list(range(8))


def test_a_releasing_thread_cannot_overtake_a_waiter():
    queue = WriteQueue()
    assert queue.acquire(1)
    got: list[str] = []
    t = threading.Thread(target=lambda: (queue.acquire(5), got.append("waiter"), queue.release()))
    t.start()
    _wait_until(lambda: queue.waiting() == 1)
    queue.release()
    assert queue.acquire(5)  # queued behind the waiter, who was handed the queue on release
    got.append("releaser")
    queue.release()
    t.join()
    assert got == ["waiter", "releaser"]


def test_a_waiter_gives_up_after_its_timeout_and_leaves_the_line():
    queue = WriteQueue()
    assert queue.acquire(1)
    result: list[bool] = []
    t = threading.Thread(target=lambda: result.append(queue.acquire(0.05)))
    t.start()
    t.join()
    assert result == [False]
    assert queue.waiting() == 0
    queue.release()
    assert queue.acquire(0.01)  # free again: nobody left holding it
    queue.release()


def test_held_by_me_is_per_thread():
    queue = WriteQueue()
    assert not queue.held_by_me()
    assert queue.acquire(1)
    assert queue.held_by_me()
    seen: list[bool] = []
    t = threading.Thread(target=lambda: seen.append(queue.held_by_me()))
    t.start()
    t.join()
    assert seen == [False]
    queue.release()
    assert not queue.held_by_me()


def test_slot_times_out_as_database_is_locked_and_gives_back_only_what_it_took():
    queue = WriteQueue()
    assert queue.acquire(1)
    errors: list[BaseException] = []

    def other():
        slot = QueueSlot(queue, 0.05)
        try:
            slot.take()
        except sqlite3.OperationalError as exc:
            errors.append(exc)
        slot.give_back()  # took nothing: must not release the holder's turn

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert [str(e) for e in errors] == ["database is locked"]
    assert queue.held_by_me()
    queue.release()


def test_nested_slot_of_the_holding_thread_does_not_wait_for_itself():
    queue = WriteQueue()
    outer, inner = QueueSlot(queue, 1), QueueSlot(queue, 0.01)
    outer.take()
    inner.take()  # would deadlock if it queued behind its own thread
    assert not inner.held
    inner.give_back()
    assert queue.held_by_me()  # the inner slot gave back nothing
    outer.give_back()
    outer.give_back()  # idempotent
    assert not queue.held_by_me()
    assert queue.acquire(0.01)
    queue.release()


@pytest.mark.parametrize("alias", ["same", "dotted"])
def test_one_queue_per_file(tmp_path, alias):
    path = tmp_path / "a.db"
    other = path if alias == "same" else tmp_path / "." / "a.db"
    assert queue_for(str(path)) is queue_for(str(other))
    assert queue_for(str(path)) is not queue_for(str(tmp_path / "b.db"))
