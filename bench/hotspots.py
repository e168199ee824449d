"""Where an API request's time goes: wall-clock per step, without a profiler's per-call overhead.

cProfile (``bench_api.py --profile``) multiplies the cost of every Python call, so it overstates pure-Python
steps next to time spent in SQLite. This script instead wraps a handful of functions with a ``perf_counter``
accumulator (about a microsecond per call) and times SQL through SQLAlchemy's cursor events, then runs the
``bench_api`` workload against each app in turn. Times are inclusive (a step includes its sub-steps).

    .venv/bin/python -m bench.hotspots --records 20000 --ops 300
"""

from __future__ import annotations

import argparse
import functools
import importlib
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench import bench_api  # noqa: E402

# (module, attribute path, label) - the lowcode request path, in request order.
LOWCODE_STEPS = [
    ("lowcode.api.data", "json_body", "parse JSON body (loads_exact)"),
    ("lowcode.api.edge", "resolve_actor", "auth: token -> actor (in the transaction)"),
    ("lowcode.api.edge", "user_for_token", "  token + user SELECT (ORM entities)"),
    ("lowcode.api.edge", "actor_for_user", "  actor: roles + attributes"),
    ("lowcode.auth.actors", "roles_in_force", "    roles_in_force"),
    ("lowcode.auth.actors", "user_attributes", "    user_attributes"),
    ("lowcode.runtime.snapshot", "SnapshotCache.get", "snapshot: definitions-counter read"),
    ("lowcode.runtime.records", "RecordService.create", "record service: create"),
    ("lowcode.runtime.records", "RecordService.update", "record service: update"),
    ("lowcode.runtime.records", "RecordService._current", "  read current row"),
    ("lowcode.runtime.records", "RecordService._load", "  validate (marshmallow, child rows)"),
    ("lowcode.runtime.records", "RecordService._compute", "  compute formula fields"),
    ("lowcode.runtime.records", "RecordService._check_integrity", "  integrity: link + unique SELECTs"),
    ("lowcode.runtime.records", "RecordService._guarded_update", "  guarded UPDATE"),
    ("lowcode.runtime.audit", "record_change", "  audit row (audit.record_change)"),
    ("lowcode.runtime.outbox", "enqueue", "  outbox row (outbox.enqueue)"),
    ("lowcode.runtime.queries", "QueryService.get", "re-read the record for the response"),
    ("lowcode.runtime.queries", "QueryService.list", "list query (count + page + row_to_record)"),
    ("lowcode.runtime.queries", "row_to_record", "  row_to_record (list rows)"),
    ("lowcode.api.data", "_record_json", "serialize one record (writes)"),
    ("lowcode.api.data", "record_to_json", "serialize records (lists)"),
    ("lowcode.api.data", "jsonify", "jsonify response"),
    ("sqlalchemy.orm", "Session.flush", "ORM Session.flush (pending objects)"),
]
BASELINE_STEPS = [
    ("bench.baseline_app", "_json_body", "parse JSON body (loads_exact)"),
    ("bench.baseline_app", "_authenticate", "auth: token -> user (in the transaction)"),
    ("bench.baseline_app", "ItemSchema.load", "validate (marshmallow)"),
    ("bench.baseline_app", "_log", "audit + outbox rows (Core inserts)"),
    ("bench.baseline_app", "item_json", "serialize records"),
    ("bench.baseline_app", "jsonify", "jsonify response"),
]
COMMON = [("sqlalchemy.engine.default", "DefaultDialect.do_commit", "COMMIT (WAL fsync)")]


class Clock:
    """Accumulates time per (app, operation, label)."""

    def __init__(self) -> None:
        self.app = ""
        self.op = ""
        self.totals: dict[tuple[str, str, str], list[int]] = defaultdict(
            lambda: [0, 0, 0]
        )  # wall, cpu, calls
        self._sql_start: list[tuple[int, int]] = []

    def wrap(self, module: str, path: str, label: str) -> None:
        """Replace ``module.path`` (``func`` or ``Class.method``) with a timed wrapper; skip if missing."""
        owner: Any = importlib.import_module(module)
        *parents, name = path.split(".")
        for part in parents:
            owner = getattr(owner, part, None)
        original = getattr(owner, name, None) if owner is not None else None
        if original is None:
            print(f"(not timed: {module}.{path} does not exist in this version)")
            return
        clock = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
            try:
                return original(*args, **kwargs)
            finally:
                cell = clock.totals[(clock.app, clock.op, label)]
                cell[0] += time.perf_counter_ns() - t0
                cell[1] += time.thread_time_ns() - c0
                cell[2] += 1

        setattr(owner, name, timed)

    def watch_sql(self, engine) -> None:
        """Time every cursor execute of ``engine`` by statement kind (SELECT, INSERT, UPDATE, BEGIN...)."""

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            self._sql_start.append((time.perf_counter_ns(), time.thread_time_ns()))

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            t0, c0 = self._sql_start.pop()
            wall, cpu = time.perf_counter_ns() - t0, time.thread_time_ns() - c0
            kind = statement.lstrip().split(None, 1)[0].upper()
            for label in ("SQL: all statements (cursor.execute)", f"SQL:   {kind}"):
                cell = self.totals[(self.app, self.op, label)]
                cell[0] += wall
                cell[1] += cpu
                cell[2] += 1


def report(clock: Clock, counts: dict[str, int], request: dict[tuple[str, str], tuple[int, int]]) -> None:
    for op, n in counts.items():
        print(
            f"\n### {op} ({n} requests per app): microseconds per request, CPU / wall (calls per request)\n"
        )
        print("| step | lowcode CPU | lowcode wall | baseline CPU | baseline wall |")
        print("|---|---:|---:|---:|---:|")
        whole = [f"{v / n / 1000:.0f}" for app in ("lowcode", "baseline") for v in request[(app, op)][::-1]]
        print("| **whole request (test client)** | " + " | ".join(whole) + " |")
        labels = [label for *_, label in COMMON]
        sql = sorted(
            {k[2] for k in clock.totals if k[2].startswith("SQL") and k[1] == op},
            key=lambda s: (s != "SQL: all statements (cursor.execute)", s),
        )
        for label in labels + sql:
            cells = [clock.totals.get((app, op, label)) for app in ("lowcode", "baseline")]
            print(f"| {label} | " + " | ".join(_cell(c, n) for c in cells) + " |")
        for app, steps in (("lowcode", LOWCODE_STEPS), ("baseline", BASELINE_STEPS)):
            for *_, label in steps:
                cell = clock.totals.get((app, op, label))
                if cell and cell[2]:
                    row = [_cell(cell, n), "- | -"] if app == "lowcode" else ["- | -", _cell(cell, n)]
                    print(f"| {app}: {label} | {row[0]} | {row[1]} |")


def _cell(cell: list[int] | None, n: int) -> str:
    if not cell or not cell[2]:
        return "- | -"
    return f"{cell[1] / n / 1000:.0f} | {cell[0] / n / 1000:.0f} ({cell[2] / n:.1f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--ops", type=int, default=300, help="creates and updates; lists and filters: 0.3x")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="lowcode-hotspots-"))
    try:
        lowcode = bench_api.setup_lowcode(folder, args.records, "full")
        baseline = bench_api.setup_baseline(folder, args.records, "full")
        list_ops = max(1, round(args.ops * 0.3))
        counts = {"create": args.ops, "update": args.ops, "list": list_ops, "filter": list_ops}
        workload = bench_api.Workload(args.records, args.ops, list_ops)
        targets = [lowcode, baseline]
        for t in targets:
            t.client = t.app.test_client(use_cookies=False)
        bench_api.warm_up(targets, workload)
        clock = Clock()
        for module, path, label in LOWCODE_STEPS + BASELINE_STEPS + COMMON:
            clock.wrap(module, path, label)
        clock.watch_sql(lowcode.app.extensions["lowcode"].db.engine)
        clock.watch_sql(baseline.app.extensions["baseline"].engine)
        request: dict[tuple[str, str], tuple[int, int]] = {}
        for op in bench_api.OPERATIONS:
            for t in targets:
                clock.app, clock.op = t.name, op
                bench_api.run_block(t, workload, op, 0, counts[op])
                request[(t.name, op)] = (sum(t.samples[op]), sum(t.cpu[op]))
        print(f"# Request anatomy: {args.records} records, SQLite synchronous=FULL\n")
        print(
            "(whole request = the test-client call; CPU = this thread's CPU time, which other processes on a"
        )
        print("busy machine do not inflate; wall includes waiting for fsync and for the CPU)")
        report(clock, counts, request)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
