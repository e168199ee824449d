"""Composite indexes declared in an entity definition (``indexes``): published both ways by the schema plan,
checked at publish, and used by the list query for filter + sort + page cursor - on SQLite no temporary
B-tree sorts the matches, on PostgreSQL no Sort node (issue 14, item 2)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event

from tests.integration.test_schema_evolution import create, entity, indexes, ops, put_and_publish, setup_shop

STATUS = {"name": "status", "type": "select", "options": {"choices": [{"value": "open"}, {"value": "done"}]}}
DUE = {"name": "due", "type": "date"}
WANTED = "ix_e_shop_item_status_due"


def test_a_declared_index_is_added_and_dropped_by_the_schema_plan(app, api):
    setup_shop(api, STATUS, DUE)
    create(api, status="open", due="2026-01-02")
    published = put_and_publish(api, entity(STATUS, DUE, indexes=[["status", "due"]]))
    assert ("add_index", None) in ops(published["plan"]) and WANTED in indexes(app)
    with app.extensions["lowcode"].db.read() as s:
        (found,) = [
            ix for ix in sa.inspect(s.connection()).get_indexes("e_shop_item") if ix["name"] == WANTED
        ]
    assert found["column_names"] == ["status", "due", "id", "deleted_at"] and not found["unique"]
    published = put_and_publish(api, entity(STATUS, DUE))
    assert ("drop_index", None) in ops(published["plan"]) and WANTED not in indexes(app)


def test_an_index_on_an_unknown_field_is_refused_at_its_path_and_a_stored_formula_may_be_indexed(app, api):
    setup_shop(api, STATUS)
    formula = {"name": "shout", "type": "formula", "options": {"expression": "upper(name)", "result": "text"}}
    body = entity(STATUS, formula, indexes=[["status", "nope"]])
    assert api.put("/api/definitions/shop/entity/item", json=body).status_code == 200
    response = api.post("/api/definitions/shop/entity/item/publish")
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"] == {
        "entity:item/indexes/0": ["'nope' is not a stored field of item"]
    }
    assert WANTED not in indexes(app)
    put_and_publish(api, entity(STATUS, formula, indexes=[["status", "shout"]]))  # formulas are stored
    assert "ix_e_shop_item_status_shout" in indexes(app)
    bad = entity(STATUS, indexes=[["status", "status"]])
    assert api.put("/api/definitions/shop/entity/item", json=bad).status_code == 422  # uniqueItems


def _list_statement(app, api, url, count=False):
    """The SELECT of the page (or of the count) that a list request sends, with its parameters."""
    seen = []
    engine = app.extensions["lowcode"].db.engine

    def capture(conn, cursor, statement, parameters, context, executemany):
        upper = statement.lstrip().upper()
        if upper.startswith("SELECT") and ("COUNT(" in upper if count else "ORDER BY" in upper):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        response = api.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert response.status_code == 200, response.get_json()
    return seen[-1], response.get_json()


def _plan(app, statement, parameters) -> str:
    with app.extensions["lowcode"].db.read() as s:
        raw = s.connection().connection.driver_connection
        if app.extensions["lowcode"].db.engine.dialect.name == "sqlite":
            return " | ".join(row[-1] for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters))
        cursor = raw.cursor()
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, parameters)
        return " | ".join(row[0] for row in cursor.fetchall())


def test_the_list_reads_the_declared_index_in_order_on_both_pages(app, api):
    setup_shop(api, STATUS, DUE)
    put_and_publish(api, entity(STATUS, DUE, indexes=[["status", "due"]]))
    for day in range(1, 8):
        create(api, status="open" if day % 2 else "done", due=f"2026-01-0{day}")
    create(api, status="open")  # no due date: last when sorted descending
    url = '/api/data/shop/item?sort=-due&limit=2&filter={"field":"status","op":"=","value":"open"}'
    (statement, parameters), first = _list_statement(app, api, url)
    assert [r["due"] for r in first["data"]] == ["2026-01-07", "2026-01-05"]
    plan = _plan(app, statement, parameters)
    assert WANTED in plan and "TEMP B-TREE" not in plan and "Sort" not in plan, plan
    (statement, parameters), second = _list_statement(app, api, url + "&after=" + first["next"])
    assert [r["due"] for r in second["data"]] == ["2026-01-03", "2026-01-01"]
    plan = _plan(app, statement, parameters)
    assert WANTED in plan and "TEMP B-TREE" not in plan and "Sort" not in plan, plan
    third = api.get(url + "&after=" + second["next"]).get_json()
    assert [r["due"] for r in third["data"]] == [None] and third["next"] is None
    (statement, parameters), _ = _list_statement(app, api, url, count=True)
    plan = _plan(app, statement, parameters)  # the capped count reads the index alone (live rows only)
    assert WANTED in plan, statement
    if app.extensions["lowcode"].db.engine.dialect.name == "sqlite":
        assert f"COVERING INDEX {WANTED}" in plan, statement
