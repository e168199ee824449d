"""Many writers at once: no lost update, every stale write is a 409, naming series stay gap-free."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from tests.conftest import ADMIN_PASSWORD, ApiClient, login

BUNDLE = {
    "app": {"name": "cc", "label": "Concurrency"},
    "entities": [
        {"name": "tally", "label": "Tally", "fields": [{"name": "hits", "type": "integer"}]},
        {
            "name": "doc",
            "label": "Doc",
            "fields": [
                {"name": "number", "type": "autonumber", "unique": True, "options": {"pattern": "D-{#####}"}},
                {"name": "note", "type": "text"},
            ],
        },
    ],
}


@pytest.fixture
def cc_api(api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    return api


def _run_threads(n, target):
    errors: list[BaseException] = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001 - surfaced to the test below
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_eight_threads_two_hundred_updates_lose_nothing(app, cc_api):
    record = cc_api.post("/api/data/cc/tally", json={"hits": 0}).get_json()
    url = f"/api/data/cc/tally/{record['id']}"
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def worker(_):
        client = app.test_client()
        api = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
        for _ in range(200):
            current = api.get(url)
            assert current.status_code == 200
            body = current.get_json()
            response = api.patch(
                url, json={"hits": body["hits"] + 1}, headers={"If-Match": current.headers["ETag"]}
            )
            assert response.status_code in (200, 409), response.get_json()
            if response.status_code == 409:
                err = response.get_json()["error"]
                assert err["code"] == "version_conflict" and "hits" in err["changed"]
            with lock:
                outcomes[response.status_code] += 1

    _run_threads(8, worker)
    final = cc_api.get(url).get_json()
    assert outcomes[200] + outcomes[409] == 1600
    assert final["hits"] == outcomes[200]  # every accepted update counted exactly once
    assert final["version"] == 1 + outcomes[200]
    # Writers keep progressing. Not "one per round of 8": under group commit a GET sees only committed
    # versions, so a PATCH read before the open group's COMMIT conflicts with its uncommitted update (about
    # 165 of 1600 succeed then, 210 without group commit).
    assert outcomes[200] >= 100
    history = cc_api.get(f"{url}/history").get_json()["data"]
    assert len(history) == min(200, 1 + outcomes[200])  # history endpoint caps at 200 rows


def test_autonumber_is_unique_and_gap_free_under_concurrent_creates(app, cc_api):
    numbers: list[str] = []
    lock = threading.Lock()

    def worker(i):
        client = app.test_client()
        api = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
        for j in range(25):
            response = api.post("/api/data/cc/doc", json={"note": f"{i}-{j}"})
            assert response.status_code == 201, response.get_json()
            with lock:
                numbers.append(response.get_json()["number"])

    _run_threads(8, worker)
    # a failed create returns its number: force one rollback and check the next number fills the gap
    assert cc_api.post("/api/data/cc/doc", json={"note": "x" * 300}).status_code == 422
    numbers.append(cc_api.post("/api/data/cc/doc", json={"note": "last"}).get_json()["number"])
    assert sorted(numbers) == [f"D-{n:05d}" for n in range(1, 202)]


def test_eight_concurrent_writers_all_succeed_with_consistent_versions(app, cc_api):
    """8 threads create and then update their own records at once: every request succeeds (no "database is
    locked", no 5xx), every record ends at the version its updates say, and the write queue is free after."""
    owned: dict[int, list[int]] = {}
    statuses: Counter = Counter()
    lock = threading.Lock()

    def worker(i):
        client = app.test_client()
        api = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
        mine = []
        for j in range(10):
            response = api.post("/api/data/cc/tally", json={"hits": j})
            with lock:
                statuses[response.status_code] += 1
            mine.append(response.get_json()["id"])
        for _ in range(3):
            for record_id in mine:
                url = f"/api/data/cc/tally/{record_id}"
                current = api.get(url)
                response = api.patch(
                    url,
                    json={"hits": current.get_json()["hits"] + 100},
                    headers={"If-Match": current.headers["ETag"]},
                )
                with lock:
                    statuses[response.status_code] += 1
        owned[i] = mine

    _run_threads(8, worker)
    assert statuses == Counter({201: 80, 200: 240})
    rows = cc_api.get("/api/data/cc/tally?limit=200").get_json()["data"]
    assert len(rows) == 80 and {r["id"] for r in rows} == {rid for ids in owned.values() for rid in ids}
    assert all(r["version"] == 4 and r["hits"] >= 300 for r in rows)
    queue = app.extensions["lowcode"].db.write_queue
    if queue is not None:  # SQLite
        assert queue.acquire(0.5)
        queue.release()
