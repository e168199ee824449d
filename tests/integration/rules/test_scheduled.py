"""Scheduled rules: due minutes in the rule's time zone, one transaction per record (a refusal or an error on
one does not stop the others), the run log, catch-up, the worker job - and two workers that never both run
the same minute. Every moment is passed explicitly; nothing sleeps."""

from __future__ import annotations

import copy
import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from lowcode.core.models import AuditEntry, Counter, RuleRunEntry
from lowcode.rules import scheduled
from lowcode.rules.scheduled import counter_key, minute_of, run_due_rules, run_for_record
from lowcode.runtime.context import Actor
from lowcode.worker import JOBS, Scheduler
from tests.integration.rules.stock_bundle import BUNDLE

UTC = dt.UTC
# 08:00 in Shanghai is 00:00 UTC
BEFORE = dt.datetime(2030, 1, 6, 23, 59, 10, tzinfo=UTC)
AT_EIGHT = dt.datetime(2030, 1, 7, 0, 0, 20, tzinfo=UTC)
LOW_STOCK = {"field": "on_hand", "op": "<", "value": 10}


def scheduled_bundle() -> dict:
    bundle = copy.deepcopy(BUNDLE)
    bundle["entities"].append(
        {"name": "reorder_alert", "label": "Reorder alert", "fields": [
            {"name": "product", "type": "link", "options": {"entity": "product"}},
            {"name": "on_hand", "type": "decimal", "options": {"scale": 3}},
            {"name": "note", "type": "text"}]}
    )  # fmt: skip
    bundle["rules"] += [
        {"name": "reorder_alerts", "entity": "stock_balance",
         "schedule": {"cron": "0 8 * * *", "timezone": "Asia/Shanghai", "condition": LOW_STOCK},
         "actions": [
             {"type": "refuse", "when": "on_hand = 3", "message": "Product {product} is blocked"},
             {"type": "create_record", "entity": "reorder_alert",
              "values": {"product": "product", "on_hand": "on_hand", "note": "concat('below reorder level: ', on_hand)"}}]},
        {"name": "half_hourly", "entity": "reorder_alert", "schedule": {"cron": "*/30 * * * *"},
         "actions": [{"type": "create_record", "entity": "reorder_alert", "values": {"note": "'tick'"}}]},
    ]  # fmt: skip
    return bundle


@pytest.fixture
def shop(app, api):
    response = api.post("/api/templates/import", json=scheduled_bundle())
    assert response.status_code == 201, response.get_json()
    warehouse = api.post("/api/data/shop/warehouse", json={"code": "WH1"}).get_json()["id"]
    products = {}
    for sku, qty in (("A", 5), ("B", 3), ("C", 50)):
        products[sku] = api.post("/api/data/shop/product", json={"sku": sku}).get_json()["id"]
        receipt = {"product": products[sku], "warehouse": warehouse, "kind": "receipt", "qty": str(qty)}
        assert api.post("/api/data/shop/stock_ledger", json=receipt).status_code == 201
    return app.extensions["lowcode"], products


def alerts(svc) -> list[tuple]:
    with svc.db.read() as s:
        rows = s.execute(sa.text("SELECT product, note FROM e_shop_reorder_alert ORDER BY id")).all()
    return [tuple(r) for r in rows]


def run_log(svc) -> list[tuple]:
    with svc.db.read() as s:
        entries = s.scalars(
            sa.select(RuleRunEntry).where(RuleRunEntry.trigger == "schedule").order_by(RuleRunEntry.id)
        )
        return [(e.rule, e.entity, e.record_id, e.phase, e.outcome, e.message) for e in entries]


def balance_id(svc, product: int) -> int:
    with svc.db.read() as s:
        return s.scalar(sa.text("SELECT id FROM e_shop_stock_balance WHERE product = :p"), {"p": product})


def test_due_rules_run_once_per_matching_record_in_their_time_zone(shop):
    svc, products = shop
    assert run_due_rules(svc, BEFORE) == {}  # 07:59 in Shanghai: nothing due
    result = run_due_rules(svc, AT_EIGHT)
    assert result == {
        "shop.reorder_alerts": {"minute": "2030-01-07T00:00", "records": 2, "ok": 1, "refused": 1, "error": 0, "skipped": 0},
        "shop.half_hourly": {"minute": "2030-01-07T00:00", "records": 1, "ok": 1, "refused": 0, "error": 0, "skipped": 0},
    }  # fmt: skip
    # the refusal on B rolled back B's alert only; A's alert and the condition-less rule's record were kept
    assert alerts(svc) == [(None, "tick"), (products["A"], "below reorder level: 5.000")]  # rules by name
    a, b = balance_id(svc, products["A"]), balance_id(svc, products["B"])
    assert run_log(svc) == [
        ("half_hourly", "reorder_alert", None, "schedule", "ok", ""),
        ("reorder_alerts", "stock_balance", a, "schedule", "ok", ""),
        ("reorder_alerts", "stock_balance", b, "schedule", "refused", f"Product {products['B']} is blocked"),
    ]
    with svc.db.read() as s:
        actors = s.scalars(sa.select(AuditEntry.actor_name).where(AuditEntry.entity == "reorder_alert")).all()
        done = s.scalars(
            sa.select(RuleRunEntry.actions).where(
                RuleRunEntry.outcome == "ok", RuleRunEntry.trigger == "schedule"
            )
        ).all()
    assert actors == ["system:rule:half_hourly", "system:rule:reorder_alerts"]
    assert all(d and d[0].startswith("created reorder_alert") for d in done)
    # the same minute again, or the next minutes: nothing is due
    for moment in (AT_EIGHT + dt.timedelta(seconds=30), AT_EIGHT + dt.timedelta(minutes=1)):
        assert run_due_rules(svc, moment) == {}
    assert len(alerts(svc)) == 2
    # the next day at 08:00 Shanghai time the rule runs again
    assert run_due_rules(svc, AT_EIGHT + dt.timedelta(days=1))["shop.reorder_alerts"]["ok"] == 1


def test_a_missed_minute_is_caught_up_once(shop):
    svc, _ = shop
    run_due_rules(svc, BEFORE)
    late = AT_EIGHT + dt.timedelta(minutes=7)  # no worker ran at 08:00
    assert set(run_due_rules(svc, late)) == {"shop.reorder_alerts", "shop.half_hourly"}
    assert run_due_rules(svc, late + dt.timedelta(minutes=1)) == {}
    # ticks that straddle a due minute (08:29:59, then 08:31:00) still run it
    assert run_due_rules(svc, AT_EIGHT + dt.timedelta(minutes=29, seconds=39)) == {}
    assert set(run_due_rules(svc, AT_EIGHT + dt.timedelta(minutes=30, seconds=40))) == {"shop.half_hourly"}
    with svc.db.read() as s:
        stored = s.scalar(sa.select(Counter.value).where(Counter.key == "schedule:shop.half_hourly"))
    assert stored == minute_of(AT_EIGHT + dt.timedelta(minutes=31))  # the minute of the tick that ran it


def test_a_rule_first_seen_outside_its_minute_waits_for_it(shop):
    svc, _ = shop
    assert run_due_rules(svc, AT_EIGHT + dt.timedelta(minutes=10)) == {}  # first sight at 08:10: no back-fill
    assert set(run_due_rules(svc, AT_EIGHT + dt.timedelta(minutes=30))) == {"shop.half_hourly"}


def test_two_workers_never_both_run_the_same_minute(shop):
    svc, products = shop
    run_due_rules(svc, BEFORE)
    days = 3
    barrier = threading.Barrier(2)
    results: list[tuple[int, dict]] = []
    errors: list[BaseException] = []

    def worker():
        try:
            for day in range(days):
                barrier.wait(timeout=30)
                results.append((day, run_due_rules(svc, AT_EIGHT + dt.timedelta(days=day))))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for day in range(days):  # each rule ran once a day, by one of the two workers
        ran = sorted(name for d, r in results if d == day for name in r)
        assert ran == ["shop.half_hourly", "shop.reorder_alerts"], (day, results)
    expected = [(products["A"], "below reorder level: 5.000"), (None, "tick")] * days
    assert sorted(alerts(svc), key=str) == sorted(expected, key=str)
    assert len(run_log(svc)) == 3 * days


def test_an_error_on_one_record_is_logged_and_the_others_go_on(shop, monkeypatch):
    svc, products = shop
    engine = svc.records.rules
    real = engine.run_rule
    broken = balance_id(svc, products["A"])

    def flaky(ctx, rule, event, trigger=""):
        if event.record_id == broken:
            raise RuntimeError("disk on fire")
        return real(ctx, rule, event, trigger)

    monkeypatch.setattr(engine, "run_rule", flaky)
    run_due_rules(svc, BEFORE)
    summary = run_due_rules(svc, AT_EIGHT)["shop.reorder_alerts"]
    assert (summary["ok"], summary["refused"], summary["error"]) == (0, 1, 1)
    log = [e for e in run_log(svc) if e[0] == "reorder_alerts"]
    assert log[0][2:] == (broken, "schedule", "error", "RuntimeError: disk on fire")
    assert log[1][4] == "refused"


def test_a_record_that_no_longer_matches_is_skipped(shop):
    svc, products = shop
    with svc.db.read() as s:
        rule = svc.snapshots.get(s).rulebook.all[("shop", "reorder_alerts")]
    big = balance_id(svc, products["C"])
    at = AT_EIGHT.replace(tzinfo=None)
    assert run_for_record(svc, svc.records.rules, rule, big, Actor.system("schedule:x"), at) == "skipped"
    assert run_for_record(svc, svc.records.rules, rule, 99999, Actor.system("schedule:x"), at) == "skipped"
    assert alerts(svc) == [] and run_log(svc) == []


def test_the_worker_runs_scheduled_rules_every_minute(shop):
    svc, _ = shop
    job = JOBS.get("scheduled_rules")
    assert job.interval == dt.timedelta(minutes=1)
    scheduler = Scheduler(svc)
    assert scheduler.run_pending(BEFORE)["scheduled_rules"] == {}
    assert set(scheduler.run_pending(AT_EIGHT)["scheduled_rules"]) == {
        "shop.reorder_alerts",
        "shop.half_hourly",
    }
    assert scheduler.last_error == {}
    with svc.db.read() as s:
        keys = set(s.scalars(sa.select(Counter.key).where(Counter.key.like("schedule:%"))))
    with svc.db.read() as s:
        rules = svc.snapshots.get(s).rulebook.scheduled
    assert (
        keys
        == {counter_key(r) for r in rules}
        == {"schedule:shop.reorder_alerts", "schedule:shop.half_hourly"}
    )


def test_a_bad_cron_or_time_zone_is_refused_at_publish_time(api):
    bundle = scheduled_bundle()
    bundle["rules"][-1]["schedule"] = {"cron": "*/30 25 * * *", "timezone": "Mars/Olympus"}
    response = api.post("/api/templates/import", json=bundle)
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["error"]["fields"]
    assert fields["rules/half_hourly.json: $.schedule.cron"] == ["hour: '25' is outside 0-23"]
    assert fields["rules/half_hourly.json: $.schedule.timezone"] == ["unknown time zone 'Mars/Olympus'"]


def test_without_a_rule_engine_nothing_runs(shop, monkeypatch):
    svc, _ = shop
    monkeypatch.setattr(svc.records, "rules", object())
    assert run_due_rules(svc, AT_EIGHT) == {}
    assert scheduled.MAX_RECORDS >= 1000
