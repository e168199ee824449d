"""A subscription's lane: which rows join, which are released after a failure, when holds end."""

from __future__ import annotations

import threading

from lowcode.integrations.lanes import Lane
from lowcode.runtime.outbox_signal import Bell


def _row(row_id: int, record: str) -> dict:
    return {"id": row_id, "record_key": f"item:{record}"}


def test_rows_join_in_order_and_stay_unwritten_until_their_outcomes_are_written():
    lane = Lane()
    assert lane.join([_row(1, "a"), _row(2, "b")]) == []
    assert [r["id"] for r in lane.queue] == [1, 2]
    assert lane.unwritten == {1: "item:a", 2: "item:b"}
    lane.queue.clear()
    assert not lane.idle()
    lane.noted = 2
    lane.forget_written({1, 2})
    assert lane.idle() and lane.noted == 0


def test_a_failure_releases_the_records_queued_rows_and_holds_it_until_written():
    lane = Lane()
    lane.join([_row(1, "a"), _row(2, "b"), _row(3, "a"), _row(4, "a")])
    failed = lane.queue.popleft()
    released = lane.fail(failed)
    assert [r["id"] for r in released] == [3, 4]
    assert [r["id"] for r in lane.queue] == [2]
    assert lane.held == {"item:a": 1}
    # a row of the held record leased meanwhile is handed back, not queued; others join
    assert [r["id"] for r in lane.join([_row(5, "a"), _row(6, "c")])] == [5]
    assert [r["id"] for r in lane.queue] == [2, 6]
    assert not lane.accepts("item:a", set())
    lane.forget_written({3, 4})  # the releases are written, the failure is not: still held
    assert lane.held == {"item:a": 1}
    lane.forget_written({1})
    assert lane.held == {}


def test_a_new_row_joins_only_when_every_pending_row_of_its_record_is_in_the_lane():
    lane = Lane()
    lane.join([_row(1, "a")])
    assert lane.accepts("item:a", {1})
    assert not lane.accepts("item:a", {1, 7})  # row 7 waits elsewhere (backoff, another worker)
    assert lane.accepts("item:b", set())


def test_the_bell_wakes_a_waiter_and_never_loses_a_ring_before_the_wait():
    bell = Bell()
    seen = bell.generation
    bell.ring()  # rung between the look and the wait
    assert bell.wait(seen, 5.0)
    seen = bell.generation
    assert not bell.wait(seen, 0.01)
    threading.Timer(0.05, bell.ring).start()
    assert bell.wait(seen, 5.0)
