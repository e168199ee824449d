"""for_each_record ``lock`` and ``expect``; create_record with fixed child rows and ``when`` filters."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_PASSWORD, ApiClient, login
from tests.dbs import backend

BUNDLE = {
    "app": {"name": "books", "label": "Books"},
    "entities": [
        {"name": "counter", "label": "Counter", "fields": [
            {"name": "code", "type": "text", "unique": True},
            {"name": "n", "type": "decimal", "default": "0", "options": {"scale": 0}}]},
        {"name": "bump", "label": "Bump", "fields": [
            {"name": "code", "type": "text"}]},
        {"name": "entry_line", "label": "Entry line", "child": True, "fields": [
            {"name": "account", "type": "text"},
            {"name": "debit", "type": "money"},
            {"name": "credit", "type": "money"}]},
        {"name": "entry", "label": "Entry", "fields": [
            {"name": "memo", "type": "text"},
            {"name": "lines", "type": "child_table", "options": {"entity": "entry_line"}}]},
        {"name": "sale_line", "label": "Sale line", "child": True, "fields": [
            {"name": "item", "type": "text"},
            {"name": "amount", "type": "money"}]},
        {"name": "sale", "label": "Sale", "fields": [
            {"name": "total", "type": "rollup", "options": {"child": "lines", "field": "amount", "function": "sum"}},
            {"name": "lines", "type": "child_table", "options": {"entity": "sale_line"}}]},
    ],
    "rules": [
        # read-modify-write in memory from a locked row: exact only because the row is locked
        {"name": "count_bump", "entity": "bump", "trigger": {"events": ["create"], "phase": "after"},
         "actions": [{"type": "for_each_record", "entity": "counter", "lock": True, "as": "c", "expect": "one",
                      "missing_message": "No counter {code}",
                      "where": {"field": "code", "op": "=", "value": "$record.code"},
                      "actions": [{"type": "update_records", "entity": "counter",
                                   "where": {"field": "id", "op": "=", "value": "$c.id"}, "set": {"n": "c.n + 1"}}]}]},
        {"name": "book_sale", "entity": "sale", "trigger": {"events": ["create"], "phase": "after"},
         "actions": [{"type": "create_record", "entity": "entry", "values": {"memo": "'sale'"},
                      "children": {"lines": [
                          {"values": {"account": "'receivable'", "debit": "total", "credit": "0"}},
                          {"from": "lines", "as": "l", "when": "l.amount != 0",
                           "values": {"account": "concat('revenue:', l.item)", "debit": "0", "credit": "l.amount"}},
                          {"when": "total > 100", "values": {"account": "'big sale'", "debit": "0", "credit": "0"}}]},
                      "as": "e"},
                     {"type": "create_record", "entity": "entry", "values": {"memo": "concat('after ', e.id)"}}]},
    ],
}  # fmt: skip


@pytest.fixture
def books(api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    return api


def test_fixed_rows_and_filtered_rows_from_a_child_list(books):
    lines = [{"item": "a", "amount": "30"}, {"item": "b", "amount": "0"}, {"item": "c", "amount": "20"}]
    assert books.post("/api/data/books/sale", json={"lines": lines}).status_code == 201
    entry, after = books.get("/api/data/books/entry?sort=id").get_json()["data"]
    assert after["memo"] == f"after {entry['id']}"  # the created record, named by "as"
    rows = books.get(f"/api/data/books/entry/{entry['id']}").get_json()["lines"]
    assert [(r["account"], r["debit"], r["credit"]) for r in rows] == [
        ("receivable", "50.00", "0.00"),
        ("revenue:a", "0.00", "30.00"),
        ("revenue:c", "0.00", "20.00"),
    ]
    books.post("/api/data/books/sale", json={"lines": [{"item": "x", "amount": "150"}]})
    newest = books.get("/api/data/books/entry?sort=-id").get_json()["data"][1]
    rows = books.get(f"/api/data/books/entry/{newest['id']}").get_json()["lines"]
    assert [r["account"] for r in rows] == ["receivable", "revenue:x", "big sale"]


def test_the_object_form_of_children_still_works(api):
    bundle = {**BUNDLE, "app": {"name": "books2", "label": "B"}, "rules": [
        {"name": "book_sale", "entity": "sale", "trigger": {"events": ["create"], "phase": "after"},
         "actions": [{"type": "create_record", "entity": "entry", "values": {"memo": "'x'"},
                      "children": {"lines": {"from": "lines", "values": {"account": "line.item", "credit": "line.amount"}}}}]}]}  # fmt: skip
    assert api.post("/api/templates/import", json=bundle).status_code == 201
    api.post(
        "/api/data/books2/sale", json={"lines": [{"item": "a", "amount": "1"}, {"item": "b", "amount": "2"}]}
    )
    entry = api.get("/api/data/books2/entry").get_json()["data"][0]
    assert [r["account"] for r in api.get(f"/api/data/books2/entry/{entry['id']}").get_json()["lines"]] == [
        "a",
        "b",
    ]


def test_expect_one_refuses_with_the_missing_message(books):
    response = books.post("/api/data/books/bump", json={"code": "nope"})
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "No counter nope"
    assert books.get("/api/data/books/bump").get_json()["total"] == 0


def test_bad_child_row_specs_are_refused_at_publish(api):
    bad = {**BUNDLE, "app": {"name": "books3", "label": "B"}, "rules": [
        {"name": "r", "entity": "sale", "trigger": {"events": ["create"]},
         "actions": [{"type": "create_record", "entity": "entry", "values": {},
                      "children": {"lines": [{"from": "lines"}, {"nope": 1}]}}]}]}  # fmt: skip
    response = api.post("/api/templates/import", json=bad)
    assert response.status_code == 422


def test_lock_makes_in_memory_increments_exact_under_concurrency(app, books):
    books.post("/api/data/books/counter", json={"code": "c1"})
    statements: list[str] = []
    engine = app.extensions["lowcode"].db.engine
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    workers, errors = 8, []
    barrier = threading.Barrier(workers)

    def bump():
        try:
            client = app.test_client()
            user = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
            barrier.wait(timeout=30)
            for _ in range(3):
                assert user.post("/api/data/books/bump", json={"code": "c1"}).status_code == 201
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    counter = books.get("/api/data/books/counter").get_json()["data"][0]
    assert counter["n"] == str(workers * 3)
    locked = [s for s in statements if s.lstrip().startswith("SELECT") and "e_books_counter.code =" in s]
    assert locked and all(("FOR UPDATE" in s) == (backend() == "postgresql") for s in locked)
