"""CPU time per confirm of the platform alone (``bench/bench_rules.py``'s stock app and workload, fresh SQLite
file or PostgreSQL database, Flask test client), with an optional ``cProfile`` on the CPU clock for the
breakdown in docs/BENCHMARKS.md. Not part of the test run.

    PYTHONPATH=. .venv/bin/python -m bench.profile_rules                      # CPU ms per confirm
    PYTHONPATH=. .venv/bin/python -m bench.profile_rules --profile --top 40   # and the top functions
    PYTHONPATH=. .venv/bin/python -m bench.profile_rules --pg                 # on PostgreSQL
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from bench.bench_rules import WARMUP, databases, plan, setup_lowcode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="confirms measured (default 200)")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--profile", action="store_true", help="print the top functions (CPU clock)")
    parser.add_argument("--top", type=int, default=30, help="functions printed (default 30)")
    parser.add_argument("--out", help="also write the pstats file here")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (default cumulative)")
    args = parser.parse_args()
    orders = plan(args.orders + WARMUP, 5, 200, 2)
    with databases(
        "postgresql" if args.pg else "sqlite", Path(tempfile.mkdtemp(prefix="bench-prof-"))
    ) as urls:
        side = setup_lowcode(urls[0], 200, 2, orders)
        side.client = side.app.test_client(use_cookies=False)
        for k in range(WARMUP):
            side.confirm(args.orders + k, record=False)
        profiler = cProfile.Profile(time.thread_time) if args.profile else None
        c0 = time.thread_time()
        if profiler:
            profiler.enable()
        for k in range(args.orders):
            side.confirm(k, record=False)
        if profiler:
            profiler.disable()
        cpu = time.thread_time() - c0
        side.engine.dispose()
    print(f"{args.orders} confirms: {cpu / args.orders * 1000:.2f} ms CPU per confirm")
    if profiler:
        stats = pstats.Stats(profiler)
        if args.out:
            stats.dump_stats(args.out)
        stats.sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
