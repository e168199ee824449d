"""Twenty costly filters at once never starve another user's cheap list: it answers, every time, while they are
still running (not after them), and every costly one ends as a 200, a 422 ``query_too_costly`` or a 503
``server_busy``. How fast the cheap list answers is measured by ``bench/bench_costs.py``, not asserted here:
on a loaded machine any time limit is a coin toss."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest

from tests.conftest import ApiClient, login
from tests.integration.costs_data import BUNDLE, costly_filter, fill_memos

PASSWORD = "reader-pass-2026"
COSTLY = 20


@pytest.fixture
def app_config():
    # the filter passes the size limits here, so that it really runs into the statement budget
    return {"FILTER_MAX_TEXT_TERMS": 0, "FILTER_MAX_TERMS": 0, "STATEMENT_TIMEOUT_MS": 1000}


def _reader(app, api) -> ApiClient:
    user = api.post("/api/admin/users", json={"username": "rita", "password": PASSWORD})
    assert user.status_code == 201, user.get_json()
    assignment = {"user_id": user.get_json()["id"], "app": "ct", "role": "reader"}
    assert api.post("/api/admin/assignments", json=assignment).status_code == 201
    client = app.test_client()
    return ApiClient(client, login(client, "rita", PASSWORD))


def test_a_cheap_list_answers_while_twenty_costly_filters_run(app, api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    fill_memos(app, 16384)
    reader = _reader(app, api)
    clients = [ApiClient(app.test_client(), api.headers["Authorization"][7:]) for _ in range(COSTLY)]
    query = {"filter": json.dumps(costly_filter(200))}
    outcomes: Counter = Counter()
    running = [0]
    lock = threading.Lock()
    all_started = threading.Event()

    def costly(client: ApiClient) -> None:
        with lock:
            running[0] += 1
            if running[0] == COSTLY:
                all_started.set()
        try:
            response = client.get("/api/data/ct/memo", query_string=query)
            body = response.get_json()
            with lock:
                outcomes[(response.status_code, body["error"]["code"] if "error" in body else "")] += 1
        finally:
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=costly, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    assert all_started.wait(10)
    overlapping = 0
    for _ in range(5):
        response = reader.get("/api/data/ct/memo", query_string={"limit": "20"})
        assert response.status_code == 200 and len(response.get_json()["data"]) == 20
        with lock:
            overlapping += running[0] > 0  # the costly filters were still running when it answered
    for t in threads:
        t.join(60)
    assert overlapping == 5, "a cheap list waited until the costly filters had ended"
    assert sum(outcomes.values()) == COSTLY
    assert set(outcomes) <= {(200, ""), (422, "query_too_costly"), (503, "server_busy")}, outcomes
    assert outcomes[(422, "query_too_costly")] > 0, outcomes  # they really ran into the statement budget
