"""The generic demo generator (lowcode/demo) on a tiny fruit-stall app defined here (no template): records
written as the named user through the record service and workflow, a refused transition counted and not
fatal, the calendar and its agenda, the same seed giving the same records, and bad scenarios refused."""

from __future__ import annotations

import copy
import datetime as dt
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from lowcode.app import create_app
from lowcode.auth.users import create_user
from lowcode.commands import ensure_admin, install_template
from lowcode.core.models import RoleAssignment
from lowcode.demo import run_scenario
from lowcode.errors import ValidationFailed
from tests.dbs import fresh_database

STATES = ["draft", "confirmed", "cancelled"]
BUNDLE = {
    "app": {"name": "stall", "label": "Stall"},
    "entities": [
        {"name": "fruit", "label": "Fruit", "title_field": "name", "fields": [
            {"name": "name", "type": "text", "required": True},
            {"name": "price", "type": "decimal", "options": {"scale": 2}}]},
        {"name": "basket", "label": "Basket", "title_field": "customer", "fields": [
            {"name": "customer", "type": "text", "required": True},
            {"name": "fruit", "type": "link", "options": {"entity": "fruit"}},
            {"name": "qty", "type": "integer"},
            {"name": "status", "type": "select", "default": "draft",
             "options": {"choices": [{"value": s, "label": s} for s in STATES]}}]},
    ],
    "workflows": [{
        "name": "basket_flow", "label": "Basket flow", "entity": "basket", "state_field": "status",
        "initial": "draft", "states": [{"name": s} for s in STATES],
        "transitions": [
            {"name": "confirm", "from": "draft", "to": "confirmed", "label": "Confirm",
             "condition": {"field": "qty", "op": "<=", "value": 5}, "condition_message": "at most 5 a basket"},
            {"name": "cancel", "from": "confirmed", "to": "cancelled", "label": "Cancel"}]}],
    "roles": [{"name": "seller", "label": "Seller", "grants": [
        {"entity": "fruit", "actions": ["read", "create"]},
        {"entity": "basket", "actions": ["read", "create", "update"], "transitions": ["confirm", "cancel"]}]}],
}  # fmt: skip

SCENARIO = {
    "schema_version": 1, "app": "stall", "seed": 7,
    "options": {"days": 3, "fruit_names": ["apple", "pear", "plum"]},
    "dates": {"start": "=date_add_days(today, -days)"},
    "steps": [
        {"let": {"fruits": [], "day": "=start"}},
        {"for_each": "=fruit_names", "as": "f", "steps": [
            {"create": "fruit", "as": "sally", "collect": "fruits", "values": {"name": "=f", "price": "=randint(1, 9)"},
             "keep": {"label": "=upper(f)"}}]},
        {"calendar": {"from": "=start", "to": "=today"}, "steps": [{"repeat": 2, "steps": [{"call": "sell"}]}]},
    ],
    "procedures": {
        "sell": [
            {"create": "basket", "as": "sally", "hour": 11, "bind": "b", "values": {
                "customer": "=concat(choice(fruits).label, '-', pad(randint(1, 99), 3))",
                "fruit": "=choice(fruits).id", "qty": "=randint(1, 9)"}},
            {"transition": "confirm", "entity": "basket", "record": "=b", "as": "sally", "hour": 12},
            {"schedule": "cancel", "in_days": 1, "args": {"b": "=b.id"}},
        ],
        "cancel": [{"transition": "cancel", "entity": "basket", "record": "=b", "as": "sally", "hour": 9}],
    },
    "summary": ["fruit", "basket"],
}  # fmt: skip
TODAY = dt.date(2026, 3, 4)


@contextmanager
def stall(tmp_path):
    """The stall app on a fresh database with its seller 'sally'."""
    with fresh_database(tmp_path) as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret"})
        try:
            ensure_admin(app, "admin", "stall-root-pw-9471")
            folder = tmp_path / "stall"
            _write_bundle(folder)
            install_template(app, folder)
            with app.extensions["lowcode"].db.write() as s:
                user = create_user(s, "sally", "stall-seller-pw-9471")
                s.add(RoleAssignment(user_id=user.id, app="stall", role="seller", granted_by="test"))
            yield app
        finally:
            app.extensions["lowcode"].db.dispose()


def _write_bundle(folder):
    import json

    for section in ("entities", "workflows", "roles"):
        (folder / section).mkdir(parents=True)
        for doc in BUNDLE[section]:
            (folder / section / f"{doc['name']}.json").write_text(json.dumps(doc), encoding="utf-8")
    (folder / "app.json").write_text(json.dumps(BUNDLE["app"]), encoding="utf-8")


def _rows(app, entity):
    svc = app.extensions["lowcode"]
    with svc.db.read() as s:
        table = svc.snapshots.get(s).entity("stall", entity).table
        return [dict(r) for r in s.execute(sa.select(table).order_by(table.c.id)).mappings()]


def _content(app):
    fruits = {f["id"]: f["name"] for f in _rows(app, "fruit")}
    return [(b["customer"], fruits[b["fruit"]], b["qty"], b["status"], b["created_at"].replace(tzinfo=None),
             b["updated_at"].replace(tzinfo=None)) for b in _rows(app, "basket")]  # fmt: skip


def test_a_run_writes_as_the_user_through_the_workflow_and_counts_refusals(tmp_path):
    with stall(tmp_path) as app:
        summary = run_scenario(app, copy.deepcopy(SCENARIO), today=TODAY)
        baskets = _rows(app, "basket")
        assert len(baskets) == 8 and len(_rows(app, "fruit")) == 3  # four days x two
        refused = [b for b in baskets if b["status"] == "draft"]
        assert refused and all(b["qty"] > 5 for b in refused)  # the condition refused them
        assert all(b["qty"] <= 5 for b in baskets if b["status"] != "draft")
        # confirmed ones are cancelled the next day, except the last day's (beyond the calendar)
        for b in baskets:
            if b["status"] != "draft":
                made = b["created_at"].date()
                assert b["status"] == ("confirmed" if made == TODAY else "cancelled"), b
                assert b["updated_at"].date() == (made if made == TODAY else made + dt.timedelta(days=1))
        assert {b["created_at"].date() for b in baskets} == {TODAY - dt.timedelta(days=n) for n in range(4)}
        assert all(b["created_at"].hour == 11 for b in baskets)
        with app.extensions["lowcode"].db.read() as s:
            sally = s.scalar(sa.text("select id from lc_user where username = 'sally'"))
        assert {b["created_by"] for b in baskets} == {sally}
        assert all(c[0].split("-")[0] in ("APPLE", "PEAR", "PLUM") for c in _content(app))  # kept values
        assert summary.startswith(f"demo data {TODAY - dt.timedelta(days=3)} .. {TODAY}: 3 fruit, 8 basket; ")
        assert f"{len(refused)} steps refused (transition basket confirm {len(refused)})" in summary


def test_the_same_seed_gives_the_same_records(tmp_path):
    runs = []
    for name, seed in (("a", None), ("b", None), ("c", 8)):
        (tmp_path / name).mkdir()
        with stall(tmp_path / name) as app:
            run_scenario(app, copy.deepcopy(SCENARIO), today=TODAY, seed=seed)
            runs.append(_content(app))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_options_override_the_declared_ones(tmp_path):
    with stall(tmp_path) as app:
        summary = run_scenario(app, copy.deepcopy(SCENARIO), today=TODAY, days=0, fruit_names=["fig"])
        assert "1 fruit, 2 basket" in summary
        with pytest.raises(ValidationFailed, match="no option colour"):
            run_scenario(app, copy.deepcopy(SCENARIO), today=TODAY, colour="red")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["steps"].append({"call": "nowhere"}), "no procedure 'nowhere'"),
        (lambda s: s["steps"].append({"let": {}, "repeat": 2, "steps": []}), "/steps/3"),
        (lambda s: s["steps"].append({"create": "fruit", "colour": "red"}), "colour"),
        (
            lambda s: s["procedures"]["sell"].append({"transition": "confirm"}),
            "is a dependency of 'transition'",
        ),
        (lambda s: s.pop("app"), "'app' is a required property"),
    ],
)
def test_a_bad_scenario_is_refused_before_anything_is_written(tmp_path, change, message):
    scenario = copy.deepcopy(SCENARIO)
    change(scenario)
    with stall(tmp_path) as app:
        with pytest.raises(ValidationFailed, match=message):
            run_scenario(app, scenario, today=TODAY)
        assert _rows(app, "fruit") == []


def test_create_many_writes_independent_records_in_one_bulk_write(tmp_path, monkeypatch):
    from lowcode.runtime.records import RecordService

    scenario = copy.deepcopy(SCENARIO)
    scenario["steps"][1] = {
        "create_many": "fruit", "as": "sally", "collect": "fruits", "bind": "made",
        "values": {"$each": "=fruit_names", "as": "f", "value": {"name": "=upper(f)", "price": "=randint(1, 9)"}},
    }  # fmt: skip
    scenario["procedures"]["sell"][0]["values"]["customer"] = (
        "=concat(choice(fruits).name, '-', pad(randint(1, 99), 3))"
    )

    def one_by_one(*args, **kwargs):
        raise AssertionError("created one by one")

    with stall(tmp_path) as app:
        with monkeypatch.context() as patched:
            patched.setattr(RecordService, "create", one_by_one)
            patched.setitem(scenario["procedures"], "sell", [])  # the baskets: one by one, not here
            run_scenario(app, copy.deepcopy(scenario), today=TODAY)
        fruits = _rows(app, "fruit")
        assert [f["name"] for f in fruits] == ["APPLE", "PEAR", "PLUM"]
        with app.extensions["lowcode"].db.read() as s:
            sally = s.scalar(sa.text("select id from lc_user where username = 'sally'"))
            audited = s.scalar(
                sa.text("select count(*) from lc_audit where entity = 'fruit' and action = 'create'")
            )
        assert {f["created_by"] for f in fruits} == {sally} and audited == 3


def test_create_many_counts_a_refused_item_and_keeps_the_others(tmp_path):
    scenario = copy.deepcopy(SCENARIO)
    scenario["steps"][1] = {
        "create_many": "fruit", "as": "sally", "collect": "fruits", "if_refused": "continue",
        "values": [{"name": "fig", "price": "1"}, {"price": "2"}, {"name": "kiwi", "price": "3"}],
    }  # fmt: skip
    scenario["procedures"]["sell"][0]["values"]["customer"] = (
        "=concat(choice(fruits).name, '-', pad(randint(1, 99), 3))"
    )
    with stall(tmp_path) as app:
        summary = run_scenario(app, scenario, today=TODAY)
        assert [f["name"] for f in _rows(app, "fruit")] == ["fig", "kiwi"]
        assert {c[1] for c in _content(app)} <= {"fig", "kiwi"} and len(_rows(app, "basket")) == 8
        assert "create fruit 1" in summary
