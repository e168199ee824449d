"""Cost limits: the issue-9 scenario of costly ``contains`` filters, measured before and after the limits.

One app per run, on a fresh database (SQLite file, or PostgreSQL with ``--backend``), with the ``ct`` app of
``tests/integration/costs_data.py`` (``memo`` rows with 2 KB notes), filled with ``--rows`` rows (rounded up to
a power of two). Then:

1. one costly filter (``--terms`` ``contains`` comparisons, none matching): its time and answer;
2. ``--parallel`` of them at once from threads (Flask test clients, as in ``tests/integration``) while another
   user (role ``reader``) lists 20 memos in a loop until they are done: the cheap list's latencies and answers,
   the costly ones' answers and the wall time of the storm.

``before`` runs with the settings that reproduce the code before the limits (no size limits, no statement
budget, no gate, SQLAlchemy's default pool of 5 + 10 connections and 30 s wait on SQLite); ``after`` with
the defaults; ``budget`` with the defaults but no size limits (the filter runs into the statement budget and
the gate). Run from the project root::

    .venv/bin/python -m bench.bench_costs --rows 4000            # before, after and budget, SQLite
    .venv/bin/python -m bench.bench_costs --rows 4000 --backend postgresql

Not part of the test run (pytest collects ``tests/`` only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("LOWCODE_ENV", "testing")

from lowcode.app import create_app  # noqa: E402
from lowcode.commands import ensure_admin, migrate_database  # noqa: E402
from tests.integration.costs_data import BUNDLE, costly_filter, fill_memos  # noqa: E402

PASSWORD = "bench-pass-2026"
MODES = ("before", "after", "budget")
BEFORE = {
    "FILTER_MAX_TERMS": 0, "FILTER_MAX_TEXT_TERMS": 0, "FILTER_MAX_TEXT_LENGTH": 0, "FILTER_MAX_DEPTH": 0,
    "STATEMENT_TIMEOUT_MS": 0, "WRITE_STATEMENT_TIMEOUT_MS": 0, "SQLITE_STEP_BUDGET": 0,
    "SQLITE_WRITE_STEP_BUDGET": 0, "COSTLY_QUERY_SLOTS": 0,
}  # fmt: skip
BEFORE_POOL = {
    "sqlite": {"DB_POOL_SIZE": 5, "DB_POOL_OVERFLOW": 10, "DB_POOL_TIMEOUT_S": 30},
    "postgresql": {"DB_POOL_SIZE": 10, "DB_POOL_OVERFLOW": 20, "DB_POOL_TIMEOUT_S": 30},
}


def _token(app, username: str, password: str) -> dict:
    client = app.test_client(use_cookies=False)
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _answer(response) -> str:
    body = response.get_json(silent=True) or {}
    return f"{response.status_code} {body['error']['code']}" if "error" in body else str(response.status_code)


def run(backend: str, url: str, mode: str, args) -> dict:
    """Set up one app and measure the single costly filter and the storm."""
    migrate_database(url)
    config = {"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "ENV": "testing"}
    if mode == "before":
        config |= BEFORE | BEFORE_POOL[backend]
    elif mode == "budget":
        config |= {k: 0 for k in BEFORE if k.startswith("FILTER_")}
    app = create_app(config)
    ensure_admin(app, "admin", PASSWORD)
    admin = _token(app, "admin", PASSWORD)
    client = app.test_client(use_cookies=False)
    assert client.post("/api/templates/import", json=BUNDLE, headers=admin).status_code == 201
    user = client.post("/api/admin/users", json={"username": "rita", "password": PASSWORD}, headers=admin)
    assignment = {"user_id": user.get_json()["id"], "app": "ct", "role": "reader"}
    assert client.post("/api/admin/assignments", json=assignment, headers=admin).status_code == 201
    reader = _token(app, "rita", PASSWORD)
    rows = fill_memos(app, args.rows)
    query = {"filter": json.dumps(costly_filter(args.terms))}
    started = time.monotonic()
    single = client.get("/api/data/ct/memo", query_string=query, headers=admin)
    single_s = time.monotonic() - started
    answers: Counter = Counter()
    lock = threading.Lock()

    def costly() -> None:
        response = app.test_client(use_cookies=False).get(
            "/api/data/ct/memo", query_string=query, headers=admin
        )
        with lock:
            answers[_answer(response)] += 1

    threads = [threading.Thread(target=costly) for _ in range(args.parallel)]
    started = time.monotonic()
    for t in threads:
        t.start()
    cheap: list[float] = []
    cheap_answers: Counter = Counter()
    cheap_client = app.test_client(use_cookies=False)
    while any(t.is_alive() for t in threads):
        t0 = time.monotonic()
        response = cheap_client.get("/api/data/ct/memo", query_string={"limit": "20"}, headers=reader)
        cheap.append(time.monotonic() - t0)
        cheap_answers[_answer(response)] += 1
    for t in threads:
        t.join()
    storm_s = time.monotonic() - started
    app.extensions["lowcode"].db.dispose()
    return {
        "backend": backend, "mode": mode, "rows": rows, "terms": args.terms,
        "single_s": round(single_s, 2), "single": _answer(single), "storm_s": round(storm_s, 1),
        "costly": dict(answers), "cheap_n": len(cheap), "cheap_p50_s": round(statistics.median(cheap), 3),
        "cheap_max_s": round(max(cheap), 3), "cheap": dict(cheap_answers),
    }  # fmt: skip


def _databases(backend: str, stack: ExitStack):
    if backend == "postgresql":
        from tests.dbs import postgres_database

        return stack.enter_context(postgres_database())
    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_costs_"))
    return f"sqlite:///{folder}/bench.db"


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, run before/after on each backend, print one line of figures per run."""
    parser = argparse.ArgumentParser(description="costly contains filters: before and after the cost limits")
    parser.add_argument("--rows", type=int, default=4000, help="memo rows, 2 KB notes (default 4000)")
    parser.add_argument(
        "--terms", type=int, default=200, help="contains comparisons per filter (default 200)"
    )
    parser.add_argument("--parallel", type=int, default=20, help="costly filters at once (default 20)")
    parser.add_argument("--only", choices=MODES, help="run one mode only")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite",
                        help="database (PostgreSQL: LOWCODE_TEST_PG_URL or 127.0.0.1:5432)")  # fmt: skip
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        for mode in [args.only] if args.only else MODES:
            with ExitStack() as stack:
                print(json.dumps(run(backend, _databases(backend, stack), mode, args)), flush=True)


if __name__ == "__main__":
    main()
