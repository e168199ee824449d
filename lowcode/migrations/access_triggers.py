"""The access version's triggers (see ``lowcode/auth/access_version.py``): installed by revision 0010 and
checked again at the end of every ``lowcode migrate``.

They bump ``lc_counter`` key ``access`` on every insert/delete and every update of an access column of
users, role assignments, tokens and departments. PostgreSQL: one generic function compares the columns
named in the trigger's arguments as JSON (``to_jsonb(OLD)``), so the triggers depend on no column and a
later revision may alter or drop those columns freely. SQLite: ``AFTER UPDATE OF <columns>`` triggers; a
table rebuild (Alembic's batch mode) drops them with the table, and ``lowcode migrate`` puts back any that
are missing. A later revision that drops one of those columns on SQLite without a rebuild must drop that
table's triggers first (SQLite refuses to drop a column a trigger names).
"""

from __future__ import annotations

import sqlalchemy as sa

COUNTER = "access"

WATCHED: dict[str, tuple[bool, tuple[str, ...]]] = {
    # table -> (an INSERT fires, the columns whose UPDATE fires); a DELETE always fires
    "lc_user": (
        True,
        ("is_admin", "active", "department_id", "manager_id", "job_title", "level", "session_epoch"),
    ),
    "lc_role_assignment": (True, ("user_id", "app", "role", "starts_at", "ends_at")),
    "lc_api_token": (False, ("user_id", "app", "role", "expires_at", "revoked_at")),
    "lc_department": (True, ("parent_id", "path")),
}

_BUMP = (
    f"INSERT INTO lc_counter (key, value) VALUES ('{COUNTER}', 1) "
    "ON CONFLICT (key) DO UPDATE SET value = lc_counter.value + 1"
)
_PG_FUNCTION = f"""CREATE OR REPLACE FUNCTION lc_bump_access() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE col text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    FOREACH col IN ARRAY TG_ARGV LOOP
      IF to_jsonb(OLD) -> col IS DISTINCT FROM to_jsonb(NEW) -> col THEN
        {_BUMP};
        RETURN NULL;
      END IF;
    END LOOP;
    RETURN NULL;
  END IF;
  {_BUMP};
  RETURN NULL;
END $$"""


def trigger_names() -> list[str]:
    """Every trigger this module installs."""
    return [name for table, (on_insert, _c) in WATCHED.items() for name, _e in _events(table, on_insert, ())]


def install(conn: sa.Connection) -> int:
    """Create the missing triggers (and PostgreSQL's function) in the connection's transaction; returns
    how many were created."""
    postgresql = conn.dialect.name == "postgresql"
    present = _present(conn, postgresql)
    missing = [
        (table, name, event, columns)
        for table, (on_insert, columns) in WATCHED.items()
        for name, event in _events(table, on_insert, columns)
        if name not in present
    ]
    if missing and postgresql:
        conn.exec_driver_sql(_PG_FUNCTION)
    for table, name, event, columns in missing:
        if not postgresql:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN {_BUMP}; END"
            )
        elif event.startswith("UPDATE"):
            args = ", ".join(f"'{c}'" for c in columns)
            conn.exec_driver_sql(
                f"CREATE TRIGGER {name} AFTER UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION lc_bump_access({args})"
            )
        else:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION lc_bump_access()"
            )
    return len(missing)


def _events(table: str, on_insert: bool, columns: tuple[str, ...]) -> list[tuple[str, str]]:
    events = [(f"{table}_access_upd", f"UPDATE OF {', '.join(columns)}"), (f"{table}_access_del", "DELETE")]
    return [(f"{table}_access_ins", "INSERT"), *events] if on_insert else events


def _present(conn: sa.Connection, postgresql: bool) -> set[str]:
    if postgresql:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return {row[0] for row in conn.exec_driver_sql(query)}
