"""access version: triggers bump lc_counter 'access' on every change that can change a request's actor

A write request resolves its actor (token, user, roles, ``$user`` facts) in a read transaction before its
write transaction opens, and re-reads this one counter inside the write (``lowcode/auth/access_version.py``).
The triggers catch every writer - the admin services, the worker, other processes, plain SQL - so no code
path can forget to bump it. Columns that say nothing about access (``last_used_at``, display names,
passwords, languages, notes) do not fire them.
"""

from alembic import op

revision = "0008"
down_revision = "0007"

COUNTER = "access"

# table -> (what fires: INSERT / DELETE / the UPDATE OF columns)
WATCHED: dict[str, tuple[bool, tuple[str, ...]]] = {
    # (fires on INSERT, columns whose UPDATE fires); DELETE always fires
    "lc_user": (
        True,
        ("is_admin", "active", "department_id", "manager_id", "job_title", "level", "session_epoch"),
    ),
    "lc_role_assignment": (True, ("user_id", "app", "role", "starts_at", "ends_at")),
    "lc_api_token": (False, ("user_id", "app", "role", "expires_at", "revoked_at")),
    "lc_department": (True, ("parent_id", "path")),
}


def _events(on_insert: bool, columns: tuple[str, ...]) -> list[tuple[str, str]]:
    events = [("upd", f"UPDATE OF {', '.join(columns)}"), ("del", "DELETE")]
    return [("ins", "INSERT"), *events] if on_insert else events


def upgrade() -> None:
    bind = op.get_bind()
    bump = (
        f"INSERT INTO lc_counter (key, value) VALUES ('{COUNTER}', 1) "
        "ON CONFLICT (key) DO UPDATE SET value = lc_counter.value + 1"
    )
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION lc_bump_access() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {bump}; RETURN NULL; END $$"
        )
    for table, (on_insert, columns) in WATCHED.items():
        for suffix, event in _events(on_insert, columns):
            name = f"{table}_access_{suffix}"
            if bind.dialect.name == "postgresql":
                op.execute(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION lc_bump_access()"
                )
            else:
                op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN {bump}; END")


def downgrade() -> None:
    bind = op.get_bind()
    for table, (on_insert, columns) in WATCHED.items():
        for suffix, _event in _events(on_insert, columns):
            name = f"{table}_access_{suffix}"
            op.execute(
                f"DROP TRIGGER IF EXISTS {name}"
                + (f" ON {table}" if bind.dialect.name == "postgresql" else "")
            )
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS lc_bump_access()")
