"""The compiled-definition cache moves forward only: a slow request whose transaction still sees an older
definitions version builds that version for itself, but never puts it back over the newer cached one; and a
version a transaction published but has not committed is never cached."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session

from lowcode.definitions import store
from tests.dbs import backend

BUNDLE = {
    "app": {"name": "snap", "label": "Snap"},
    "entities": [{"name": "item", "label": "Item", "fields": [{"name": "title", "type": "text"}]}],
}
WAIT = 30


@pytest.fixture
def snap_api(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    return api


def _publish_a_new_field(api) -> None:
    entity = {
        **BUNDLE["entities"][0],
        "fields": [*BUNDLE["entities"][0]["fields"], {"name": "size", "type": "text"}],
    }
    assert api.put("/api/definitions/snap/entity/item", json=entity).status_code in (200, 201)
    assert api.post("/api/definitions/snap/entity/item/publish").status_code == 200


def _pinned_session(engine) -> Session:
    """A session whose reads all see the database as of its first statement (a slow request that began
    before a publish): SQLite's read transactions do that; PostgreSQL needs REPEATABLE READ."""
    conn = engine.connect()
    if backend() == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return Session(bind=conn)


def test_a_slow_builder_of_an_older_version_does_not_replace_the_newer_cached_snapshot(app, snap_api):
    svc = app.extensions["lowcode"]
    cache = svc.snapshots
    began, published = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def slow_request():
        session = _pinned_session(svc.db.engine)
        try:
            seen["started_at"] = store.read_counter(
                session, store.DEFINITIONS_COUNTER
            )  # the transaction begins
            began.set()
            assert published.wait(WAIT)  # ... and is slow: meanwhile another request publishes
            seen["snapshot"] = cache.get(session)
        finally:
            session.close()
            session.get_bind().close()

    slow = threading.Thread(target=slow_request)
    slow.start()
    assert began.wait(WAIT)
    _publish_a_new_field(snap_api)
    assert snap_api.get("/api/data/snap/item").status_code == 200  # a request caches the new version
    with svc.db.read() as session:
        newest = cache.get(session)
    assert "size" in newest.entity("snap", "item").fields
    published.set()
    slow.join()

    old = seen["snapshot"]
    assert old.version == seen["started_at"] < newest.version  # the slow request used its own version
    assert "size" not in old.entity("snap", "item").fields
    with svc.db.read() as session:
        assert cache.get(session) is newest  # still cached: not replaced by the older one, not rebuilt


def test_a_version_published_but_not_committed_is_not_cached(app, snap_api):
    svc = app.extensions["lowcode"]
    cache = svc.snapshots
    with svc.db.read() as session:
        before = cache.get(session)
    with pytest.raises(RuntimeError), svc.db.write() as session:
        assert cache.get(session) is before
        store.bump_counter(session, store.DEFINITIONS_COUNTER)
        assert cache.get(session).version == before.version + 1  # this transaction sees its own publish
        raise RuntimeError("the publishing transaction rolls back")
    with svc.db.read() as session:
        assert cache.get(session) is before
