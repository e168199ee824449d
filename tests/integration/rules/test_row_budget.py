"""The row budget of a write (issue 9, found 7): the rules one write sets off - before and after rules,
cascades included - may loop over or write at most ``RULE_ROW_BUDGET`` rows in all; nested loops multiply.
Over it the write is refused whole with a 422 naming the rule, quickly, and nothing stays written."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from lowcode.config import DEFAULTS
from lowcode.core.models import RuleRunEntry

BUDGET = 100
ITEMS = {"name": "item", "label": "Item", "fields": [
    {"name": "n", "type": "integer"}, {"name": "touched", "type": "integer", "default": 0}]}  # fmt: skip
BATCH = {"name": "batch", "label": "Batch", "fields": [
    {"name": "name", "type": "text"}, {"name": "mode", "type": "text"},
    {"name": "lines", "type": "child_table", "options": {"entity": "batch_line"}}]}  # fmt: skip
BATCH_LINE = {
    "name": "batch_line",
    "label": "Line",
    "child": True,
    "fields": [{"name": "n", "type": "integer"}],
}
TAG = {"name": "tag", "label": "Tag", "fields": [{"name": "name", "type": "text"}]}


def on_batch(name: str, mode: str, actions: list, phase: str = "after") -> dict:
    """A rule on creating a batch whose ``mode`` is ``mode``."""
    return {"name": name, "entity": "batch", "actions": actions, "trigger": {
        "events": ["create"], "phase": phase, "condition": {"field": "mode", "op": "=", "value": mode}}}  # fmt: skip


EVERY_ITEM = {"type": "for_each_record", "entity": "item", "limit": 10000, "as": "outer"}
TOUCH_INNER = {"type": "update_records", "entity": "item", "where": {"field": "id", "op": "=", "value": "$inner.id"},
               "set": {"touched": "touched + 1"}}  # fmt: skip
NEVER = {"type": "refuse", "message": "never", "when": "false"}
RULES = [
    # the issue's rule: every item times every item (up to 10,000 x 10,000), as a pure loop and writing each time
    on_batch("cross", "cross", [{**EVERY_ITEM, "actions": [{**EVERY_ITEM, "as": "inner", "actions": [NEVER]}]}]),
    on_batch("cross_write", "cross_write", [{**EVERY_ITEM, "actions": [{**EVERY_ITEM, "as": "inner",
                                                                        "actions": [TOUCH_INNER]}]}]),
    on_batch("lines_squared", "lines", [{"type": "for_each_child", "child": "lines", "as": "a", "actions": [
        {"type": "for_each_child", "child": "lines", "as": "b", "actions": [
            {"type": "refuse", "message": "never", "when": "false"}]}]}]),
    on_batch("touch_all", "touch_all", [{"type": "update_records", "entity": "item", "expect": "any",
                                         "where": {"field": "n", "op": ">=", "value": 0}, "set": {"touched": "touched + 1"}}]),
    on_batch("look_before", "split", [{**EVERY_ITEM, "actions": [{"type": "refuse", "message": "x", "when": "false"}]}],
             phase="before"),
    on_batch("look_after", "split", [{**EVERY_ITEM, "actions": [{"type": "refuse", "message": "x", "when": "false"}]}]),
    # a cascade: each item touched runs the item rule below, which loops over the tags
    {"name": "item_reads_tags", "entity": "item", "trigger": {"events": ["update"], "phase": "after"},
     "actions": [{"type": "for_each_record", "entity": "tag", "actions": [{"type": "refuse", "message": "x",
                                                                         "when": "false"}]}]},
    on_batch("notify_admins", "notify", [{**EVERY_ITEM, "actions": [
        {"type": "publish_event", "topic": "item.seen", "payload": {"id": "outer.id"}}]}]),
]  # fmt: skip
BUNDLE = {
    "app": {"name": "rb", "label": "Row budget"},
    "entities": [ITEMS, BATCH, BATCH_LINE, TAG],
    "rules": RULES,
}


@pytest.fixture
def app_config() -> dict:
    return {"RULE_ROW_BUDGET": BUDGET}


@pytest.fixture
def rb(api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    return api


def add_items(app, count: int) -> None:
    """Many items at once for the setup (straight into the table: the write path is not under test here)."""
    svc = app.extensions["lowcode"]
    with svc.db.write() as session:
        table = svc.snapshots.get(session).entity("rb", "item").table
        now = dt.datetime(2026, 1, 1)
        rows = [
            {"n": i, "touched": 0, "version": 1, "created_at": now, "updated_at": now} for i in range(count)
        ]
        session.execute(sa.insert(table), rows)


def item_state(app) -> tuple[int, int]:
    """(number of items, total of ``touched``)."""
    svc = app.extensions["lowcode"]
    with svc.db.read() as session:
        table = svc.snapshots.get(session).entity("rb", "item").table
        return tuple(session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(table.c.touched), 0)).where(
            table.c.deleted_at.is_(None))).one())  # fmt: skip


def batches(api) -> int:
    return len(api.get("/api/data/rb/batch?limit=500").get_json()["data"])


def assert_over_budget(response, rule: str, budget: int = BUDGET) -> None:
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "row_budget_exceeded"
    assert error["message"].startswith(f"Rule '{rule}': more than {budget} rows in one write")
    assert error["row_budget"] == budget


@pytest.mark.parametrize("app_config", [{}], ids=["default budget"])
def test_the_issues_nested_record_loops_are_refused_in_a_moment(app, rb):
    """2,000 items looped over inside a loop over the same 2,000 items: four million steps without a bound
    (and up to 10,000 x 10,000 at the largest ``limit``). The default budget (20,000) stops it at the tenth
    inner loop."""
    add_items(app, 2000)
    started = time.perf_counter()
    response = rb.post("/api/data/rb/batch", json={"name": "b", "mode": "cross"})
    elapsed = time.perf_counter() - started
    assert_over_budget(response, "cross", DEFAULTS["RULE_ROW_BUDGET"])
    assert elapsed < 10, f"took {elapsed:.1f} s"  # measured ~0.5 s on SQLite
    assert batches(rb) == 0
    with app.extensions["lowcode"].db.read() as session:  # the refusal is in the run log, after the rollback
        outcomes = session.execute(sa.select(RuleRunEntry.outcome, RuleRunEntry.message).where(
            RuleRunEntry.rule == "cross")).all()  # fmt: skip
    assert outcomes == [("refused", response.get_json()["error"]["message"])]


def test_nested_loops_that_write_are_refused_and_leave_nothing_written(app, rb):
    """300 x 300 with a guarded update in each inner step: refused after 100 rows (300 looped over), and the
    updates made until then are rolled back with the write."""
    add_items(app, 300)
    response = rb.post("/api/data/rb/batch", json={"name": "b", "mode": "cross_write"})
    assert_over_budget(response, "cross_write")
    assert item_state(app) == (300, 0)
    assert batches(rb) == 0


@pytest.mark.parametrize(("lines", "status"), [(9, 201), (10, 422)])
def test_nested_loops_multiply_into_the_budget(rb, lines, status):
    """9 lines: 9 + 9 x 9 = 90 rows; 10 lines: 10 + 10 x 10 = 110 - over a budget of 100."""
    body = {"name": "b", "mode": "lines", "lines": [{"n": i} for i in range(lines)]}
    response = rb.post("/api/data/rb/batch", json=body)
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert_over_budget(response, "lines_squared")
    assert batches(rb) == (1 if status == 201 else 0)


@pytest.mark.parametrize(("items", "status"), [(BUDGET, 201), (BUDGET + 1, 422)])
def test_a_guarded_update_matching_more_rows_than_are_left_changes_none(app, rb, items, status):
    add_items(app, items)
    response = rb.post("/api/data/rb/batch", json={"name": "b", "mode": "touch_all"})
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert_over_budget(response, "touch_all")
    # the cascade rule on items loops over tags: there are none, so only the update itself counts
    assert item_state(app) == (items, items if status == 201 else 0)


def test_cascades_share_the_budget_of_the_write_that_set_them_off(app, rb):
    """60 items touched (60 rows), and each touched item's own rule loops over the one tag (60 more): each
    rule is well under 100, the write is not."""
    add_items(app, 60)
    assert rb.post("/api/data/rb/tag", json={"name": "t"}).status_code == 201
    response = rb.post("/api/data/rb/batch", json={"name": "b", "mode": "touch_all"})
    assert_over_budget(response, "touch_all")  # its 60 rows are counted when its after-rules have run
    assert item_state(app) == (60, 0)
    assert (
        rb.post("/api/data/rb/batch", json={"name": "b", "mode": "lines"}).status_code == 201
    )  # next write: anew


def test_before_and_after_rules_of_one_write_share_it_and_each_write_starts_anew(app, rb):
    add_items(app, 50)  # 50 rows before + 50 after = 100: at the budget, allowed - twice in a row
    assert rb.post("/api/data/rb/batch", json={"name": "b1", "mode": "split"}).status_code == 201
    assert rb.post("/api/data/rb/batch", json={"name": "b2", "mode": "split"}).status_code == 201
    add_items(app, 1)  # 51 + 51
    assert_over_budget(rb.post("/api/data/rb/batch", json={"name": "b3", "mode": "split"}), "look_after")
    assert batches(rb) == 2


def test_queued_events_count_as_written_rows(app, rb):
    add_items(app, 50)  # 50 looped over + 50 events = 100
    assert rb.post("/api/data/rb/batch", json={"name": "b", "mode": "notify"}).status_code == 201
    add_items(app, 1)
    assert_over_budget(rb.post("/api/data/rb/batch", json={"name": "b", "mode": "notify"}), "notify_admins")


def test_a_dry_run_over_the_budget_reports_the_refusal(app, rb):
    body = {
        "entity": "batch",
        "changes": {"name": "b", "mode": "lines", "lines": [{"n": i} for i in range(10)]},
    }
    response = rb.post("/api/rules/rb/dry-run", json=body)
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["outcome"] == "refused"
    assert result["message"].startswith(f"Rule 'lines_squared': more than {BUDGET} rows in one write")
    assert batches(rb) == 0
