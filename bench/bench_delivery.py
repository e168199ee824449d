"""Outbound delivery benchmark: change -> webhook receipt and change -> MQTT receipt latency under a steady
rate of changes (default 50/s), with the integration loop (fan-out + concurrent dispatcher) running in this
process (as the in-process scheduler of ``lowcode serve`` runs it) or, with ``--worker-process``, in a
process of its own (``lowcode worker``). Next to it, in the same run, the yardstick: the same body sent
straight to the same receivers (one signed POST, one MQTT publish) right after each change - what the
network and receivers cost without the platform's outbox, fan-out and claims.

Latency = receipt time at the receiver (its thread, ``time.monotonic``) - the time the write's API call
returned (its commit); the stages of it (commit -> fan-out, fan-out -> receipt, receipt -> the channel's
call returned) come from the times stored on the ``lc_delivery`` rows. The receiver and the MQTT subscriber run in this process (127.0.0.1; Mosquitto at
127.0.0.1:1883). SQLite file (WAL, ``synchronous=FULL``) by default, ``--pg`` for a fresh PostgreSQL
database. Run from the project root::

    .venv/bin/python -m bench.bench_delivery                 # 20 s at 50 changes/s on SQLite
    .venv/bin/python -m bench.bench_delivery --pg            # on PostgreSQL
    .venv/bin/python -m bench.bench_delivery --seconds 5     # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.bench_api import load_average  # noqa: E402
from lowcode.app import create_app  # noqa: E402
from lowcode.commands import ensure_admin, migrate_database  # noqa: E402
from lowcode.integrations.loop import IntegrationLoop  # noqa: E402

PG_ADMIN_URL = os.environ.get("LOWCODE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-root-secret-1"
WORKER = """
import signal, threading
from lowcode.app import create_app
from lowcode.integrations.loop import IntegrationLoop
app = create_app({"DATABASE_URL": %r})
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_a: stop.set())
print("ready", flush=True)
IntegrationLoop(app.extensions["lowcode"]).run_forever(stop)
"""


class Arrivals:
    """Receipt times by (channel, record id)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.at: dict[tuple[str, int], float] = {}
        self.wall: dict[tuple[str, int], float] = {}
        """Receipt as Unix time (compared with the times the database stored)."""

    def note(self, channel: str, body: bytes) -> None:
        now, wall = time.monotonic(), time.time()
        event = json.loads(body)
        with self.lock:
            self.at.setdefault((channel, int(event["record_id"])), now)
            self.wall.setdefault((channel, int(event["record_id"])), wall)


def _receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            arrivals.note("direct-webhook" if self.path == "/direct" else "webhook", body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _subscriber(arrivals: Arrivals, topic: str) -> mqtt.Client:
    ready = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_a: c.subscribe(f"{topic}/#", qos=1)
    client.on_subscribe = lambda *_a: ready.set()
    client.on_message = lambda _c, _u, m: arrivals.note(
        "direct-mqtt" if m.topic.endswith("/direct") else "mqtt", m.payload
    )
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    assert ready.wait(5), "MQTT subscription not acknowledged"
    return client


def _bundle(url: str, topic: str) -> dict:
    sub = {"entity": "item", "events": ["created"]}
    return {
        "app": {"name": "shop", "label": "Shop"},
        "entities": [{"name": "item", "label": "Item", "fields": [{"name": "name", "type": "text"},
                                                                   {"name": "qty", "type": "integer"}]}],
        "subscriptions": [
            {**sub, "name": "to_webhook", "channel": {"kind": "webhook", "url": url}},
            {**sub, "name": "to_mqtt", "channel": {"kind": "mqtt", "topic": f"{topic}/platform"}},
        ],
    }  # fmt: skip


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _figures(values: list[float], sent: int) -> dict[str, float]:
    if not values:
        return {"received": 0, "sent": sent, "p50_ms": float("nan"), "p95_ms": float("nan"),
                "p99_ms": float("nan"), "max_ms": float("nan")}  # fmt: skip
    return {
        "received": len(values),
        "sent": sent,
        "p50_ms": round(_percentile(values, 50), 1),
        "p95_ms": round(_percentile(values, 95), 1),
        "p99_ms": round(_percentile(values, 99), 1),
        "max_ms": round(max(values), 1),
    }


def _stages(services, arrivals: Arrivals, committed_wall: dict[int, float]) -> dict[str, dict[str, float]]:
    """Where a subscription's latency goes, from the times stored on its ``lc_delivery`` rows: commit ->
    fan-out (row made), fan-out -> receipt, receipt -> outcome recorded (``delivered_at``)."""
    from lowcode.auth.lifecycle import as_utc
    from lowcode.core.models import Delivery

    table = Delivery.__table__
    with services.db.read() as session:
        rows = session.execute(sa.select(table.c.subscription, table.c.record_key, table.c.created_at,
                                         table.c.delivered_at)).all()  # fmt: skip
    stages: dict[str, list[float]] = {}
    for subscription, record_key, made, recorded in rows:
        channel = "webhook" if subscription == "to_webhook" else "mqtt"
        rid = int(record_key.split(":")[1])
        received = arrivals.wall.get((channel, rid))
        if rid not in committed_wall or received is None or recorded is None:
            continue
        made_s, recorded_s = as_utc(made).timestamp(), as_utc(recorded).timestamp()
        for stage, value in (("commit->fan-out", made_s - committed_wall[rid]),
                             ("fan-out->receipt", received - made_s),
                             ("receipt->recorded", recorded_s - received)):  # fmt: skip
            stages.setdefault(f"{channel} {stage}", []).append(value * 1000)
    return {name: _figures(values, len(values)) for name, values in sorted(stages.items())}


def run(url: str, seconds: float, rate: float, separate_worker: bool) -> dict[str, dict[str, float]]:
    """Drive ``rate`` creates per second for ``seconds``; returns latency figures (ms) per channel."""
    migrate_database(url)
    arrivals = Arrivals()
    server = _receiver(arrivals)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    topic = f"lowcode-bench/{uuid.uuid4().hex}"
    subscriber = _subscriber(arrivals, topic)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-" + "x" * 32, "WEBHOOK_ALLOW": "127.0.0.1",
                      "RATE_LIMIT_ENABLED": False, "INTEGRATION_POLL_SECONDS": "0.01"})  # fmt: skip
    ensure_admin(app, "admin", PASSWORD)
    client = app.test_client()
    token = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).get_json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        client.post("/api/templates/import", json=_bundle(f"{base}/in", topic), headers=headers).status_code
        == 201
    )
    services = app.extensions["lowcode"]
    stop = threading.Event()
    if not separate_worker:
        loop_thread = IntegrationLoop(services).start_thread(stop)
    worker = None if not separate_worker else subprocess.Popen(
        [sys.executable, "-c", WORKER % url],
        env={**os.environ, "PYTHONPATH": str(ROOT), "LOWCODE_WEBHOOK_ALLOW": "127.0.0.1",
             "LOWCODE_INTEGRATION_POLL_SECONDS": "0.01", "LOWCODE_SECRET_KEY": "bench-secret-" + "x" * 32},
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert worker is None or worker.stdout.readline().strip() == b"ready"
    direct = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    direct.connect("127.0.0.1", 1883)
    direct.loop_start()
    committed: dict[int, float] = {}
    committed_wall: dict[int, float] = {}
    from lowcode.integrations.channels.http_post import post_signed
    from lowcode.webhook_targets import system_resolver

    interval = 1.0 / rate
    start = time.monotonic()
    n = int(seconds * rate)
    for k in range(n):
        wait = start + k * interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        response = client.post("/api/data/shop/item", json={"name": f"n{k}", "qty": k}, headers=headers)
        assert response.status_code == 201, response.get_json()
        record_id = response.get_json()["id"]
        committed[record_id] = time.monotonic()
        committed_wall[record_id] = time.time()
        body = json.dumps({"record_id": record_id, "k": k}).encode()
        # the yardstick: the same receivers, reached directly (no outbox, fan-out or claim)
        direct_at = time.monotonic()
        post_signed(f"{base}/direct", body, f"d{k}", "0", "", {}, services.settings, system_resolver, 5)
        direct.publish(f"{topic}/direct", body, qos=1).wait_for_publish(5)
        committed[-record_id] = direct_at
    behind = time.monotonic() - start - seconds
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with arrivals.lock:
            if sum(1 for (c, _i) in arrivals.at if c in ("webhook", "mqtt")) >= 2 * n:
                break
        time.sleep(0.05)
    if worker is not None:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    else:
        stop.set()
        loop_thread.join(30)
    subscriber.loop_stop()
    direct.loop_stop()
    server.shutdown()
    results: dict[str, dict[str, float]] = {}
    for channel, sign in (("webhook", 1), ("mqtt", 1), ("direct-webhook", -1), ("direct-mqtt", -1)):
        lat = [
            (at - committed[sign * rid]) * 1000
            for (c, rid), at in arrivals.at.items()
            if c == channel and sign * rid in committed
        ]
        results[channel] = _figures(lat, n)
    results["_stages"] = _stages(services, arrivals, committed_wall)
    results["_run"] = {"changes": n, "rate": rate, "writer_behind_s": round(max(behind, 0), 2)}
    services.db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--pg", action="store_true", help="a fresh PostgreSQL database instead of SQLite")
    parser.add_argument(
        "--worker-process",
        action="store_true",
        help="run the loop in a process of its own (`lowcode worker`)",
    )
    args = parser.parse_args()
    print(f"load average before: {load_average()}")
    if args.pg:
        name = f"lc_bench_delivery_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        try:
            results = run(url, args.seconds, args.rate, args.worker_process)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        folder = tempfile.mkdtemp(prefix="lc_bench_delivery_")
        try:
            results = run(f"sqlite:///{folder}/bench.db", args.seconds, args.rate, args.worker_process)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"load average after: {load_average()}")
    print(json.dumps(results["_run"]))
    print(f"{'channel':30} {'received':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    rows = [(c, results[c]) for c in ("webhook", "mqtt", "direct-webhook", "direct-mqtt")]
    rows += [(f"  {name}", r) for name, r in results["_stages"].items()]
    for channel, r in rows:
        print(
            f"{channel:30} {r['received']:>4}/{r['sent']:<4} {r['p50_ms']:>8} {r['p95_ms']:>8} "
            f"{r['p99_ms']:>8} {r['max_ms']:>8}"
        )


if __name__ == "__main__":
    main()
