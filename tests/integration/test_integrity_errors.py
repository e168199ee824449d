"""Integrity errors are never 500 (issue 8, item 4): every constraint the database enforces - unique (a
stale index, child rows, unique together, the race past the unique check), NOT NULL, foreign key, CHECK,
at the statement and at commit - answers a 4xx in the one error shape naming the field, and writes nothing.

Constraints the definition does not declare are added with SQL, the way an older definition or an operator
leaves them behind; SQLite cannot add constraints to a table, so there the column is swapped for one that
carries the constraint (same name, the old one renamed away).
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from lowcode.core.models import AuditEntry, OutboxEvent
from tests.conftest import ADMIN_PASSWORD, ApiClient, login
from tests.dbs import backend

BUNDLE = {
    "app": {"name": "ig", "label": "Integrity"},
    "entities": [
        {"name": "item", "label": "Item", "fields": [
            {"name": "code", "type": "text"},
            {"name": "note", "type": "text"},
            {"name": "qty", "type": "integer"},
            {"name": "ref", "type": "integer"}]},
        {"name": "tag", "label": "Tag", "fields": [{"name": "code", "type": "text", "unique": True}]},
        {"name": "pair", "label": "Pair", "unique_together": [["left_key", "right_key"]], "fields": [
            {"name": "left_key", "type": "text"}, {"name": "right_key", "type": "text"}]},
        {"name": "line", "label": "Line", "child": True, "fields": [
            {"name": "sku", "type": "text", "unique": True}, {"name": "qty", "type": "integer"}]},
        {"name": "doc", "label": "Doc", "fields": [
            {"name": "title", "type": "text"},
            {"name": "lines", "type": "child_table", "options": {"entity": "line"}}]},
    ],
    "rules": [
        {"name": "spawn_item", "entity": "doc", "trigger": {"events": ["create"], "phase": "after"},
         "actions": [{"type": "create_record", "entity": "item", "when": "title = 'spawn'",
                      "values": {"code": "'R-1'"}}]},
        {"name": "bump_item", "entity": "doc", "trigger": {"events": ["create"], "phase": "after"},
         "actions": [{"type": "update_records", "entity": "item", "when": "title = 'bump'",
                      "where": {"field": "code", "op": "=", "value": "B-1"}, "set": {"qty": "qty + 5"}}]},
    ],
}  # fmt: skip
ITEMS = "/api/data/ig/item"
UNIQUE = "Must be unique: another record already has this value."


@pytest.fixture
def ig(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    return api


def _sql(app, *statements: str) -> None:
    with app.extensions["lowcode"].db.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def _swap_column(app, table: str, column: str, sqlite_definition: str, postgresql: str) -> None:
    """Give ``column`` a constraint the definition does not know of, on either database."""
    if backend() == "postgresql":
        _sql(app, postgresql)
    else:
        _sql(app, f"ALTER TABLE {table} RENAME COLUMN {column} TO {column}_old",
             f"ALTER TABLE {table} ADD COLUMN {column} {sqlite_definition}")  # fmt: skip


def _written(app) -> dict[str, int]:
    """Row counts of every table a write touches (records, child rows, audit, outbox)."""
    with app.extensions["lowcode"].db.read() as s:
        counts = {t: s.execute(sa.text(f"SELECT count(*) FROM e_ig_{t}")).scalar() for t in
                  ("item", "tag", "pair", "line", "doc")}  # fmt: skip
        counts["audit"] = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        counts["outbox"] = s.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))
        return counts


def _refused(response, fields: dict[str, list[str]], constraint: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["fields"] == fields
    assert error["constraint"] == constraint


def test_a_stale_unique_index_is_a_422_naming_the_field_on_create_and_update(app, ig):
    _sql(app, "CREATE UNIQUE INDEX ux_e_ig_item_code ON e_ig_item (code)")  # 'unique' removed, index left
    assert ig.post(ITEMS, json={"code": "A-1", "note": "secret"}).status_code == 201
    before = _written(app)
    response = ig.post(ITEMS, json={"code": "A-1"})
    _refused(response, {"code": [UNIQUE]}, "unique")
    assert "secret" not in response.get_data(as_text=True)
    assert _written(app) == before
    other = ig.post(ITEMS, json={"code": "B-1"}).get_json()
    before = _written(app)
    response = ig.patch(f"{ITEMS}/{other['id']}", json={"code": "A-1", "version": 1})
    _refused(response, {"code": [UNIQUE]}, "unique")
    assert _written(app) == before
    assert ig.get(f"{ITEMS}/{other['id']}").get_json()["code"] == "B-1"


def test_a_dry_run_reports_the_constraint_and_carries_on(app, ig):
    """The dry run writes in a savepoint: after the refused statement it still answers (on PostgreSQL the
    savepoint's rollback is what makes the transaction usable again)."""
    _sql(app, "CREATE UNIQUE INDEX ux_e_ig_item_code ON e_ig_item (code)")
    assert ig.post(ITEMS, json={"code": "A-1"}).status_code == 201
    before = _written(app)
    response = ig.post("/api/rules/ig/dry-run", json={"entity": "item", "changes": {"code": "A-1"}})
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert (result["outcome"], result["fields"]) == ("invalid", {"code": [UNIQUE]})
    assert _written(app) == before


def test_a_rule_write_refused_by_a_constraint_refuses_the_trigger_and_is_logged(app, ig):
    _sql(app, "CREATE UNIQUE INDEX ux_e_ig_item_code ON e_ig_item (code)")
    assert ig.post(ITEMS, json={"code": "R-1"}).status_code == 201
    before = _written(app)
    response = ig.post("/api/data/ig/doc", json={"title": "spawn"})
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["code"], error["rule"], error["fields"]) == ("refused", "spawn_item", {"code": [UNIQUE]})
    assert error["message"] == "Rule 'spawn_item': Some fields are not valid"
    assert _written(app) == before
    # the run-log entry is written after the rollback (the failed transaction is never used again)
    runs = ig.get("/api/rules/ig/runs?rule=spawn_item").get_json()["data"]
    assert [(r["outcome"], r["message"]) for r in runs] == [("refused", error["message"])]


def test_a_stale_unique_together_index_names_its_fields(app, ig):
    _sql(app, "CREATE UNIQUE INDEX ux_e_ig_item_code_note ON e_ig_item (code, note)")
    assert ig.post(ITEMS, json={"code": "A", "note": "x"}).status_code == 201
    before = _written(app)
    response = ig.post(ITEMS, json={"code": "A", "note": "x"})
    together = "Must be unique together with note: another record has these values."
    _refused(response, {"code": [together]}, "unique")
    assert _written(app) == before


def test_unique_together_changed_by_one_field_is_a_422(app, ig):
    """The check before the write looks at the changed fields only, so changing one field of a unique
    pair into a taken combination reaches the database's index."""
    assert ig.post("/api/data/ig/pair", json={"left_key": "a", "right_key": "b"}).status_code == 201
    other = ig.post("/api/data/ig/pair", json={"left_key": "a", "right_key": "c"}).get_json()
    before = _written(app)
    response = ig.patch(f"/api/data/ig/pair/{other['id']}", json={"right_key": "b", "version": 1})
    together = "Must be unique together with right_key: another record has these values."
    _refused(response, {"left_key": [together]}, "unique")
    assert _written(app) == before


def test_unique_child_rows_name_the_row_and_write_nothing(app, ig):
    first = ig.post("/api/data/ig/doc", json={"title": "one", "lines": [{"sku": "S-1", "qty": 1}]})
    assert first.status_code == 201
    before = _written(app)
    # a value another document's row holds
    response = ig.post("/api/data/ig/doc", json={"title": "two", "lines": [{"sku": "S-2"}, {"sku": "S-1"}]})
    _refused(response, {"lines.1.sku": [UNIQUE]}, "unique")
    # the same value twice in one document
    response = ig.post("/api/data/ig/doc", json={"title": "three", "lines": [{"sku": "S-3"}, {"sku": "S-3"}]})
    _refused(response, {"lines.1.sku": [UNIQUE]}, "unique")
    # an update that adds such a row
    doc = first.get_json()
    lines = [{"id": doc["lines"][0]["id"], "sku": "S-1"}, {"sku": "S-1"}]
    response = ig.patch(f"/api/data/ig/doc/{doc['id']}", json={"lines": lines, "version": 1})
    _refused(response, {"lines.1.sku": [UNIQUE]}, "unique")
    assert _written(app) == before


def test_a_not_null_column_the_definition_does_not_know_is_a_422(app, ig):
    _swap_column(app, "e_ig_item", "note", "TEXT NOT NULL DEFAULT ''",
                 "ALTER TABLE e_ig_item ALTER COLUMN note SET NOT NULL")  # fmt: skip
    before = _written(app)
    _refused(ig.post(ITEMS, json={"code": "N-1"}), {"note": ["A value is required."]}, "not_null")
    assert _written(app) == before
    created = ig.post(ITEMS, json={"code": "N-1", "note": "given"})
    assert created.status_code == 201
    response = ig.patch(f"{ITEMS}/{created.get_json()['id']}", json={"note": None, "version": 1})
    _refused(response, {"note": ["A value is required."]}, "not_null")


def test_a_foreign_key_is_a_422_naming_the_field(app, ig):
    _swap_column(app, "e_ig_item", "ref", "INTEGER REFERENCES e_ig_doc (id)",
                 "ALTER TABLE e_ig_item ADD FOREIGN KEY (ref) REFERENCES e_ig_doc (id)")  # fmt: skip
    doc = ig.post("/api/data/ig/doc", json={"title": "target"}).get_json()
    assert ig.post(ITEMS, json={"code": "F-1", "ref": doc["id"]}).status_code == 201
    before = _written(app)
    response = ig.post(ITEMS, json={"code": "F-2", "ref": 424242})
    _refused(response, {"ref": ["Refers to a record that does not exist."]}, "foreign_key")
    assert _written(app) == before


@pytest.mark.parametrize(
    ("sqlite_check", "postgresql_check", "shown_as"),
    [
        ("CONSTRAINT ck_e_ig_item_qty CHECK (qty >= 0)", "CONSTRAINT ck_e_ig_item_qty CHECK (qty >= 0)",
         {"sqlite": "ck_e_ig_item_qty", "postgresql": "ck_e_ig_item_qty"}),
        ("CHECK (qty >= 0)", "CHECK (qty >= 0)",  # unnamed: SQLite reports the expression, PostgreSQL a name
         {"sqlite": "qty >= 0", "postgresql": "e_ig_item_qty_check"}),
    ],
)  # fmt: skip
def test_a_check_constraint_is_a_422_naming_the_field(app, ig, sqlite_check, postgresql_check, shown_as):
    _swap_column(app, "e_ig_item", "qty", f"INTEGER {sqlite_check}",
                 f"ALTER TABLE e_ig_item ADD {postgresql_check}")  # fmt: skip
    before = _written(app)
    response = ig.post(ITEMS, json={"code": "C-1", "qty": -1})
    _refused(response, {"qty": [f"Not allowed by the database check {shown_as[backend()]}."]}, "check")
    assert _written(app) == before
    assert ig.post(ITEMS, json={"code": "C-1", "qty": 1}).status_code == 201


def test_a_deferred_foreign_key_fails_at_commit_without_a_500(app, ig):
    _swap_column(app, "e_ig_item", "ref", "INTEGER REFERENCES e_ig_doc (id) DEFERRABLE INITIALLY DEFERRED",
                 "ALTER TABLE e_ig_item ADD FOREIGN KEY (ref) REFERENCES e_ig_doc (id) "
                 "DEFERRABLE INITIALLY DEFERRED")  # fmt: skip
    before = _written(app)
    response = ig.post(ITEMS, json={"code": "D-1", "ref": 424242})
    error = response.get_json()["error"]
    if backend() == "postgresql":  # PostgreSQL names the table and the key at commit too
        _refused(response, {"ref": ["Refers to a record that does not exist."]}, "foreign_key")
    else:  # SQLite's commit names no table or column: the last resort, still not a 500
        assert response.status_code == 409, error
        assert error["code"] == "integrity_error" and error["constraint"] == "foreign_key"
        assert error["message"] == "The database refused the change (a foreign key); nothing was written."
    assert _written(app) == before


def test_the_last_resort_for_a_system_table_is_a_409_without_the_values(app):
    """An integrity error no entity owns (here: a user name taken, written without the usual check)."""
    from lowcode.api.edge import unit_of_work
    from lowcode.core.models import User

    def clash():
        with unit_of_work(write=True) as ctx:
            ctx.session.execute(sa.insert(User).values(username="admin", password_hash="x"))
        return {}

    app.add_url_rule("/api/test-only/clash", "clash", clash, methods=["POST"])
    client = app.test_client()
    api = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
    response = api.post("/api/test-only/clash")
    assert response.status_code == 409, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error == {
        "code": "integrity_error",
        "constraint": "unique",
        "fields": {},
        "message": "The database refused the change (a unique constraint); nothing was written.",
    }


@pytest.mark.skipif(backend() != "postgresql", reason="SQLite writers queue on BEGIN IMMEDIATE: no race")
def test_two_writers_past_the_unique_check_give_one_201_and_one_422(app, ig):
    """Writer A inserts and holds its transaction open; writer B passes the SELECT check meanwhile (A's row
    is not committed), then its INSERT waits on the unique index until A commits - and fails."""
    engine = app.extensions["lowcode"].db.engine
    a_inserted, b_inserting = threading.Event(), threading.Event()
    insert = "INSERT INTO e_ig_tag "

    def before_execute(conn, cursor, statement, *args):
        if statement.startswith(insert) and threading.current_thread().name == "writer-b":
            b_inserting.set()  # B got past validation; its INSERT now waits on A's uncommitted row

    def after_execute(conn, cursor, statement, *args):
        if statement.startswith(insert) and threading.current_thread().name == "writer-a":
            a_inserted.set()
            b_inserting.wait(timeout=60)  # hold A's transaction open until B is past its check

    clients = {}
    for name in ("writer-a", "writer-b"):
        client = app.test_client()
        clients[name] = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
    responses = {}

    def write(name):
        responses[name] = clients[name].post("/api/data/ig/tag", json={"code": "RACE"})

    sa.event.listen(engine, "before_cursor_execute", before_execute)
    sa.event.listen(engine, "after_cursor_execute", after_execute)
    try:
        a = threading.Thread(target=write, args=("writer-a",), name="writer-a")
        b = threading.Thread(target=write, args=("writer-b",), name="writer-b")
        a.start()
        assert a_inserted.wait(timeout=60)
        b.start()
        a.join(timeout=120)
        b.join(timeout=120)
    finally:
        sa.event.remove(engine, "before_cursor_execute", before_execute)
        sa.event.remove(engine, "after_cursor_execute", after_execute)
    assert b_inserting.is_set()  # B really passed the unique check before A committed
    assert responses["writer-a"].status_code == 201
    _refused(responses["writer-b"], {"code": [UNIQUE]}, "unique")
    stored = ig.get("/api/data/ig/tag").get_json()
    assert [r["code"] for r in stored["data"]] == ["RACE"]


def test_a_guarded_update_refused_by_a_check_constraint_is_a_422_naming_the_field(app, ig):
    _swap_column(app, "e_ig_item", "qty", "INTEGER CONSTRAINT ck_e_ig_item_qty CHECK (qty <= 10)",
                 "ALTER TABLE e_ig_item ADD CONSTRAINT ck_e_ig_item_qty CHECK (qty <= 10)")  # fmt: skip
    assert ig.post(ITEMS, json={"code": "B-1", "qty": 8}).status_code == 201
    before = _written(app)
    response = ig.post("/api/data/ig/doc", json={"title": "bump"})
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["code"], error["rule"], list(error["fields"])) == ("refused", "bump_item", ["qty"])
    assert _written(app) == before
