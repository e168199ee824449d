"""What the report cache's change counters cost a write (issue 16 item 4): creates of an order with 4 lines
through the API (Flask's test client, in process), in alternating blocks with the counter's bump on and off
(``change_counters.touch`` replaced by a no-op for the baseline), in the same run on the same database.

Per mode: median ms of wall and CPU time per create, over ``--blocks`` blocks of ``--per-block`` creates; the
ratio on/off. The bump is one ``INSERT ... ON CONFLICT DO UPDATE`` of ``lc_counter`` per entity at COMMIT.

Run from the project root::

    .venv/bin/python -m bench.bench_change_counters                  # SQLite
    .venv/bin/python -m bench.bench_change_counters --pg             # PostgreSQL

Not part of the test run (pytest collects ``tests/`` only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_reports import BUNDLE, PASSWORD, _database  # noqa: E402
from lowcode.app import create_app  # noqa: E402
from lowcode.commands import ensure_admin, migrate_database  # noqa: E402
from lowcode.runtime import change_counters, outbox  # noqa: E402


def _no_touch(session, app, entity) -> None:
    """The baseline: no counter noted, none bumped."""


def run(backend: str, url: str, args) -> dict:
    """Set up, then time alternating blocks of creates with the bump on and off."""
    migrate_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "RATE_LIMIT_ENABLED": False})
    ensure_admin(app, "admin", PASSWORD)
    client = app.test_client(use_cookies=False)
    token = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).get_json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/templates/import", json=BUNDLE, headers=headers).status_code == 201
    warehouse = client.post("/api/data/br/warehouse", json={"name": "WH"}, headers=headers).get_json()["id"]
    body = {
        "warehouse": warehouse,
        "order_date": "2026-01-15",
        "status": "confirmed",
        "lines": [{"qty": "1", "amount": "10.00"} for _ in range(4)],
    }
    times: dict[str, dict[str, list[float]]] = {m: {"wall": [], "cpu": []} for m in ("on", "off")}
    real_touch = change_counters.touch
    for block in range(args.blocks * 2):
        mode = ("on", "off")[(block + block // 2) % 2]  # on off off on on off ...
        outbox.change_counters.touch = real_touch if mode == "on" else _no_touch
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.per_block):
            assert client.post("/api/data/br/order", json=body, headers=headers).status_code == 201
        times[mode]["wall"].append((time.perf_counter() - wall) * 1000 / args.per_block)
        times[mode]["cpu"].append((time.process_time() - cpu) * 1000 / args.per_block)
    outbox.change_counters.touch = real_touch
    app.extensions["lowcode"].db.dispose()
    out = {"backend": backend, "creates": args.blocks * 2 * args.per_block}
    for mode, kinds in times.items():
        for kind, values in kinds.items():
            out[f"{kind}_{mode}_ms"] = round(statistics.median(values), 3)
    out["wall on/off"] = round(out["wall_on_ms"] / out["wall_off_ms"], 3)
    out["cpu on/off"] = round(out["cpu_on_ms"] / out["cpu_off_ms"], 3)
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments; one line of figures."""
    parser = argparse.ArgumentParser(description="the change counter's cost per create")
    parser.add_argument("--blocks", type=int, default=6, help="blocks per mode (default 6)")
    parser.add_argument("--per-block", type=int, default=100, help="creates per block (default 100)")
    parser.add_argument("--pg", action="store_const", const="postgresql", default="sqlite", dest="backend")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        print(json.dumps(run(args.backend, _database(args.backend, stack), args)), flush=True)
    if args.backend == "postgresql":
        from tests.dbs import GRAVEYARD

        GRAVEYARD.flush()


if __name__ == "__main__":
    main()
