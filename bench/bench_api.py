"""API benchmark: the metadata runtime (``/api/data/bench/item``) next to a hand-written Flask + Core app.

Both apps run in this process, each on its own fresh SQLite file (WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE``
writes - the platform's settings, shared through ``lowcode.core.db.Database``), and are driven through Flask's
test client (WSGI in-process: the same client overhead for both, no sockets). Steps:

1. set up: the platform gets an admin, a bearer token and the 8-field entity of ``bench/bundle`` (template
   bundle import); the baseline (``bench/baseline_app.py``) gets its table, an admin and a token;
2. seed ``--records`` identical records in each (platform: through the record service, so audit and outbox
   rows are written too; baseline: Core ``executemany`` with the same audit and outbox rows);
3. measure, in alternating blocks (A B, then B A, ...) so machine noise falls on both: ``--ops`` creates,
   ``--ops`` updates (with the right ``If-Match``), 0.3 x ``--ops`` list pages (50 rows, ``sort=-due``,
   following the keyset ``next`` cursor) and 0.3 x ``--ops`` filtered lists (``status = X and qty > Y``);
4. print ops/s, p50, p95 per operation and app, the ratio platform/baseline of the mean time per operation,
   and the RSS of this process;
5. serve each seeded database in its own process (``lowcode serve``; ``python -m bench.baseline_app``), send a
   few hundred list/filter/create/update requests over HTTP and read the server's VmRSS/VmHWM.

Run from the project root::

    .venv/bin/python -m bench.bench_api                 # full size: 20,000 records, 1,000 ops
    .venv/bin/python -m bench.bench_api --quick         # smoke run (seconds)
    .venv/bin/python -m bench.bench_api --profile lowcode --records 5000 --ops 300   # cProfile per operation

Not part of the test run (pytest collects ``tests/`` only).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import functools
import gc
import http.client
import io
import json
import os
import platform
import pstats
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # allow ``python bench/bench_api.py`` as well as ``python -m bench.bench_api``
    sys.path.insert(0, str(ROOT))

from bench import baseline_app  # noqa: E402
from lowcode.app import create_app  # noqa: E402
from lowcode.commands import ensure_admin, install_template, migrate_database  # noqa: E402

BUNDLE = Path(__file__).resolve().parent / "bundle"
ADMIN_PASSWORD = "bench-pass-2026"  # the password policy refuses one containing the username
STATUSES = baseline_app.STATUSES
STATUS_WEIGHTS = (1, 5, 2, 2)
WORDS = (
    "steel",
    "bolt",
    "cotton",
    "shirt",
    "blue",
    "red",
    "large",
    "small",
    "pack",
    "box",
    "茶叶",
    "绿色",
    "螺丝",
)
OPERATIONS = ("create", "update", "list", "filter")
TARGET_RATIO = 1.5


# -- data ----------------------------------------------------------------------------------------------
def make_record(i: int) -> dict[str, Any]:
    """The i-th record (deterministic), in JSON form: price as a decimal string, due as ISO date."""
    rng = random.Random(i)
    words = " ".join(rng.choice(WORDS) for _ in range(3))
    return {
        "code": f"IT-{i:07d}",
        "name": f"Item {i} {words}",
        "qty": rng.randint(0, 1000),
        "price": format(Decimal(rng.randint(1, 1_000_000)).scaleb(-2), "f"),
        "status": rng.choices(STATUSES, STATUS_WEIGHTS)[0],
        "active": rng.random() < 0.9,
        "due": (dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 730))).isoformat(),
        "note": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30))),
    }


def typed(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON-form record with Python types (for Core inserts)."""
    return {**record, "price": Decimal(record["price"]), "due": dt.date.fromisoformat(record["due"])}


def update_body(i: int) -> dict[str, Any]:
    """The i-th update: three fields change."""
    rng = random.Random(10_000_000 + i)
    return {"qty": rng.randint(0, 1000), "status": rng.choice(STATUSES),
            "price": format(Decimal(rng.randint(1, 1_000_000)).scaleb(-2), "f")}  # fmt: skip


# -- the two apps behind one interface -----------------------------------------------------------------
@dataclass
class Target:
    """One app under test and the client state of the benchmark against it."""

    name: str
    app: Any
    db_url: str
    token: str
    base: str  # collection URL
    list_url: Callable[[str | None], str]
    filter_url: Callable[[str, int], str]
    client: Any = None
    versions: dict[int, int] = field(default_factory=dict)
    cursor: str | None = None
    pages_walked: int = 0
    samples: dict[str, list[int]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    cpu: dict[str, list[int]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def dispose(self) -> None:
        ext = self.app.extensions
        (ext["lowcode"].db if "lowcode" in ext else ext["baseline"]).dispose()


def setup_lowcode(folder: Path, records: int, sync: str) -> Target:
    """The platform with the bench bundle installed, an admin token and ``records`` seeded records."""
    url = f"sqlite:///{folder / 'lowcode.db'}"
    migrate_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "ENV": "testing"})
    _apply_sync(app.extensions["lowcode"].db.engine, sync)
    ensure_admin(app, "admin", ADMIN_PASSWORD)
    install_template(app, BUNDLE, with_demo=False)
    login = app.test_client().post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert login.status_code == 200, login.get_json()
    token = login.get_json()["token"]
    _seed_lowcode(app, records)

    def list_url(after: str | None) -> str:
        return "/api/data/bench/item?limit=50&sort=-due" + (f"&after={after}" if after else "")

    def filter_url(status: str, qty: int) -> str:
        cond = {
            "all": [
                {"field": "status", "op": "=", "value": status},
                {"field": "qty", "op": ">", "value": qty},
            ]
        }
        return "/api/data/bench/item?limit=50&filter=" + urllib.parse.quote(
            json.dumps(cond, separators=(",", ":"))
        )

    return Target("lowcode", app, url, token, "/api/data/bench/item", list_url, filter_url)


def _seed_lowcode(app, records: int, batch: int = 1000) -> None:
    from lowcode.runtime.context import Actor, WriteContext

    svc = app.extensions["lowcode"]
    actor = Actor(user_id=1, username="admin", is_admin=True)
    for start in range(0, records, batch):
        with svc.db.write() as session:
            ctx = WriteContext(session, actor, svc.snapshots.get(session), source="seed")
            for i in range(start, min(records, start + batch)):
                svc.records.create(ctx, "bench", "item", make_record(i))


def setup_baseline(folder: Path, records: int, sync: str) -> Target:
    """The hand-written app with an admin token and ``records`` seeded records."""
    url = f"sqlite:///{folder / 'baseline.db'}"
    app = baseline_app.create_baseline_app(url)
    _apply_sync(app.extensions["baseline"].engine, sync)
    token = baseline_app.create_admin_token(app)
    baseline_app.seed(app, [typed(make_record(i)) for i in range(records)])

    def list_url(after: str | None) -> str:
        return "/api/items?limit=50&sort=-due" + (f"&after={after}" if after else "")

    def filter_url(status: str, qty: int) -> str:
        return f"/api/items?limit=50&status={status}&qty_gt={qty}"

    return Target("baseline", app, url, token, "/api/items", list_url, filter_url)


def _apply_sync(engine, sync: str) -> None:
    """``--sync normal``: override ``synchronous`` on every new connection of this engine (a what-if only)."""
    if sync == "full":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _sync(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA synchronous={sync.upper()}")

    engine.dispose()


# -- one operation of each kind ------------------------------------------------------------------------
class Workload:
    """The shared sequence of operations, so both apps do exactly the same requests."""

    def __init__(self, records: int, ops: int, list_ops: int):
        self.records = records
        self.create_start = records
        self.update_ids = random.Random(42).sample(range(1, records + 1), k=min(ops, records))
        self.filters = [(random.Random(7 + i).choices(STATUSES, STATUS_WEIGHTS)[0], random.Random(99 + i).randint(0, 990))
                        for i in range(list_ops)]  # fmt: skip
        self.warmup_start = records + ops + 1_000_000
        self.server_start = records + ops + 2_000_000

    def request(self, target: Target, op: str, k: int) -> Callable[[], Any]:
        """A zero-argument call that performs the k-th ``op`` on ``target``."""
        client, headers = target.client, target.headers
        if op == "create":
            body = json.dumps(make_record(self.create_start + k)).encode()
            return lambda: client.post(
                target.base, data=body, headers=headers, content_type="application/json"
            )
        if op == "update":
            record_id = self.update_ids[k % len(self.update_ids)]
            body = json.dumps(update_body(k)).encode()
            hdrs = {**headers, "If-Match": f'"{target.versions.get(record_id, 1)}"'}
            url = f"{target.base}/{record_id}"
            return lambda: client.patch(url, data=body, headers=hdrs, content_type="application/json")
        if op == "list":
            url = target.list_url(target.cursor)
            return lambda: client.get(url, headers=headers)
        status, qty = self.filters[k % len(self.filters)]
        url = target.filter_url(status, qty)
        return lambda: client.get(url, headers=headers)

    @staticmethod
    def check(target: Target, op: str, k: int, response, workload: Workload) -> None:
        """Verify the answer and carry client state forward (versions, cursor)."""
        expected = 201 if op == "create" else 200
        if response.status_code != expected:
            raise SystemExit(
                f"{target.name} {op} #{k}: HTTP {response.status_code}: {response.get_data(as_text=True)[:500]}"
            )
        if op == "update":
            record_id = workload.update_ids[k % len(workload.update_ids)]
            target.versions[record_id] = int(response.headers["ETag"].strip('"'))
        elif op == "list":
            body = response.get_json()
            if len(body["data"]) != 50 and body["next"] is not None:
                raise SystemExit(f"{target.name} list: short page with a next cursor")
            target.cursor = body["next"]
            target.pages_walked += 1


def run_block(
    target: Target, workload: Workload, op: str, start: int, count: int, record: bool = True
) -> None:
    """``count`` operations ``op`` numbered from ``start``, timing each request (client call to buffered body):
    wall-clock time, and this thread's CPU time (which other processes on the machine do not inflate)."""
    timer, cpu_timer = time.perf_counter_ns, time.thread_time_ns
    for k in range(start, start + count):
        call = workload.request(target, op, k)
        c0, t0 = cpu_timer(), timer()
        response = call()
        elapsed, cpu = timer() - t0, cpu_timer() - c0
        if record:
            target.samples[op].append(elapsed)
            target.cpu[op].append(cpu)
        Workload.check(target, op, k, response, workload)


def warm_up(targets: list[Target], workload: Workload, n: int = 20) -> None:
    """A few requests of each kind (snapshot build, statement caches, imports), not recorded."""
    for t in targets:
        saved = workload.create_start
        workload.create_start = workload.warmup_start
        run_block(t, workload, "create", 0, n, record=False)
        workload.create_start = saved
        cursor = t.cursor
        for op in ("update", "list", "filter"):
            run_block(t, workload, op, len(workload.update_ids) - n if op == "update" else 0, n, record=False)
        t.cursor, t.pages_walked = cursor, 0


def measure(targets: list[Target], workload: Workload, counts: dict[str, int], block: int) -> None:
    """Every operation kind in turn; within a kind, alternating blocks A B / B A / ..."""
    for op in OPERATIONS:
        gc.collect()
        done, flip = 0, False
        while done < counts[op]:
            n = min(block, counts[op] - done)
            for t in reversed(targets) if flip else targets:
                run_block(t, workload, op, done, n)
            done += n
            flip = not flip


# -- statistics and output -----------------------------------------------------------------------------
def summarise(samples: list[int]) -> dict[str, float]:
    """ops/s (serial client: 1 / mean time), mean, p50, p95 in milliseconds."""
    ms = sorted(s / 1e6 for s in samples)
    mean = statistics.fmean(ms)
    return {"n": len(ms), "ops_s": 1000 / mean, "mean": mean, "p50": _pct(ms, 50), "p95": _pct(ms, 95)}


def _pct(sorted_ms: list[float], p: float) -> float:
    if len(sorted_ms) == 1:
        return sorted_ms[0]
    return statistics.quantiles(sorted_ms, n=100, method="inclusive")[int(p) - 1]


def results_table(lc: Target, bl: Target) -> tuple[str, dict]:
    lines = [
        "| operation | n | lowcode ops/s | lowcode p50 ms | lowcode p95 ms | baseline ops/s | baseline p50 ms "
        "| baseline p95 ms | ratio (mean time) | ratio p50 | ratio CPU time | <= 1.5x? |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    data = {}
    for op in OPERATIONS:
        a, b = summarise(lc.samples[op]), summarise(bl.samples[op])
        ratio, ratio50 = a["mean"] / b["mean"], a["p50"] / b["p50"]
        cpu_a, cpu_b = statistics.fmean(lc.cpu[op]) / 1e6, statistics.fmean(bl.cpu[op]) / 1e6
        data[op] = {"lowcode": {**a, "cpu_ms": cpu_a}, "baseline": {**b, "cpu_ms": cpu_b},
                    "ratio_mean": ratio, "ratio_p50": ratio50, "ratio_cpu": cpu_a / cpu_b}  # fmt: skip
        verdict = "yes" if ratio <= TARGET_RATIO else "**no**"
        lines.append(
            f"| {op} | {a['n']} | {a['ops_s']:.0f} | {a['p50']:.2f} | {a['p95']:.2f} | {b['ops_s']:.0f} | {b['p50']:.2f} "
            f"| {b['p95']:.2f} | {ratio:.2f}x | {ratio50:.2f}x | {cpu_a / cpu_b:.2f}x | {verdict} |"
        )
    lines.append("")
    lines.append(
        "CPU time per operation (ms, this thread): "
        + ", ".join(
            f"{op} {data[op]['lowcode']['cpu_ms']:.2f} vs {data[op]['baseline']['cpu_ms']:.2f}"
            for op in OPERATIONS
        )
    )
    return "\n".join(lines), data


def load_average() -> str:
    """The 1/5/15-minute load average (other processes compete for the CPUs)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def rss_of(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process in MiB, from /proc/<pid>/status."""
    out = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) / 1024
    return out


def machine() -> dict[str, str]:
    from importlib.metadata import version

    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "?")
    mem = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        mem = f"{int(fh.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    libs = ", ".join(f"{name} {version(name)}" for name in ("Flask", "Werkzeug", "SQLAlchemy", "marshmallow"))
    return {
        "code": _git_revision(),
        "cpu": f"{cpu} ({os.cpu_count()} logical CPUs, nproc={len(os.sched_getaffinity(0))})",
        "memory": mem,
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "libraries": libs,
    }


def _git_revision() -> str:
    """The measured code: commit, plus the lowcode files changed but not committed (others may be editing).

    Outside a git checkout (a ``git archive`` export), a ``COMMIT`` file next to ``bench/`` names the commit."""
    run = functools.partial(subprocess.run, cwd=ROOT, capture_output=True, text=True)
    head = run(["git", "rev-parse", "--short", "HEAD"])
    if head.returncode != 0:
        marker = ROOT / "COMMIT"
        return f"commit {marker.read_text().strip()} (clean git archive export)" if marker.exists() else "?"
    dirty = [
        line[3:]
        for line in run(["git", "status", "--porcelain", "--", "lowcode"]).stdout.split("\n")
        if line.strip()
    ]
    return f"commit {head.stdout.strip()}" + (
        f" + uncommitted changes in {', '.join(dirty)}" if dirty else ""
    )


# -- separate server processes -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@contextlib.contextmanager
def server(
    target: Target, folder: Path, command: list[str] | None = None
) -> Iterator[tuple[subprocess.Popen, int]]:
    """Serve ``target``'s database in a child process (werkzeug, threaded); stop it afterwards.

    ``command`` replaces the platform's ``lowcode serve`` (``{port}`` in it is the port)."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if target.name == "lowcode":
        env |= {
            "LOWCODE_DATABASE_URL": target.db_url,
            "LOWCODE_SECRET_KEY": "bench-secret",
            "LOWCODE_ENV": "testing",
        }
        cmd = [str(Path(sys.executable).parent / "lowcode"), "serve", "--port", str(port)]
        if command:
            cmd = [part.replace("{port}", str(port)) for part in command]
    else:
        cmd = [
            sys.executable,
            "-m",
            "bench.baseline_app",
            "--database-url",
            target.db_url,
            "--port",
            str(port),
        ]
    log = open(folder / f"{target.name}-server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    f"{target.name} server did not start: {(folder / f'{target.name}-server.log').read_text()}"
                )
            time.sleep(0.1)
        yield proc, port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def server_rss(target: Target, workload: Workload, folder: Path, lists: int, writes: int) -> dict[str, Any]:
    """RSS of a freshly started server before and after ``lists`` list pages + ``lists // 2`` filtered lists +
    ``writes`` creates + ``writes`` updates over HTTP (one connection per request)."""
    with server(target, folder) as (proc, port):
        time.sleep(0.5)
        idle = rss_of(proc.pid)
        token = target.token  # issued in the benchmark process; stored (hashed) in the served database
        headers = {"Authorization": f"Bearer {token}"}
        timings: dict[str, list[float]] = {op: [] for op in OPERATIONS}
        cursor = None

        def timed(op: str, *args) -> tuple[int, dict, bytes]:
            t0 = time.perf_counter()
            result = _http(port, *args)
            timings[op].append((time.perf_counter() - t0) * 1000)
            if result[0] not in (200, 201):
                raise SystemExit(f"{target.name} server {op}: HTTP {result[0]} {result[2][:300]!r}")
            return result

        for _ in range(lists):
            _, _, raw = timed("list", "GET", target.list_url(cursor), headers)
            cursor = json.loads(raw)["next"]
        for k in range(lists // 2):
            timed("filter", "GET", target.filter_url(*workload.filters[k % len(workload.filters)]), headers)
        jheaders = {**headers, "Content-Type": "application/json"}
        created = []
        for k in range(writes):
            _, hdrs, raw = timed(
                "create",
                "POST",
                target.base,
                jheaders,
                json.dumps(make_record(workload.server_start + k)).encode(),
            )
            created.append(json.loads(raw)["id"])
        for k, record_id in enumerate(created):
            timed("update", "PATCH", f"{target.base}/{record_id}", {**jheaders, "If-Match": '"1"'},
                  json.dumps(update_body(k)).encode())  # fmt: skip
        after = rss_of(proc.pid)
    return {"idle": idle, "after": after, "requests": sum(len(v) for v in timings.values()),
            "mean_ms": {op: statistics.fmean(v) for op, v in timings.items() if v}}  # fmt: skip


# -- profiling -----------------------------------------------------------------------------------------
def profile(target: Target, workload: Workload, counts: dict[str, int], top: int) -> None:
    """cProfile each operation kind on one app; print the top functions by cumulative and own time."""
    for op in OPERATIONS:
        prof = cProfile.Profile()
        prof.enable()
        run_block(target, workload, op, 0, counts[op])
        prof.disable()
        n = counts[op]
        print(
            f"\n### {target.name} {op}: {n} requests, {sum(target.samples[op]) / n / 1e6:.3f} ms/request under the profiler"
        )
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
            text = buf.getvalue()
            print(f"\n-- by {key} --\n" + text[text.find("   ncalls") :].rstrip())


# -- main ----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="lowcode API vs a hand-written Flask + SQLAlchemy Core app")
    parser.add_argument(
        "--records", type=int, default=20_000, help="records seeded in each app (default 20000)"
    )
    parser.add_argument(
        "--ops", type=int, default=1000, help="creates and updates each; lists/filters: 0.3x (default 1000)"
    )
    parser.add_argument("--block", type=int, default=50, help="operations per alternating block (default 50)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 500 records, 60 ops, short server load"
    )
    parser.add_argument("--sync", choices=("full", "normal", "off"), default="full",
                        help="what-if: override PRAGMA synchronous in both apps (default: full, the shipped setting)")  # fmt: skip
    parser.add_argument("--no-server", action="store_true", help="skip the separate-server RSS measurement")
    parser.add_argument(
        "--profile", choices=("lowcode", "baseline"), help="cProfile one app per operation instead"
    )
    parser.add_argument("--top", type=int, default=30, help="rows of profiler output per table (default 30)")
    parser.add_argument(
        "--dir", help="folder for the SQLite files (default: a fresh temp folder, removed after)"
    )
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.ops = min(args.records, 500), min(args.ops, 60)
    list_ops = max(1, round(args.ops * 0.3))
    counts = {"create": args.ops, "update": min(args.ops, args.records), "list": list_ops, "filter": list_ops}
    server_lists, server_writes = (40, 10) if args.quick else (200, 100)

    folder = Path(args.dir or tempfile.mkdtemp(prefix="lowcode-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    info = machine()
    print("# lowcode API benchmark\n")
    for key, value in info.items():
        print(f"- {key}: {value}")
    print(
        f"- command: {' '.join([Path(sys.executable).name, '-m', 'bench.bench_api', *(argv if argv is not None else sys.argv[1:])])}"
    )
    print(f"- records: {args.records}, operations: {counts}, block: {args.block}, synchronous: {args.sync}, "
          f"database folder: {folder}\n")  # fmt: skip
    try:
        t0 = time.perf_counter()
        lowcode = setup_lowcode(folder, args.records, args.sync) if args.profile != "baseline" else None
        t1 = time.perf_counter()
        baseline = setup_baseline(folder, args.records, args.sync) if args.profile != "lowcode" else None
        t2 = time.perf_counter()
        print(
            f"seeded {args.records} records: lowcode {t1 - t0:.1f} s (record service), baseline {t2 - t1:.1f} s (Core)\n"
        )
        targets = [t for t in (lowcode, baseline) if t is not None]
        for t in targets:
            t.client = t.app.test_client(use_cookies=False)
        workload = Workload(args.records, args.ops, list_ops)
        warm_up(targets, workload)
        if args.profile:
            profile(targets[0], workload, counts, args.top)
            return
        t3 = time.perf_counter()
        load_before = load_average()
        measure(targets, workload, counts, args.block)
        load_after = load_average()
        print(f"measured in {time.perf_counter() - t3:.1f} s; list pages walked: lowcode {lowcode.pages_walked}, "
              f"baseline {baseline.pages_walked}; load average before {load_before}, after {load_after} "
              f"({len(os.sched_getaffinity(0))} CPUs)\n")  # fmt: skip
        table, data = results_table(lowcode, baseline)
        print(table)
        print("\nratio = lowcode mean time per operation / baseline mean time per operation; "
              f"target <= {TARGET_RATIO}x\n")  # fmt: skip
        process = rss_of()
        print(
            f"benchmark process (both apps, in-process): VmRSS {process['VmRSS']:.1f} MiB, peak VmHWM {process['VmHWM']:.1f} MiB"
        )
        servers = {}
        if not args.no_server:
            for t in targets:
                t.dispose()
            for t in targets:
                servers[t.name] = server_rss(t, workload, folder, server_lists, server_writes)
            print(
                "\n| server process | VmRSS idle MiB | VmRSS after load MiB | VmHWM MiB | requests | mean ms list / filter / create / update |"
            )
            print("|---|---:|---:|---:|---:|---|")
            for name, s in servers.items():
                means = " / ".join(f"{s['mean_ms'][op]:.2f}" for op in ("list", "filter", "create", "update"))
                print(f"| {name} | {s['idle']['VmRSS']:.1f} | {s['after']['VmRSS']:.1f} | {s['after']['VmHWM']:.1f} "
                      f"| {s['requests']} | {means} |")  # fmt: skip
        if args.json:
            Path(args.json).write_text(json.dumps({"machine": info, "args": vars(args), "counts": counts, "results": data,
                                                   "process_rss": process, "servers": servers,
                                                   "load_average": [load_before, load_after]}, indent=2))  # fmt: skip
    finally:
        if not args.dir:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
