"""The parts of the report speed-ups that need no database: the result cache's LRU (bounded, a stale entry
dropped, copies in and out), the slow-run notes, and the reading of both databases' query plans."""

from __future__ import annotations

from decimal import Decimal

from lowcode.reports.cache import ReportCache
from lowcode.reports.index_advice import SlowRuns, _pg_plan, _sqlite_plan
from lowcode.reports.result import ReportResult, ResultRow


def _result(amount: str) -> ReportResult:
    row = ResultRow("row", {"wh": "A", "amount": Decimal(amount)}, {"wh": "A"})
    return ReportResult("r", "R", [], [row], None, [], None, {"p": 1})


def test_a_hit_needs_the_same_counters_and_a_stale_entry_goes():
    cache = ReportCache(size=4)
    cache.put("k", (1, 2), _result("1.50"))
    assert cache.get("k", (1, 2)).rows[0].values["amount"] == Decimal("1.50")
    assert cache.get("k", (1, 3)) is None  # a counter moved
    assert cache.get("k", (1, 2)) is None  # and the entry is gone
    assert (cache.stats.hits, cache.stats.misses) == (1, 2)


def test_the_cache_is_bounded_and_drops_the_least_recently_used():
    cache = ReportCache(size=2)
    cache.put("a", (0,), _result("1"))
    cache.put("b", (0,), _result("2"))
    assert cache.get("a", (0,)) is not None  # a is now the most recent
    cache.put("c", (0,), _result("3"))
    assert len(cache) == 2 and cache.get("b", (0,)) is None and cache.get("a", (0,)) is not None
    off = ReportCache(size=0)
    off.put("a", (0,), _result("1"))
    assert len(off) == 0


def test_a_holder_changing_its_copy_changes_nothing_cached():
    cache = ReportCache()
    mine = _result("5.00")
    cache.put("k", (0,), mine)
    mine.rows[0].values["amount"] = Decimal("999")
    got = cache.get("k", (0,))
    got.rows[0].values["amount"] = Decimal("777")
    got.rows.append(ResultRow("row", {}, {}))
    again = cache.get("k", (0,))
    assert again.rows[0].values["amount"] == Decimal("5.00") and len(again.rows) == 1


def test_slow_runs_keep_the_slowest_past_the_threshold():
    slow = SlowRuns(100)
    slow.note("a", "r", 50)
    assert slow.slowest("a", "r") is None
    slow.note("a", "r", 150)
    slow.note("a", "r", 120)
    assert slow.slowest("a", "r") == 150
    never = SlowRuns(0)
    never.note("a", "r", 10_000)
    assert never.slowest("a", "r") is None


def test_sqlite_plans_old_and_new_wording():
    rows = [
        (2, 0, 0, "SCAN e_shop_order"),
        (3, 0, 0, "SEARCH j1 USING INTEGER PRIMARY KEY (rowid=?)"),
        (4, 0, 0, "SCAN TABLE e_shop_line AS j2"),
        (5, 0, 0, "SCAN j3 USING COVERING INDEX ix_x"),
        (6, 0, 0, "USE TEMP B-TREE FOR GROUP BY"),
    ]
    plan, scanned = _sqlite_plan(rows)
    assert plan[0] == "SCAN e_shop_order" and scanned == {"e_shop_order", "j2"}


def test_postgresql_plans_name_the_sequential_scans_by_alias():
    doc = [{"Plan": {"Node Type": "HashAggregate", "Plans": [
        {"Node Type": "Hash Join", "Plans": [
            {"Node Type": "Parallel Seq Scan", "Relation Name": "e_br_order_line", "Alias": "e_br_order_line"},
            {"Node Type": "Index Scan", "Relation Name": "e_br_order", "Alias": "j1"},
            {"Node Type": "Seq Scan", "Relation Name": "e_br_warehouse", "Alias": "j2"},
        ]}]}}]  # fmt: skip
    plan, scanned = _pg_plan([(doc,)])
    assert scanned == {"e_br_order_line", "j2"}
    assert plan[0] == "HashAggregate" and plan[3].strip() == "Index Scan on e_br_order j1"
