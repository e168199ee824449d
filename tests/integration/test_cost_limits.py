"""Cost limits of a request: filter/search size limits, the statement budget of reads and writes (a 422
``query_too_costly`` that changes nothing), and jobs outside requests running without a budget."""

from __future__ import annotations

import dataclasses
import json
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lowcode.core.budget import StatementBudget
from lowcode.core.models import SecurityEvent
from lowcode.query_costs import EXTENSION
from tests.integration.costs_data import BUNDLE, costly_filter, fill_memos

LIST = "/api/data/ct/memo"
UNLIMITED = {"FILTER_MAX_TEXT_TERMS": 0, "FILTER_MAX_TERMS": 0}


@pytest.fixture
def ct(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    return api


def _list(api, doc=None, **params):
    if doc is not None:
        params["filter"] = json.dumps(doc)
    return api.get(LIST, query_string=params)


def _refused(response, limit: str) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "query_too_costly" and error["limit"] == limit, error
    return error


def _set_budget(app, **limits) -> None:
    costs = app.extensions[EXTENSION]
    app.extensions[EXTENSION] = dataclasses.replace(costs, budget=StatementBudget(**limits))


def _events(app) -> list[SimpleNamespace]:
    with app.extensions["lowcode"].db.read() as s:
        rows = s.scalars(sa.select(SecurityEvent).where(SecurityEvent.kind == "query_too_costly"))
        return [SimpleNamespace(username=e.username, detail=e.detail) for e in rows]


def test_the_issue_filter_of_200_contains_terms_is_refused_at_once(app, ct, caplog):
    fill_memos(app, 2048)
    started = time.monotonic()
    error = _refused(_list(ct, costly_filter(200)), "FILTER_MAX_TEXT_TERMS")
    assert time.monotonic() - started < 1.0
    assert error["max"] == 10 and "LOWCODE_FILTER_MAX_TEXT_TERMS" in error["message"]
    assert _list(ct, costly_filter(10)).status_code == 200  # at the limit: runs
    [logged] = [r.getMessage() for r in caplog.records if r.name == "lowcode.costs"]
    assert "query_too_costly (FILTER_MAX_TEXT_TERMS): GET /api/data/ct/memo by token:" in logged
    assert _events(app) == []  # refused before anything ran: logged, not a security event


@pytest.mark.parametrize(
    ("doc", "params", "limit"),
    [
        ({"any": [{"field": "hits", "op": "=", "value": i} for i in range(51)]}, {}, "FILTER_MAX_TERMS"),
        (
            {
                "not": {
                    "not": {"not": {"not": {"not": {"not": {"not": {"field": "hits", "op": "is_empty"}}}}}}
                }
            },
            {},
            "FILTER_MAX_DEPTH",
        ),
        ({"field": "note", "op": "contains", "value": "q" * 101}, {}, "FILTER_MAX_TEXT_LENGTH"),
        (None, {"q": "q" * 101}, "FILTER_MAX_TEXT_LENGTH"),
        (costly_filter(10), {"q": "anything"}, "FILTER_MAX_TEXT_TERMS"),  # the search counts as one
    ],
)
def test_filters_over_a_size_limit_are_refused_naming_it(ct, doc, params, limit):
    _refused(_list(ct, doc, **params), limit)


def test_limits_hold_on_the_csv_export_and_the_list_page(app, ct):
    params = {"filter": json.dumps(costly_filter(11))}
    _refused(ct.get(f"{LIST}/export.csv", query_string=params), "FILTER_MAX_TEXT_TERMS")
    page = ct.get("/a/ct/memo", query_string=params)
    assert page.status_code == 422 and "LOWCODE_FILTER_MAX_TEXT_TERMS" in page.get_data(as_text=True)
    simple = {"field": "note", "op": "contains", "value": "q" * 101}
    assert ct.get("/a/ct/memo", query_string=simple).status_code == 422
    assert (
        ct.get("/a/ct/memo", query_string={"field": "note", "op": "contains", "value": "q"}).status_code
        == 200
    )


@pytest.mark.parametrize("app_config", [UNLIMITED])
def test_a_read_over_the_statement_budget_is_a_422_and_the_connection_is_left_clean(app, ct):
    fill_memos(app, 8192)
    _set_budget(app, read_ms=50, read_steps=0)
    error = _refused(_list(ct, costly_filter(200)), "STATEMENT_TIMEOUT_MS")
    assert error["max"] == 50
    [event] = _events(app)
    assert event.username == "admin" and event.detail["path"] == LIST
    assert event.detail["limit"] == "STATEMENT_TIMEOUT_MS" and event.detail["credential"].startswith("token:")
    _set_budget(app)  # the defaults: a cheap list on the same pool answers
    assert _list(ct).status_code == 200
    # outside a request there is no budget: the same scan runs to its end on the pooled connections
    db = app.extensions["lowcode"].db
    with db.read() as session:
        table = app.extensions["lowcode"].snapshots.get(session).entity("ct", "memo").table
        where = sa.or_(*[sa.func.lower(table.c.note).like(f"%zq{i}%") for i in range(40)])
        assert session.scalar(sa.select(sa.func.count()).select_from(table).where(where)) == 0


@pytest.mark.parametrize("app_config", [UNLIMITED])
def test_the_sqlite_step_budget_stops_a_read(app, ct):
    fill_memos(app, 4096)
    if app.extensions["lowcode"].db.dialect != "sqlite":
        _set_budget(app, read_ms=50)  # PostgreSQL has no step budget: the same request runs into its time
        _refused(_list(ct, costly_filter(200)), "STATEMENT_TIMEOUT_MS")
        return
    _set_budget(app, read_ms=0, read_steps=100_000)
    assert _refused(_list(ct, costly_filter(200)), "SQLITE_STEP_BUDGET")["max"] == 100_000
    _set_budget(app, read_ms=0, read_steps=0)
    assert _list(ct, costly_filter(200)).status_code == 200


def _probe_state(app) -> tuple[int, int]:
    with app.extensions["lowcode"].db.read() as session:
        snapshot = app.extensions["lowcode"].snapshots.get(session)
        memo, probe = snapshot.entity("ct", "memo").table, snapshot.entity("ct", "probe").table
        hits = session.scalar(sa.select(sa.func.sum(memo.c.hits)))
        return session.scalar(sa.select(sa.func.count()).select_from(probe)), hits


def test_a_write_over_its_budget_is_a_422_and_changes_nothing(app, ct):
    rows = fill_memos(app, 8192)
    with app.extensions["lowcode"].db.write() as session:  # one memo the rule will match
        table = app.extensions["lowcode"].snapshots.get(session).entity("ct", "memo").table
        session.execute(sa.update(table).where(table.c.id == 1).values(note="has the needle qqq"))
    _set_budget(app, read_ms=5000, write_ms=10, write_steps=0)
    _refused(ct.post("/api/data/ct/probe", json={"needle": "qqq"}), "WRITE_STATEMENT_TIMEOUT_MS")
    assert _probe_state(app) == (0, 0)  # neither the probe nor the rule's update was kept
    _set_budget(app)  # the defaults: the same write goes through
    assert ct.post("/api/data/ct/probe", json={"needle": "qqq"}).status_code == 201
    assert _probe_state(app) == (1, 1) and rows >= 8192


@pytest.mark.parametrize("app_config", [{"STATEMENT_TIMEOUT_MS": 1, "WRITE_STATEMENT_TIMEOUT_MS": 1}])
def test_jobs_outside_requests_run_without_the_budget(app):
    from lowcode.commands import install_template
    from tests.conftest import ROOT

    install_template(app, ROOT / "app_templates" / "demo")  # definitions, DDL and demo data: many statements
    db = app.extensions["lowcode"].db
    with db.read() as session:
        # a statement of far more than 1 ms: a recursive count to two million
        count = session.scalar(
            sa.text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) "
                "SELECT count(*) FROM n"
            )
        )
    assert count == 2_000_000
