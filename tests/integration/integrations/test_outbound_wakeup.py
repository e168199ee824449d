"""The loop is woken by a commit with outbox rows, not by its poll: with a poll of 30 s an event still
arrives at once - in process (the outbox's bell) and, on PostgreSQL, from another process (NOTIFY)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from lowcode.integrations.loop import IntegrationLoop
from tests.conftest import ROOT

from .conftest import create, update, webhook

WORKER = """
import threading
from lowcode.app import create_app
from lowcode.integrations.loop import IntegrationLoop
app = create_app({"DATABASE_URL": %r, "SECRET_KEY": "test-secret"})
print("ready", flush=True)
IntegrationLoop(app.extensions["lowcode"]).run_forever(threading.Event())
"""


def _listening(app) -> bool:
    with app.extensions["lowcode"].db.read() as session:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        return session.execute(sa.text(query)).scalar_one() > 0


def _wait_for(check, seconds: float) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "not delivered in time"
        time.sleep(0.005)
    return time.monotonic() - started


@pytest.fixture
def app_config(app_config) -> dict:
    """The integration tests' settings with a poll of 30 s: only a wake-up can deliver in time."""
    return {**app_config, "INTEGRATION_POLL_SECONDS": 30}


def test_a_commit_wakes_the_loop_of_this_process(app, api, install, receivers):
    install([webhook("all_items", receivers["a"].url)])
    stop = threading.Event()
    loop = IntegrationLoop(app.extensions["lowcode"])
    thread = loop.start_thread(stop)
    try:
        time.sleep(0.2)  # the loop is idle, waiting on its 30 s poll
        record = create(api, name="first", qty=1)
        _wait_for(lambda: len(receivers["a"].seen) == 1, 5)
        update(api, record, qty=2)
        _wait_for(lambda: len(receivers["a"].seen) == 2, 5)
        versions = [e["version"] for e in receivers["a"].arrivals]
        assert versions == [1, 2]
    finally:
        stop.set()
        loop.bell.ring()
        thread.join(10)
    assert not thread.is_alive()


def test_a_commit_wakes_a_worker_process_through_postgresql_notify(app, api, install, receivers):
    url = app.extensions["lowcode"].settings["DATABASE_URL"]
    if not url.startswith("postgresql"):
        pytest.skip("cross-process wake-ups are PostgreSQL's NOTIFY; SQLite workers poll")
    install([webhook("all_items", receivers["a"].url)])
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOWCODE_WEBHOOK_ALLOW": "127.0.0.1",
        "LOWCODE_INTEGRATION_POLL_SECONDS": "30",
    }
    worker = subprocess.Popen([sys.executable, "-c", WORKER % url], env=env, stdout=subprocess.PIPE)
    try:
        assert worker.stdout.readline().strip() == b"ready"
        _wait_for(lambda: _listening(app), 10)
        time.sleep(0.3)  # idle on its 30 s poll, listening
        create(api, name="remote", qty=1)
        _wait_for(lambda: len(receivers["a"].seen) == 1, 10)
    finally:
        worker.kill()
        worker.wait()
