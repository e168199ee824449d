"""A permission change racing a write: the write's actor is resolved before its write transaction opens
(``api/edge.py``), so a change committed in between must still stop it. The access version (migration
0010's triggers, ``auth/access_version.py``) moves with every such change and the write resolves again."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from lowcode.auth.access_version import access_version
from lowcode.commands import migrate_database
from lowcode.core.models import ApiToken, RoleAssignment, User, utcnow
from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
SHOP = {
    "app": {"name": "shop", "label": "Shop"},
    "entities": [{"name": "note", "label": "Note", "fields": [{"name": "text", "type": "text"}]}],
    "roles": [
        {
            "name": "writer",
            "label": "Writer",
            "grants": [{"entity": "note", "actions": ["read", "create", "update"]}],
        }
    ],
}


@pytest.fixture
def writer(app, api):
    """A user holding the writer role of ``shop``, signed in with a bearer token."""
    assert api.post("/api/templates/import", json=SHOP).status_code == 201
    user = api.post("/api/admin/users", json={"username": "wes", "password": PASSWORD}).get_json()["id"]
    body = {"user_id": user, "app": "shop", "role": "writer"}
    assert api.post("/api/admin/assignments", json=body).status_code == 201
    client = app.test_client()
    return ApiClient(client, login(client, "wes", PASSWORD)), user


def _between_read_and_write(app, change):
    """Make the next write transaction of the app run ``change`` in a committed transaction of its own
    first: after the request's read step, before its write step (where a racing admin would commit)."""
    db = app.extensions["lowcode"].db
    inner = db.write
    fired = []

    @contextmanager
    def racing():
        if not fired:
            fired.append(True)
            with inner() as other:
                change(other)
        with inner() as session:
            yield session

    db.write = racing
    return fired


def _notes(app) -> int:
    with app.extensions["lowcode"].db.read() as s:
        return s.scalar(sa.text("SELECT count(*) FROM e_shop_note"))


def test_role_revoked_between_read_and_write_refuses_the_write(app, writer):
    api, user = writer

    def revoke(session):
        session.execute(
            sa.update(RoleAssignment).where(RoleAssignment.user_id == user).values(ends_at=utcnow())
        )

    fired = _between_read_and_write(app, revoke)
    response = api.post("/api/data/shop/note", json={"text": "late"})
    assert fired, "the change ran between the two steps"
    assert response.status_code == 403, response.get_json()
    assert _notes(app) == 0


def test_user_deactivated_between_read_and_write_refuses_the_write(app, writer):
    api, user = writer
    fired = _between_read_and_write(
        app, lambda s: s.execute(sa.update(User).where(User.id == user).values(active=False))
    )
    response = api.post("/api/data/shop/note", json={"text": "late"})
    assert fired
    assert response.status_code == 401, response.get_json()
    assert _notes(app) == 0


def test_unrelated_change_between_read_and_write_keeps_the_write(app, writer):
    api, user = writer
    fired = _between_read_and_write(
        app, lambda s: s.execute(sa.update(User).where(User.id == user).values(display_name="Wes"))
    )
    response = api.post("/api/data/shop/note", json={"text": "on time"})
    assert fired
    assert response.status_code == 201, response.get_json()
    assert _notes(app) == 1


def test_access_version_moves_on_access_changes_only(app, writer):
    _api, user = writer
    db = app.extensions["lowcode"].db

    def version_after(change) -> int:
        with db.write() as s:
            change(s)
        with db.read() as s:
            return access_version(s)

    start = version_after(lambda s: None)
    touched = version_after(
        lambda s: s.execute(sa.update(ApiToken).where(ApiToken.user_id == user).values(last_used_at=utcnow()))
    )
    assert touched == start  # a token's last use is not an access change
    assert (
        version_after(
            lambda s: s.execute(
                sa.update(RoleAssignment).where(RoleAssignment.user_id == user).values(last_used_at=utcnow())
            )
        )
        == start
    )
    revoked = version_after(
        lambda s: s.execute(sa.update(ApiToken).where(ApiToken.user_id == user).values(revoked_at=utcnow()))
    )
    assert revoked > start
    moved = version_after(lambda s: s.execute(sa.update(User).where(User.id == user).values(level=3)))
    assert moved > revoked


def test_lowcode_migrate_puts_back_access_triggers_a_table_rebuild_dropped(app, writer):
    """SQLite loses a table's triggers when Alembic's batch mode rebuilds it; ``lowcode migrate`` puts them
    back (PostgreSQL: the same repair), and the access version moves again."""
    _api, user = writer
    db = app.extensions["lowcode"].db
    on_table = " ON lc_user" if db.dialect == "postgresql" else ""
    with db.write() as s:
        s.execute(sa.text(f"DROP TRIGGER lc_user_access_upd{on_table}"))
    with db.read() as s:
        start = access_version(s)
    with db.write() as s:
        s.execute(sa.update(User).where(User.id == user).values(level=4))
    with db.read() as s:
        assert access_version(s) == start  # the hole the repair closes
    assert "put back 1 access triggers" in migrate_database(db.url)
    with db.write() as s:
        s.execute(sa.update(User).where(User.id == user).values(level=5))
    with db.read() as s:
        assert access_version(s) > start
