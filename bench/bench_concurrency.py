"""Writes over HTTP against real servers: one client in series, then N concurrent writers (issue 14 items 4, 5).

Both apps are served as separate processes on their own SQLite file with the same plumbing (WAL,
``synchronous=FULL``, ``BEGIN IMMEDIATE`` writes, through ``lowcode.core.db.Database``) and the same server
software: ``lowcode serve`` (werkzeug, threaded, with its scheduler thread) and ``python -m
bench.baseline_app`` (werkzeug, threaded). Set-up and seeding are ``bench/bench_api.py``'s. Steps:

1. single client (one keep-alive connection): ``--single`` creates, then ``--single`` updates of the records
   just created (right ``If-Match``), in alternating blocks between the two servers (A B, B A, ...);
2. concurrency: ``--clients`` threads, each on its own keep-alive connection, create records for
   ``--seconds`` seconds, then update the records they created for ``--seconds`` seconds (no conflicts: each
   thread updates its own records), one app after the other, in the order A B B A (``--rounds 2``);
3. print per app and phase: requests, throughput, p50/p95/p99/max in ms, requests over 250 ms, non-2xx
   answers, and the ratios platform / baseline; the targets: single writes at most 1.5x the baseline's mean
   time, concurrent writes p99 at most 50 ms and none over 250 ms.

Run from the project root::

    .venv/bin/python -m bench.bench_concurrency                       # 8 clients, 10 s per phase
    .venv/bin/python -m bench.bench_concurrency --quick               # smoke run
    .venv/bin/python -m bench.bench_concurrency --only lowcode --clients 8 --seconds 20

Not part of the test run (pytest collects ``tests/`` only).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_api import (  # noqa: E402
    Target,
    load_average,
    machine,
    make_record,
    server,
    setup_baseline,
    setup_lowcode,
    update_body,
)

TARGET_RATIO = 1.5
TARGET_P99_MS = 50.0
TARGET_MAX_MS = 250.0


@dataclass
class Samples:
    """Latencies (ms) and refused answers of one app in one phase."""

    ms: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, other: Samples) -> None:
        self.ms.extend(other.ms)
        self.seconds += other.seconds
        for key, n in other.failures.items():
            self.failures[key] = self.failures.get(key, 0) + n


class Client:
    """One keep-alive HTTP connection to a server, with the app's token; reconnects when the server closes."""

    def __init__(self, port: int, target: Target):
        self.port, self.target = port, target
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {target.token}", "Content-Type": "application/json"}

    def send(self, method: str, path: str, body: dict, if_match: int | None = None):
        """(status, headers, parsed body, ms) of one request."""
        headers = self.headers if if_match is None else {**self.headers, "If-Match": f'"{if_match}"'}
        data = json.dumps(body).encode()
        for attempt in (1, 2):
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # the server closed a kept-alive connection: a fresh one, not timed twice
                if attempt == 2:
                    raise
                continue
            ms = (time.perf_counter() - t0) * 1000
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
            return response.status, response, raw, ms
        raise AssertionError("unreachable")

    def create(self, n: int) -> tuple[int, int | None, int | None, float]:
        """Create the n-th record: (status, id, version, ms)."""
        status, _, raw, ms = self.send("POST", self.target.base, make_record(n))
        if status == 201:
            body = json.loads(raw)
            return status, body["id"], body["version"], ms
        return status, None, None, ms

    def update(self, record_id: int, version: int, k: int) -> tuple[int, int | None, float]:
        """The k-th update of a record at ``version``: (status, new version, ms)."""
        status, response, _, ms = self.send(
            "PATCH", f"{self.target.base}/{record_id}", update_body(k), if_match=version
        )
        return status, (int(response.getheader("ETag").strip('"')) if status == 200 else None), ms

    def close(self) -> None:
        self.conn.close()


class Numbers:
    """Unique record numbers across threads and phases (``code`` is unique)."""

    def __init__(self, start: int):
        self._next, self._lock = start, threading.Lock()

    def take(self) -> int:
        with self._lock:
            self._next += 1
            return self._next


def _fail(samples: Samples, status: int, raw: bytes = b"") -> None:
    key = str(status)
    samples.failures[key] = samples.failures.get(key, 0) + 1
    if samples.failures[key] == 1:
        print(f"  first HTTP {status}: {raw[:300]!r}", file=sys.stderr)


# -- single client -------------------------------------------------------------------------------------
def single_series(
    ports: dict[str, int], targets: dict[str, Target], numbers: Numbers, count: int, block: int
) -> dict[str, dict[str, Samples]]:
    """``count`` creates then ``count`` updates per app from one connection each, alternating blocks."""
    clients = {name: Client(ports[name], t) for name, t in targets.items()}
    out = {name: {"create": Samples(), "update": Samples()} for name in targets}
    made: dict[str, list[tuple[int, int]]] = {name: [] for name in targets}
    try:
        for c in clients.values():  # warm-up: statement caches, snapshot, imports
            for k in range(20):
                _, rid, ver, _ = c.create(numbers.take())
                c.update(rid, ver, k)
        for op in ("create", "update"):
            done, flip = 0, False
            while done < count:
                n = min(block, count - done)
                for name in reversed(list(clients)) if flip else list(clients):
                    c, s = clients[name], out[name][op]
                    t0 = time.perf_counter()
                    for k in range(done, done + n):
                        if op == "create":
                            status, rid, ver, ms = c.create(numbers.take())
                            if status == 201:
                                made[name].append((rid, ver))
                        else:
                            rid, ver = made[name][k]
                            status, _, ms = c.update(rid, ver, k)
                        s.ms.append(ms)
                        if status not in (200, 201):
                            _fail(s, status)
                    s.seconds += time.perf_counter() - t0
                done += n
                flip = not flip
    finally:
        for c in clients.values():
            c.close()
    return out


# -- concurrent writers --------------------------------------------------------------------------------
def concurrent(
    port: int, target: Target, numbers: Numbers, clients: int, seconds: float
) -> dict[str, Samples]:
    """``clients`` threads creating for ``seconds``, then updating their own records for ``seconds``."""
    out = {"create": Samples(), "update": Samples()}
    per_thread = [{"create": Samples(), "update": Samples()} for _ in range(clients)]
    owned: list[list[list[int]]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    stop = threading.Event()

    def work(i: int, op: str) -> None:
        c = Client(port, target)
        s = per_thread[i][op]
        k = 0
        try:
            barrier.wait()
            while not stop.is_set():
                if op == "create":
                    status, rid, ver, ms = c.create(numbers.take())
                    if status == 201:
                        owned[i].append([rid, ver])
                else:
                    if not owned[i]:
                        return
                    entry = owned[i][k % len(owned[i])]
                    status, ver, ms = c.update(entry[0], entry[1], k)
                    if status == 200:
                        entry[1] = ver
                k += 1
                s.ms.append(ms)
                if status not in (200, 201):
                    _fail(s, status)
        finally:
            c.close()

    for op in ("create", "update"):
        stop.clear()
        barrier.reset()
        threads = [threading.Thread(target=work, args=(i, op), daemon=True) for i in range(clients)]
        for t in threads:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        for s in per_thread:
            out[op].add(Samples(s[op].ms, s[op].failures))
        out[op].seconds = elapsed
    return out


# -- output --------------------------------------------------------------------------------------------
def pct(ms: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of unsorted ``ms``."""
    ordered = sorted(ms)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def stats(s: Samples, serial: bool) -> dict[str, Any]:
    """Throughput (serial: 1 / mean time; concurrent: requests / wall seconds), percentiles, tails."""
    mean = statistics.fmean(s.ms)
    return {
        "n": len(s.ms),
        "per_s": (1000 / mean) if serial else len(s.ms) / s.seconds,
        "mean": mean,
        "p50": pct(s.ms, 50),
        "p95": pct(s.ms, 95),
        "p99": pct(s.ms, 99),
        "max": max(s.ms),
        "over_250": sum(1 for v in s.ms if v > TARGET_MAX_MS),
        "failures": dict(s.failures),
    }


def table(title: str, results: dict[str, dict[str, Samples]], serial: bool) -> tuple[str, dict]:
    lines = [
        f"### {title}",
        "",
        "| operation | app | requests | rec/s | mean ms | p50 ms | p95 ms | p99 ms | max ms | > 250 ms | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    data: dict[str, dict] = {}
    for op in ("create", "update"):
        data[op] = {}
        for name, by_op in results.items():
            st = data[op][name] = stats(by_op[op], serial)
            lines.append(
                f"| {op} | {name} | {st['n']} | {st['per_s']:.0f} | {st['mean']:.2f} | {st['p50']:.2f} "
                f"| {st['p95']:.2f} | {st['p99']:.2f} | {st['max']:.1f} | {st['over_250']} "
                f"| {st['failures'] or '-'} |"
            )
    lines.append("")
    if set(results) == {"lowcode", "baseline"}:
        for op in ("create", "update"):
            a, b = data[op]["lowcode"], data[op]["baseline"]
            lines.append(
                f"- {op}: ratio mean time {a['mean'] / b['mean']:.2f}x, p50 {a['p50'] / b['p50']:.2f}x, "
                f"p99 {a['p99'] / b['p99']:.2f}x, throughput {b['per_s'] / a['per_s']:.2f}x"
            )
    for op in ("create", "update"):
        a = data[op].get("lowcode")
        if a and serial and "baseline" in data[op]:
            ok = a["mean"] / data[op]["baseline"]["mean"] <= TARGET_RATIO
            lines.append(f"- {op} target (<= {TARGET_RATIO}x mean time): {'met' if ok else '**not met**'}")
        elif a and not serial:
            ok = a["p99"] <= TARGET_P99_MS and a["over_250"] == 0
            lines.append(
                f"- {op} target (p99 <= {TARGET_P99_MS:.0f} ms, none over {TARGET_MAX_MS:.0f} ms): "
                f"{'met' if ok else '**not met**'}"
            )
    return "\n".join(lines), data


def probe_report(title: str, proc, probe: Path, n: int) -> str:
    """Ask the probe server for its figures since the last call (SIGUSR1) and render them (ms)."""
    proc.send_signal(signal.SIGUSR1)
    path = Path(f"{probe}.{n}.json")
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    data = json.loads(path.read_text())["summary"]
    keys = ("wall", "cpu", "open_write", "begin_immediate", "held", "sql", "commit")
    lines = [
        f"#### where the platform's write time goes ({title}; ms; bench/concurrency_probe.py)",
        "",
        "| requests | n | " + " | ".join(keys) + " | rest (runnable, GIL) |",
        "|---|---:|" + "---:|" * (len(keys) + 1),
    ]
    for group, row in data.items():
        for stat in ("mean", "p99", "max") if group in ("all", "slowest 1%") else ("mean",):
            if group == "slowest 1%" and stat == "p99":
                continue
            cells = " | ".join(f"{row[k][stat]:.2f}" for k in keys)
            rest = row["runnable_or_other_wait"].get(stat, float("nan"))
            lines.append(f"| {group} {stat} | {row['n']} | {cells} | {rest:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="writes over HTTP: single client and concurrent writers")
    parser.add_argument("--clients", type=int, default=8, help="concurrent writers (default 8)")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="seconds per concurrent phase (default 10)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="concurrent rounds: A B, B A, ... (default 2)")
    parser.add_argument(
        "--single", type=int, default=500, help="single-client creates and updates (default 500)"
    )
    parser.add_argument("--block", type=int, default=50, help="single-client block per app (default 50)")
    parser.add_argument("--records", type=int, default=2000, help="records seeded in each app (default 2000)")
    parser.add_argument("--only", choices=("lowcode", "baseline"), help="serve one app only")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 200 records, 100 single, 3 s, 1 round"
    )
    parser.add_argument(
        "--dir", help="folder for the SQLite files (default: a fresh temp folder, removed after)"
    )
    parser.add_argument(
        "--probe", action="store_true", help="serve the platform with bench/concurrency_probe.py's timers"
    )
    parser.add_argument(
        "--barging", action="store_true", help="with --probe: what-if with a plain (unfair) lock as the queue"
    )
    parser.add_argument(
        "--no-queue", action="store_true", help="with --probe: what-if without the process write queue"
    )
    parser.add_argument(
        "--sync",
        choices=("full", "normal"),
        default="full",
        help="what-if: SQLite synchronous=NORMAL on both servers (needs --probe; default full)",
    )
    parser.add_argument(
        "--group-commit",
        choices=("on", "off"),
        default="on",
        help="the platform's SQLITE_GROUP_COMMIT (default on, as shipped; the baseline never groups)",
    )
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    os.environ["LOWCODE_SQLITE_GROUP_COMMIT"] = "1" if args.group_commit == "on" else "0"
    if args.sync != "full" and not args.probe:
        parser.error("--sync needs --probe (plain lowcode serve always runs synchronous=FULL)")
    os.environ["BENCH_SQLITE_SYNC"] = args.sync
    if (args.no_queue or args.barging) and not args.probe:
        parser.error("--no-queue and --barging need --probe (the what-if is made in the probe server)")
    if args.quick:
        args.records, args.single, args.seconds, args.rounds = 200, 100, 3.0, 1

    folder = Path(args.dir or tempfile.mkdtemp(prefix="lowcode-bench-cc-"))
    folder.mkdir(parents=True, exist_ok=True)
    info = machine()
    print("# writes over HTTP: one client, then concurrent writers\n")
    for key, value in info.items():
        print(f"- {key}: {value}")
    cmd = " ".join(["python -m bench.bench_concurrency", *(argv if argv is not None else sys.argv[1:])])
    print(f"- command: {cmd}")
    print(
        f"- clients: {args.clients}, seconds per phase: {args.seconds}, rounds: {args.rounds}, single: "
        f"{args.single}, records: {args.records}, servers: werkzeug threaded (both), "
        f"platform group commit: {args.group_commit}\n"
    )
    try:
        targets: dict[str, Target] = {}
        if args.only != "baseline":
            targets["lowcode"] = setup_lowcode(folder, args.records, "full")
        if args.only != "lowcode":
            targets["baseline"] = setup_baseline(folder, args.records, "full")
        for t in targets.values():
            t.dispose()
        numbers = Numbers(args.records + 5_000_000)
        probe = folder / "probe"
        command = [sys.executable, "-m", "bench.concurrency_probe", "--port", "{port}", "--out", str(probe)]
        command += ["--no-queue"] if args.no_queue else []
        command += ["--barging"] if args.barging else []
        with contextlib.ExitStack() as stack:
            procs = {
                name: stack.enter_context(server(t, folder, command if args.probe else None))
                for name, t in targets.items()
            }
            ports = {name: port for name, (_, port) in procs.items()}
            load0 = load_average()
            single = single_series(ports, targets, numbers, args.single, args.block)
            text, single_data = table("One client, keep-alive", single, serial=True)
            print(text + "\n")
            if args.probe and "lowcode" in procs:
                print(probe_report("one client", procs["lowcode"][0], probe, 1))
            conc = {name: {"create": Samples(), "update": Samples()} for name in targets}
            order = list(targets)
            for r in range(args.rounds):
                for name in order if r % 2 == 0 else reversed(order):
                    got = concurrent(ports[name], targets[name], numbers, args.clients, args.seconds)
                    if args.probe and name == "lowcode":
                        print(probe_report(f"round {r + 1}", procs[name][0], probe, r + 2))
                    for op in ("create", "update"):
                        conc[name][op].add(got[op])
            text, conc_data = table(
                f"{args.clients} concurrent writers, {args.rounds} x {args.seconds:.0f} s per phase and app",
                conc,
                serial=False,
            )
            print(text + "\n")
            print(
                f"load average before {load0}, after {load_average()} ({len(os.sched_getaffinity(0))} CPUs)"
            )
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {"machine": info, "args": vars(args), "single": single_data, "concurrent": conc_data},
                    indent=2,
                )
            )
    finally:
        if not args.dir:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
