"""Rule benchmark: confirming sales orders of 5 lines through the API with the stock-reservation rule, next to
the same confirm written by hand (``bench/baseline_confirm.py``, Flask + SQLAlchemy Core), in the same run.

Both apps run in this process on databases of their own (SQLite files: WAL, ``synchronous=FULL``, ``BEGIN
IMMEDIATE`` writes; with ``--pg`` also two fresh PostgreSQL databases) and are driven through Flask's test
client (WSGI in-process, the same client overhead for both). Steps per database:

1. set up: the platform gets an admin token and the stock app of ``tests/integration/rules/stock_bundle.py``
   (rules ``needs_lines``, ``label_note``, ``reserve_on_confirm``, ...); the baseline gets its tables and a token;
2. seed the same ``--products`` products, ``--warehouses`` warehouses, a balance of 1,000,000 for each pair,
   and ``--orders`` draft orders of ``--lines`` lines (distinct products, qty 1-9) - platform through the
   record service, baseline with Core;
3. confirm every order (``PATCH`` ``{"status": "confirmed"}`` with ``If-Match: "1"``) in alternating blocks
   (A B, then B A, ...), timing each request (wall clock and this thread's CPU time);
4. check both ended in the same state (every order confirmed, the same reserved quantity per balance, one
   ledger row per line), count the SQL statements of a few more confirms, and print the table and the ratios.

Run from the project root::

    .venv/bin/python -m bench.bench_rules              # 1,000 orders of 5 lines on SQLite
    .venv/bin/python -m bench.bench_rules --pg         # and on PostgreSQL (LOWCODE_TEST_PG_URL or 127.0.0.1)
    .venv/bin/python -m bench.bench_rules --quick      # smoke run (100 orders)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench import baseline_app, baseline_confirm  # noqa: E402
from bench.bench_api import load_average, machine, rss_of, summarise  # noqa: E402
from lowcode.app import create_app  # noqa: E402
from lowcode.commands import ensure_admin, migrate_database  # noqa: E402
from tests.integration.rules.stock_bundle import BUNDLE  # noqa: E402

ADMIN_PASSWORD = "bench-root-secret-1"
ON_HAND = Decimal("1000000")
WARMUP = 10
COUNTED = 10
PG_ADMIN_URL = os.environ.get("LOWCODE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@dataclass
class Side:
    """One app under test: its client, the URL of an order, the per-request samples."""

    name: str
    app: Any
    engine: sa.Engine
    token: str
    url: str  # with {id}
    ids: list[int]
    client: Any = None
    samples: list[int] = field(default_factory=list)
    cpu: list[int] = field(default_factory=list)

    def confirm(self, k: int, record: bool = True) -> None:
        """Confirm the k-th order; check the answer."""
        headers = {"Authorization": f"Bearer {self.token}", "If-Match": '"1"'}
        body = b'{"status": "confirmed"}'
        c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
        response = self.client.patch(
            self.url.format(id=self.ids[k]), data=body, headers=headers, content_type="application/json"
        )
        elapsed, cpu = time.perf_counter_ns() - t0, time.thread_time_ns() - c0
        if response.status_code != 200 or response.get_json()["status"] != "confirmed":
            raise SystemExit(
                f"{self.name} confirm #{k}: HTTP {response.status_code} {response.get_data(as_text=True)[:400]}"
            )
        if record:
            self.samples.append(elapsed)
            self.cpu.append(cpu)


def plan(orders: int, lines: int, products: int, warehouses: int) -> list[tuple[int, list[tuple[int, int]]]]:
    """The orders (deterministic): warehouse index and (product index, qty) per line, products distinct."""
    rng = random.Random(2030)
    return [(rng.randrange(warehouses), [(p, rng.randint(1, 9)) for p in rng.sample(range(products), lines)])
            for _ in range(orders)]  # fmt: skip


def setup_lowcode(url: str, products: int, warehouses: int, orders: list) -> Side:
    """The platform with the stock app, an admin token and the seeded records."""
    from lowcode.runtime.context import Actor, WriteContext

    migrate_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "ENV": "testing"})
    ensure_admin(app, "admin", ADMIN_PASSWORD)
    client = app.test_client(use_cookies=False)
    login = client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    token = login.get_json()["token"]
    imported = client.post(
        "/api/templates/import?demo=0", json=BUNDLE, headers={"Authorization": f"Bearer {token}"}
    )
    assert imported.status_code == 201, imported.get_json()
    svc = app.extensions["lowcode"]
    actor = Actor(user_id=1, username="admin", is_admin=True)
    create = svc.records.create
    ids: list[int] = []
    with svc.db.write() as session:
        ctx = WriteContext(session, actor, svc.snapshots.get(session), source="seed")
        pids = [create(ctx, "shop", "product", {"sku": f"P{i:05d}"})["id"] for i in range(products)]
        wids = [create(ctx, "shop", "warehouse", {"code": f"W{i}"})["id"] for i in range(warehouses)]
        for p in pids:
            for w in wids:
                create(ctx, "shop", "stock_balance", {"product": p, "warehouse": w, "on_hand": str(ON_HAND)})
    for start in range(0, len(orders), 500):
        with svc.db.write() as session:
            ctx = WriteContext(session, actor, svc.snapshots.get(session), source="seed")
            for w, order_lines in orders[start : start + 500]:
                body = {
                    "warehouse": wids[w],
                    "lines": [{"product": pids[p], "qty": str(q)} for p, q in order_lines],
                }
                ids.append(create(ctx, "shop", "sales_order", body)["id"])
    return Side("lowcode", app, svc.db.engine, token, "/api/data/shop/sales_order/{id}", ids)


def setup_baseline(url: str, products: int, warehouses: int, orders: list) -> Side:
    """The hand-written app with a token and the same records (Core inserts)."""
    app = baseline_confirm.create_confirm_app(url)
    token = baseline_app.create_admin_token(app)
    baseline_confirm.seed(app, products, warehouses, orders, ON_HAND)
    ids = list(range(1, len(orders) + 1))
    return Side("baseline", app, app.extensions["baseline"].engine, token, "/api/orders/{id}", ids)


def measure(sides: list[Side], start: int, count: int, block: int) -> None:
    """Confirm orders ``start .. start+count`` on every side, in alternating blocks."""
    gc.collect()
    done, flip = 0, False
    while done < count:
        n = min(block, count - done)
        for side in reversed(sides) if flip else sides:
            for k in range(start + done, start + done + n):
                side.confirm(k)
        done += n
        flip = not flip


def statements_per_confirm(side: Side, start: int, count: int) -> float:
    """SQL statements sent per confirm (mean over ``count`` more orders)."""
    seen = [0]

    def count_it(*_args):
        seen[0] += 1

    sa.event.listen(side.engine, "before_cursor_execute", count_it)
    try:
        for k in range(start, start + count):
            side.confirm(k, record=False)
    finally:
        sa.event.remove(side.engine, "before_cursor_execute", count_it)
    return seen[0] / count


def check_same_state(lc: Side, bl: Side, confirmed: int, lines: int) -> str:
    """Both apps confirmed the same orders and reserved the same quantities."""
    with lc.engine.connect() as a, bl.engine.connect() as b:
        ours = a.execute(
            sa.text("SELECT count(*) FROM e_shop_sales_order WHERE status = 'confirmed'")
        ).scalar()
        theirs = b.execute(
            sa.select(sa.func.count()).where(baseline_confirm.orders.c.status == "confirmed")
        ).scalar()
        reserved_a = sorted(
            Decimal(r) for r in a.execute(sa.text("SELECT reserved FROM e_shop_stock_balance")).scalars()
        )
        reserved_b = sorted(
            Decimal(r) for r in b.execute(sa.select(baseline_confirm.balances.c.reserved)).scalars()
        )
        ledger_a = a.execute(
            sa.text("SELECT count(*) FROM e_shop_stock_ledger WHERE kind = 'reserve'")
        ).scalar()
        ledger_b = b.execute(sa.select(sa.func.count()).select_from(baseline_confirm.ledger)).scalar()
    if lc.engine.dialect.name == "sqlite":  # a raw SELECT sees ExactDecimal's scaled integers
        reserved_a = [r.scaleb(-3) for r in reserved_a]
    if not (
        ours == theirs == confirmed and ledger_a == ledger_b == confirmed * lines and reserved_a == reserved_b
    ):
        raise SystemExit(f"the apps disagree: confirmed {ours}/{theirs}, ledger {ledger_a}/{ledger_b}")
    return f"both: {confirmed} orders confirmed, {ledger_a} ledger rows, {sum(reserved_a)} reserved in total"


@contextmanager
def databases(kind: str, folder: Path):
    """Two fresh database URLs (platform, baseline) of ``kind``; PostgreSQL ones are dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'lowcode.db'}", f"sqlite:///{folder / 'baseline.db'}"
        return
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    names = [f"lc_bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run(kind: str, folder: Path, args) -> dict[str, Any]:
    """Set up, seed, measure and check on one kind of database; print the table."""
    total = args.orders + WARMUP + COUNTED
    orders = plan(total, args.lines, args.products, args.warehouses)
    with databases(kind, folder) as (lc_url, bl_url):
        t0 = time.perf_counter()
        lc = setup_lowcode(lc_url, args.products, args.warehouses, orders)
        t1 = time.perf_counter()
        bl = setup_baseline(bl_url, args.products, args.warehouses, orders)
        t2 = time.perf_counter()
        sides = [lc, bl]
        for side in sides:
            side.client = side.app.test_client(use_cookies=False)
            for k in range(WARMUP):
                side.confirm(args.orders + k, record=False)
        load = [load_average()]
        t3 = time.perf_counter()
        measure(sides, 0, args.orders, args.block)
        elapsed = time.perf_counter() - t3
        load.append(load_average())
        sql = {s.name: statements_per_confirm(s, args.orders + WARMUP, COUNTED) for s in sides}
        state = check_same_state(lc, bl, total, args.lines)
        for side in sides:
            side.engine.dispose()
    a, b = summarise(lc.samples), summarise(bl.samples)
    cpu = {s.name: sum(s.cpu) / len(s.cpu) / 1e6 for s in sides}
    print(f"\n## {kind}: {args.orders} orders of {args.lines} lines, blocks of {args.block}\n")
    print(f"seeded in {t1 - t0:.1f} s (platform, record service) and {t2 - t1:.1f} s (baseline, Core); measured in "
          f"{elapsed:.1f} s; load average {load[0]} -> {load[1]}; {state}\n")  # fmt: skip
    print(
        "| app | orders | orders/s | lines/s | mean ms | p50 ms | p95 ms | CPU ms/order | SQL statements/order |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for side, s in ((lc, a), (bl, b)):
        print(f"| {side.name} | {s['n']} | {s['ops_s']:.0f} | {s['ops_s'] * args.lines:.0f} | {s['mean']:.2f} | {s['p50']:.2f} "
              f"| {s['p95']:.2f} | {cpu[side.name]:.2f} | {sql[side.name]:.1f} |")  # fmt: skip
    ratios = {"mean": a["mean"] / b["mean"], "p50": a["p50"] / b["p50"], "p95": a["p95"] / b["p95"],
              "cpu": cpu["lowcode"] / cpu["baseline"]}  # fmt: skip
    print("\nratio lowcode / baseline: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
    return {"lowcode": {**a, "cpu_ms": cpu["lowcode"], "sql": sql["lowcode"]},
            "baseline": {**b, "cpu_ms": cpu["baseline"], "sql": sql["baseline"]}, "ratios": ratios,
            "seconds": {"seed_lowcode": t1 - t0, "seed_baseline": t2 - t1, "measure": elapsed}, "load": load}  # fmt: skip


def pg_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    engine = sa.create_engine(PG_ADMIN_URL)
    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as exc:
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="confirming 5-line sales orders: lowcode rules vs hand-written Core"
    )
    parser.add_argument("--orders", type=int, default=1000, help="orders confirmed per app (default 1000)")
    parser.add_argument("--lines", type=int, default=5, help="lines per order (default 5)")
    parser.add_argument("--products", type=int, default=200, help="products (default 200)")
    parser.add_argument("--warehouses", type=int, default=2, help="warehouses (default 2)")
    parser.add_argument("--block", type=int, default=25, help="orders per alternating block (default 25)")
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL, if reachable")
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 orders")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders = min(args.orders, 100)
    if args.lines > args.products:
        parser.error("--lines must not exceed --products")
    print("# lowcode rules benchmark: confirming sales orders\n")
    for key, value in machine().items():
        print(f"- {key}: {value}")
    print(f"- command: python -m bench.bench_rules {' '.join(argv if argv is not None else sys.argv[1:])}")
    folder = Path(tempfile.mkdtemp(prefix="lowcode-bench-rules-"))
    results: dict[str, Any] = {}
    try:
        results["sqlite"] = run("sqlite", folder, args)
        if args.pg:
            why = pg_reachable()
            if why is None:
                results["postgresql"] = run("postgresql", folder, args)
            else:
                print(f"\nPostgreSQL skipped: not reachable at {PG_ADMIN_URL}: {why}")
        process = rss_of()
        print(f"\nbenchmark process: VmRSS {process['VmRSS']:.1f} MiB, peak VmHWM {process['VmHWM']:.1f} MiB")
        if args.json:
            Path(args.json).write_text(
                json.dumps({"args": vars(args), "results": results}, indent=2, default=str)
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
