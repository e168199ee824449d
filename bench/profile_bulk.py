"""CPU time per record of the platform's bulk create, update or delete (``bench/bench_bulk.py``'s entity, 2,000
records, 500 per request, Flask test client, fresh SQLite file), with an optional ``cProfile`` on the CPU clock
for the stage breakdown in docs/BENCHMARKS.md. Not part of the test run.

    PYTHONPATH=. .venv/bin/python -m bench.profile_bulk create            # CPU µs per record
    PYTHONPATH=. .venv/bin/python -m bench.profile_bulk update --profile  # and the top functions
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path

from bench.bench_api import make_record, setup_lowcode

N = 2000
PER_REQUEST = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["create", "update", "delete"])
    parser.add_argument("--profile", action="store_true", help="print the top functions (CPU clock)")
    args = parser.parse_args()
    lc = setup_lowcode(Path(tempfile.mkdtemp(prefix="bench-profile-")), 0, "full")
    client = lc.app.test_client()

    def send(method: str, body: bytes, status: int) -> None:
        response = client.open(
            lc.base, method=method, data=body, headers=lc.headers, content_type="application/json"
        )
        assert response.status_code == status, response.get_data()[:300]

    def creates(start: int) -> list[bytes]:
        return [
            json.dumps([make_record(i) for i in range(s, s + PER_REQUEST)]).encode()
            for s in range(start, start + N, PER_REQUEST)
        ]

    for body in creates(10_000_000):  # warm-up
        send("POST", body, 201)
    bodies = creates(0)
    method, status = "POST", 201
    if args.kind != "create":
        for body in bodies:
            send("POST", body, 201)
        stored: list[dict] = []
        after = None
        while len(stored) < N:
            url = f"{lc.base}?limit=500&sort=id" + (f"&after={after}" if after else "")
            page = client.get(url, headers=lc.headers).get_json()
            stored, after = stored + page["data"], page["next"]
        stored = stored[:N]
        extra = (lambda r: {"qty": (r["qty"] or 0) + 1}) if args.kind == "update" else (lambda r: {})
        bodies = [
            json.dumps(
                [{"id": r["id"], "version": r["version"], **extra(r)} for r in stored[s : s + PER_REQUEST]]
            ).encode()
            for s in range(0, N, PER_REQUEST)
        ]
        method, status = ("PATCH" if args.kind == "update" else "DELETE"), 200
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    c0 = time.process_time()
    if profiler:
        profiler.enable()
    for body in bodies:
        send(method, body, status)
    if profiler:
        profiler.disable()
    cpu = time.process_time() - c0
    note = " (under the profiler)" if profiler else ""
    print(f"bulk {args.kind}: {N} records, {cpu:.2f} s CPU, {cpu / N * 1e6:.0f} µs per record{note}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    lc.dispose()


if __name__ == "__main__":
    main()
