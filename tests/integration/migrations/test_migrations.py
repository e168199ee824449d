"""The system-table migrations: they agree with models.py, run once, survive concurrent first starts, refuse
what they do not know, and carry an existing database (and its rows) through a new revision."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from lowcode.app import create_app
from lowcode.core.db import Database
from lowcode.migrations import PRE_MIGRATION_REVISIONS, VERSION_TABLE, Migrations, SchemaOutOfDate, migrate
from lowcode.migrations.runner import FOLDER
from tests.dbs import backend, empty_database, fresh_database, migrate_url
from tests.integration.migrations.helpers import row_counts, schema_differences

HEAD = Migrations().head()
NEXT = "test_next"
NEXT_REVISION = f'''"""A later revision as a developer would write it: a new column, a longer one, a new table."""

import sqlalchemy as sa
from alembic import op

revision = "{NEXT}"
down_revision = "{HEAD}"


def upgrade() -> None:
    # On SQLite the longer column means rebuilding lc_user (copy, drop, rename): rows that reference it must
    # survive the drop.
    with op.batch_alter_table("lc_user") as batch:
        batch.add_column(sa.Column("nickname", sa.String(80), nullable=False, server_default=""))
        batch.alter_column("job_title", type_=sa.String(400), existing_nullable=False)
    op.create_table(
        "lc_example",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("lc_user.id", ondelete="CASCADE"), nullable=False),
    )
'''
SYSTEM_TABLES = ("lc_user", "lc_api_token", "lc_role_assignment", "lc_security_event", "lc_counter")


def _with_next_revision(tmp_path: Path) -> Path:
    """A copy of the package's revisions plus NEXT_REVISION."""
    folder = tmp_path / "migrations"
    shutil.copytree(FOLDER / "versions", folder / "versions", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "versions" / "9999_test_next.py").write_text(NEXT_REVISION, encoding="utf-8")
    return folder


def _execute(url: str, *statements: str) -> None:
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        db.dispose()


def _revision(url: str) -> str | None:
    db = Database(url)
    try:
        return Migrations().state(db).current
    finally:
        db.dispose()


def test_models_and_migrations_agree(tmp_path):
    """A change to lowcode/core/models.py without a revision (or the other way round) fails here."""
    with empty_database(tmp_path) as url:
        migrate_url(url)
        differences = schema_differences(url)
    assert differences == [], (
        "models.py and the migrations differ: add a revision with `python scripts/new_migration.py "
        "'what changed'` (docs/ARCHITECTURE.md, 'Changing a system table')",
        differences,
    )


def test_migrate_runs_once_and_then_has_nothing_to_do(tmp_path):
    with empty_database(tmp_path) as url:
        db = Database(url)
        try:
            assert Migrations().state(db).problem() == (
                "the database schema has no system tables yet: run `lowcode migrate`"
            )
            assert migrate(db) == f"migrated the database from empty to revision {HEAD}"
            assert migrate(db) == f"the database is up to date (revision {HEAD})"
            assert Migrations().state(db).problem() is None
            with db.engine.connect() as conn:
                assert conn.scalar(sa.text(f"SELECT count(*) FROM {VERSION_TABLE}")) == 1
        finally:
            db.dispose()


def _start(url: str, barrier, results) -> None:
    """One process's first start: migrate as soon as the other process is ready too."""
    db = Database(url)
    try:
        barrier.wait(timeout=60)
        results.put(("ok", migrate(db)))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(("error", repr(exc)))
    finally:
        db.dispose()


def test_two_first_starts_at_once_both_succeed(tmp_path):
    """Two processes migrating an empty database at the same moment: one migrates, the other waits for its
    lock and finds nothing to do (without the lock both create the same tables and one fails)."""
    fork = multiprocessing.get_context("fork")  # processes, not threads: Alembic's ``op`` is process-global
    with empty_database(tmp_path) as url:
        barrier, results = fork.Barrier(2), fork.Queue()
        starts = [fork.Process(target=_start, args=(url, barrier, results)) for _ in range(2)]
        for process in starts:
            process.start()
        outcomes = sorted(results.get(timeout=120) for _ in starts)
        for process in starts:
            process.join(timeout=30)
        assert outcomes == [
            ("ok", f"migrated the database from empty to revision {HEAD}"),
            ("ok", f"the database is up to date (revision {HEAD})"),
        ]
        assert schema_differences(url) == []
        assert _revision(url) == HEAD


def test_a_revision_this_code_does_not_know_is_refused_and_left_alone(tmp_path):
    with fresh_database(tmp_path) as url:
        _execute(url, f"UPDATE {VERSION_TABLE} SET version_num = 'zz_newer'")
        with pytest.raises(
            SchemaOutOfDate, match="revision zz_newer, which this version of lowcode does not"
        ):
            create_app({"DATABASE_URL": url, "SECRET_KEY": "x"})
        with pytest.raises(SchemaOutOfDate, match="does not know"):
            migrate_url(url)
        assert _revision(url) == "zz_newer"


def test_a_new_revision_upgrades_a_database_in_use_and_keeps_its_rows(app, api, tmp_path):
    migrations = Migrations(_with_next_revision(tmp_path))
    db = app.extensions["lowcode"].db
    url = app.extensions["lowcode"].settings["DATABASE_URL"]
    assert (
        api.post("/api/admin/users", json={"username": "olga", "password": "o-secret-pass-1"}).status_code
        == 201
    )
    before = row_counts(url, SYSTEM_TABLES)
    assert before["lc_api_token"] >= 1 and before["lc_user"] == 2

    assert migrations.state(db).problem() == (
        f"the database schema is at revision {HEAD}, this version of lowcode needs {NEXT}: run `lowcode migrate`"
    )
    assert migrations.upgrade(db) == f"migrated the database from {HEAD} to revision {NEXT}"
    assert migrations.upgrade(db) == f"the database is up to date (revision {NEXT})"

    assert row_counts(url, SYSTEM_TABLES) == before  # the rebuilt lc_user took no token or assignment with it
    with db.engine.connect() as conn:
        columns = {c["name"]: c for c in sa.inspect(conn).get_columns("lc_user")}
        assert "nickname" in columns and columns["job_title"]["type"].length == 400
        assert {c["name"] for c in sa.inspect(conn).get_columns("lc_example")} == {"id", "user_id"}
        assert conn.exec_driver_sql("SELECT username, nickname FROM lc_user ORDER BY id").all() == [
            ("admin", ""),
            ("olga", ""),
        ]
        if backend() == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # enforced again after the run
    assert api.get("/api/auth/me").get_json()["username"] == "admin"  # the token issued before still works
    assert (
        api.post("/api/admin/users", json={"username": "ivan", "password": "i-secret-pass-1"}).status_code
        == 201
    )


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite runs migrations with foreign keys off")
def test_a_revision_that_leaves_rows_without_their_parent_is_rolled_back(app, api, tmp_path):
    folder = _with_next_revision(tmp_path)
    (folder / "versions" / "9999_test_next.py").write_text(
        f'from alembic import op\n\nrevision = "{NEXT}"\ndown_revision = "{HEAD}"\n\n\n'
        "def upgrade() -> None:\n    op.execute(\"DELETE FROM lc_user WHERE username = 'admin'\")\n",
        encoding="utf-8",
    )
    url = app.extensions["lowcode"].settings["DATABASE_URL"]
    before = row_counts(url, SYSTEM_TABLES)
    with pytest.raises(SchemaOutOfDate, match="would break foreign keys"):
        Migrations(folder).upgrade(app.extensions["lowcode"].db)
    assert row_counts(url, SYSTEM_TABLES) == before and _revision(url) == HEAD


@pytest.mark.parametrize("made_with_next", [False, True], ids=["before-next", "with-next"])
def test_tables_made_before_migrations_are_recorded_as_the_newest_revision_they_hold(
    tmp_path, made_with_next
):
    """Tables that ``create_all`` of an older version made are recorded as the newest pre-migration revision
    they hold (as lc_trashed_column was made by create_all before its revision existed), then upgraded."""
    migrations = Migrations(_with_next_revision(tmp_path), pre_migration=(*PRE_MIGRATION_REVISIONS, NEXT))
    with empty_database(tmp_path) as url:
        db = Database(url)
        try:
            with db.engine.begin() as conn:
                migrations.apply(conn, NEXT if made_with_next else PRE_MIGRATION_REVISIONS[-1])
                conn.exec_driver_sql(f"DROP TABLE {VERSION_TABLE}")
            assert migrations.state(db).problem() == (
                "the database schema was created before migrations existed: run `lowcode migrate`"
            )
            summary = migrations.upgrade(db)
            assert migrations.state(db).current == NEXT
        finally:
            db.dispose()
    if made_with_next:
        assert summary == f"recorded the system tables made before migrations as revision {NEXT}"
    else:
        assert summary.startswith("recorded the system tables made before migrations as revision ")
        assert summary.endswith(
            f"; migrated the database from {PRE_MIGRATION_REVISIONS[-1]} to revision {NEXT}"
        )


def test_tables_made_by_an_older_create_all_that_lack_baseline_tables_are_refused(tmp_path):
    with fresh_database(tmp_path) as url:
        _execute(url, f"DROP TABLE {VERSION_TABLE}", "DROP TABLE lc_rule_run")
        with pytest.raises(
            SchemaOutOfDate, match="created before migrations by an older version and lacks lc_rule_run"
        ):
            migrate_url(url)
        assert _revision(url) is None
        db = Database(url)
        try:
            with db.engine.connect() as conn:
                assert not sa.inspect(conn).has_table(VERSION_TABLE)
        finally:
            db.dispose()
