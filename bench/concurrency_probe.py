"""Where a write request's time goes under concurrency: ``lowcode serve`` with timers (for bench_concurrency).

Serves the app the way ``lowcode serve`` does (werkzeug, threaded, scheduler thread) and times, per request:
the wall time and the thread's CPU time (WSGI middleware), the wait in ``Database.write()`` before the
transaction is open (pool checkout + ``BEGIN IMMEDIATE``, i.e. the SQLite write lock or a process queue in
front of it), ``BEGIN IMMEDIATE`` alone, every other statement, and the commit (fsync). The rest of the wall
time is time the thread was runnable but not running (the GIL, other processes on the CPUs). On SIGUSR1 it
writes the
figures since the last signal to ``<--out>.<n>.json``; ``python -m bench.bench_concurrency --probe`` prints
them. ``--no-queue`` is a what-if: no process write queue, as before it existed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_api import _apply_sync  # noqa: E402

SYNC_ENV = "BENCH_SQLITE_SYNC"
"""``bench_concurrency --sync normal`` sets it: a what-if of both servers with ``synchronous=NORMAL``."""

_local = threading.local()
_lock = threading.Lock()
_rows: list[dict[str, float]] = []


def _now_ms() -> float:
    return time.perf_counter() * 1000


def _timing() -> dict[str, float] | None:
    return getattr(_local, "row", None)


def _add(key: str, ms: float) -> None:
    row = _timing()
    if row is not None:
        row[key] = row.get(key, 0.0) + ms


def instrument(app) -> None:
    """Wrap the app's WSGI call, its ``Database.write`` and its engine's statements with timers."""
    import sqlalchemy as sa

    db = app.extensions["lowcode"].db
    inner_write = db.write

    @contextmanager
    def timed_write():
        t0 = _now_ms()
        with inner_write() as session:
            session.connection()  # opens the transaction: pool checkout + BEGIN IMMEDIATE
            _add("open_write", _now_ms() - t0)
            yield session
            _local.commit_start = _now_ms()
        end = _now_ms()
        _add("commit", end - getattr(_local, "commit_start", end))
        held_start = getattr(_local, "held_start", None)
        if held_start is not None:
            _add("held", end - held_start)
            _local.held_start = None

    db.write = timed_write

    @sa.event.listens_for(db.engine, "before_cursor_execute")
    def _before(conn, cursor, statement, params, context, many):
        _local.stmt_start = _now_ms()

    @sa.event.listens_for(db.engine, "after_cursor_execute")
    def _after(conn, cursor, statement, params, context, many):
        end = _now_ms()
        if statement.startswith("BEGIN IMMEDIATE"):
            _add("begin_immediate", end - _local.stmt_start)
            _local.held_start = end  # SQLite's write lock is ours from here to the end of the commit
        else:
            _add("sql", end - _local.stmt_start)

    wsgi = app.wsgi_app

    def middleware(environ, start_response):
        _local.row, _local.held_start = {}, None
        t0, c0 = _now_ms(), time.thread_time() * 1000
        try:
            return list(wsgi(environ, start_response))
        finally:
            row = _local.row
            row["wall"], row["cpu"] = _now_ms() - t0, time.thread_time() * 1000 - c0
            row["method"] = environ["REQUEST_METHOD"]
            with _lock:
                _rows.append(row)
            _local.row = None

    app.wsgi_app = middleware


class BargingQueue:
    """What-if: the write queue's interface on a plain ``threading.Lock`` (a newcomer may overtake a waiter)."""

    def __init__(self) -> None:
        self._lock, self._owner = threading.Lock(), None

    def acquire(self, timeout: float) -> bool:
        if self._lock.acquire(timeout=timeout):
            self._owner = threading.get_ident()
            return True
        return False

    def release(self) -> None:
        self._owner = None
        self._lock.release()

    def held_by_me(self) -> bool:
        return self._owner == threading.get_ident()


def summary(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per step: mean, p50, p99 and max (ms) over the write requests, for all of them and for the slowest 1 %."""
    writes = [r for r in rows if r.get("method") in ("POST", "PATCH")]
    if not writes:
        return {}
    writes.sort(key=lambda r: r["wall"])
    slow = writes[-max(1, len(writes) // 100) :]
    keys = ("wall", "cpu", "open_write", "begin_immediate", "held", "sql", "commit")
    out = {}
    creates = [r for r in writes if r["method"] == "POST"]
    updates = [r for r in writes if r["method"] == "PATCH"]
    groups = [("all", writes), ("slowest 1%", slow), ("create", creates), ("update", updates)]
    for name, group in [(n, g) for n, g in groups if g]:
        out[name] = {"n": len(group)}
        for key in keys:
            values = sorted(r.get(key, 0.0) for r in group)
            out[name][key] = {
                "mean": sum(values) / len(values),
                "p50": values[len(values) // 2],
                "p99": values[min(len(values) - 1, int(len(values) * 0.99))],
                "max": values[-1],
            }
        rest = [r["wall"] - r["cpu"] - r.get("open_write", 0) - r.get("commit", 0) for r in group]
        out[name]["runnable_or_other_wait"] = {"mean": sum(rest) / len(rest), "max": max(rest)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--barging", action="store_true", help="what-if: a plain (unfair) lock instead of the FIFO queue"
    )
    parser.add_argument(
        "--no-queue", action="store_true", help="what-if: no process write queue (SQLite's busy handler only)"
    )
    args = parser.parse_args()
    from werkzeug.serving import make_server

    from lowcode.app import create_app
    from lowcode.worker import Scheduler

    app = create_app()
    _apply_sync(app.extensions["lowcode"].db.engine, os.environ.get(SYNC_ENV, "full"))
    Scheduler(app.extensions["lowcode"]).start_thread(threading.Event())
    if args.no_queue:
        app.extensions["lowcode"].db.write_queue = None
    elif args.barging:
        app.extensions["lowcode"].db.write_queue = BargingQueue()
    instrument(app)
    server = make_server("127.0.0.1", args.port, app, threaded=True)

    dumps = iter(range(1, 1000))

    def dump(*_):
        """SIGUSR1: write the figures since the last dump to ``<out>.<n>.json`` and start afresh."""
        with _lock:
            rows = list(_rows)
            _rows.clear()
        Path(f"{args.out}.{next(dumps)}.json").write_text(
            json.dumps({"rows": len(rows), "summary": summary(rows)}, indent=2)
        )

    signal.signal(signal.SIGUSR1, dump)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
