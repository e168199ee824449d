"""Ingest benchmark (issue 15 item 8): a backlog of shop orders (3 lines each, all paid) ingested through the
JXC template's ``shop_order`` mapping with its reservation rules on, next to a hand-written Core loader
(``bench/baseline_ingest.py``) doing the same work, in the same run.

Per database (SQLite files - WAL, ``synchronous=FULL``, the platform's defaults - and with ``--pg`` fresh
PostgreSQL databases), each on a database of its own with the same master data (200 customers, 2 warehouses,
1,000 products, a balance of 1,000,000 per product and warehouse):

1. ``service``: the ingest service as the view runs it (``lowcode.mappings.ingest.ingest_chunk`` in chunks of
   ``CHUNK`` = 200, one write transaction each) as the demo user ``shop_api`` (role ``integrator``): keys
   claimed, the order mapped (lookups by code once per chunk), created as a draft and confirmed through the
   record service - the workflow, ``sales_order_reserve`` (balances, progress rows), ``sales_order_credit``
   (the customer's open orders), the notification rule, audit and outbox rows;
2. ``http`` (unless ``--no-http``): the same through ``POST /api/integrations/jxc/shop_order/ingest`` with
   ``--batch`` (500) orders per request, bearer token, Flask's test client;
3. ``hand-written``: ``HandLoader.load_chunk`` in chunks of 200.

Each run prints total time, orders/s, the process CPU time and the ratio to the hand-written loader, then
checks every order was accepted and confirmed and the reserved quantities agree. ``--profile FILE`` writes a
cProfile of the service run.

Run from the project root::

    PYTHONPATH=. .venv/bin/python -m bench.bench_ingest                 # 12,000 orders on SQLite
    PYTHONPATH=. .venv/bin/python -m bench.bench_ingest --pg --orders 3000
"""

from __future__ import annotations

import argparse
import cProfile
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.baseline_ingest import HandLoader  # noqa: E402
from bench.bench_api import load_average, machine  # noqa: E402
from bench.bench_rules import databases, pg_reachable  # noqa: E402
from lowcode.app import create_app  # noqa: E402
from lowcode.commands import ensure_admin, ensure_template_users, install_template, migrate_database  # noqa: E402
from lowcode.mappings.ingest import CHUNK, IngestItem, ingest_chunk  # noqa: E402
from lowcode.mappings.service import MappingService  # noqa: E402
from lowcode.runtime.context import Actor, WriteContext  # noqa: E402

TEMPLATE = ROOT / "app_templates" / "jxc"
PASSWORD = "bench-shop-secret-1"
CUSTOMERS = [f"C{i:04d}" for i in range(200)]
WAREHOUSES = ["WH-A", "WH-B"]
SKUS = [f"SKU-{i:05d}" for i in range(1000)]
ON_HAND = Decimal("1000000")


def backlog(n: int) -> list[tuple[str, dict[str, Any]]]:
    """``n`` paid orders of 3 lines as the shop sends them, each with its idempotency key."""
    out = []
    for i in range(n):
        day = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
        payload = {
            "order_no": f"TB-{i:07d}",
            "status": "PAID",
            "created_at": f"{day} {i % 24:02d}:{i % 60:02d}:00",
            "buyer": {"code": CUSTOMERS[i % len(CUSTOMERS)], "nick": f"buyer{i}"},
            "fulfilment": {"warehouse_code": WAREHOUSES[i % 2], "promised_date": day},
            "items": [
                {"sku": SKUS[(i * 3 + j) % len(SKUS)], "quantity": 1 + j, "unit_price": f"{19 + j}.90"}
                for j in range(3)
            ],  # fmt: skip
        }
        out.append((f"{payload['order_no']}:PAID", payload))
    return out


def setup_platform(url: str):
    """The platform with JXC (no demo data), its users, the master data and the stock balances."""
    migrate_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "ENV": "testing"})
    ensure_admin(app, "admin", PASSWORD)
    install_template(app, TEMPLATE, with_demo=False)
    ensure_template_users(app, TEMPLATE, PASSWORD)
    svc = app.extensions["lowcode"]
    create = svc.records.create
    with svc.db.write() as session:
        ctx = WriteContext(session, Actor.system("bench seed"), svc.snapshots.get(session), source="seed")
        for code in CUSTOMERS:
            create(ctx, "jxc", "customer", {"code": code, "name": f"Customer {code}"})
        wids = [create(ctx, "jxc", "warehouse", {"code": c, "name": c})["id"] for c in WAREHOUSES]
        pids = [
            create(ctx, "jxc", "product", {"sku": s, "name": s, "sale_price": "19.90"})["id"] for s in SKUS
        ]
        for p in pids:
            for w in wids:
                create(ctx, "jxc", "stock_balance", {"product": p, "warehouse": w})
        table = ctx.snapshot.entity("jxc", "stock_balance").table
        session.execute(table.update().values(on_hand=ON_HAND, available=ON_HAND))  # seed only: stock on hand
    return app


def shop_actor(app) -> Actor:
    """The demo user ``shop_api`` with its role, as the API resolves it."""
    svc = app.extensions["lowcode"]
    with svc.db.read() as session:
        uid = session.execute(sa.text("SELECT id FROM lc_user WHERE username = 'shop_api'")).scalar_one()
    return Actor(user_id=uid, username="shop_api", roles={"jxc": ("integrator",)})


def run_service(app, items, profile: str | None, statements: list[int] | None = None) -> list[str]:
    """The ingest service in chunks of CHUNK, one write transaction each; ``statements`` (a list) gets one
    entry per SQL statement sent."""
    svc = app.extensions["lowcode"]
    service = MappingService(svc.records, svc.queries, svc.permissions)
    actor = shop_actor(app)
    answers: list[str] = []
    if statements is not None:
        sa.event.listen(svc.db.engine, "before_cursor_execute", lambda *_: statements.append(1))
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    for start in range(0, len(items), CHUNK):
        chunk = [IngestItem(start + n, k, p) for n, (k, p) in enumerate(items[start : start + CHUNK])]
        with svc.db.write() as session:
            ctx = WriteContext(session, actor, svc.snapshots.get(session), source="ingest:shop_order")
            mapping = ctx.snapshot.mapping("jxc", "shop_order")
            answers += [a["status"] for a in ingest_chunk(ctx, service, mapping, chunk)]
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return answers


def run_http(app, items, batch: int) -> list[str]:
    """``POST /api/integrations/jxc/shop_order/ingest`` with ``batch`` orders per request."""
    client = app.test_client(use_cookies=False)
    token = client.post("/api/auth/login", json={"username": "shop_api", "password": PASSWORD}).get_json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    answers: list[str] = []
    for start in range(0, len(items), batch):
        body = {"items": [{"idempotency_key": k, "data": p} for k, p in items[start : start + batch]]}
        response = client.post("/api/integrations/jxc/shop_order/ingest", json=body, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.get_data(as_text=True)[:400]}")
        answers += [a["status"] for a in response.get_json()["data"]]
    return answers


def run_hand(loader: HandLoader, items) -> list[str]:
    """The hand-written loader in chunks of CHUNK."""
    answers: list[str] = []
    for start in range(0, len(items), CHUNK):
        answers += loader.load_chunk(items[start : start + CHUNK])
    return answers


def platform_totals(app) -> tuple[int, Decimal]:
    """Confirmed orders and the reserved quantity over all balances."""
    svc = app.extensions["lowcode"]
    with svc.db.read() as session:
        snapshot = svc.snapshots.get(session)
        orders = snapshot.entity("jxc", "sales_order").table
        balances = snapshot.entity("jxc", "stock_balance").table
        confirmed = session.scalar(sa.select(sa.func.count()).where(orders.c.status == "confirmed"))
        reserved = sum(session.scalars(sa.select(balances.c.reserved)), Decimal(0))
    return confirmed, reserved


def timed(step) -> tuple[Any, float, float]:
    """``step()``'s result, wall seconds and process CPU seconds."""
    c0, t0 = time.process_time(), time.perf_counter()
    result = step()
    return result, time.perf_counter() - t0, time.process_time() - c0


def run(kind: str, folder: Path, args) -> None:
    """All runs on one kind of database; print the table."""
    items = backlog(args.orders)
    rows, totals = [], {}
    with databases(kind, folder / "a") as (svc_url, hand_url), databases(kind, folder / "b") as (http_url, _):
        loader = HandLoader(hand_url)
        loader.seed(CUSTOMERS, WAREHOUSES, SKUS, ON_HAND)
        loads = [load_average()]
        answers, wall, cpu = timed(lambda: run_hand(loader, items))
        rows.append(("hand-written (Core), chunks of 200", answers, wall, cpu))
        totals["hand-written"] = loader.totals()
        loader.db.dispose()
        app = setup_platform(svc_url)
        sent: list[int] | None = [] if args.statements else None
        answers, wall, cpu = timed(lambda: run_service(app, items, args.profile, sent))
        rows.append(("lowcode ingest service, chunks of 200", answers, wall, cpu))
        totals["service"] = platform_totals(app)
        app.extensions["lowcode"].db.dispose()
        if not args.no_http:
            app = setup_platform(http_url)
            answers, wall, cpu = timed(lambda: run_http(app, items, args.batch))
            rows.append((f"lowcode HTTP POST, {args.batch} per request", answers, wall, cpu))
            totals["http"] = platform_totals(app)
            app.extensions["lowcode"].db.dispose()
        loads.append(load_average())
    print(f"\n## {kind}: {args.orders} orders x 3 lines, load average {loads[0]} -> {loads[1]}\n")
    print("| run | orders | accepted | total s | orders/s | CPU s | ratio time | ratio CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base_wall, base_cpu = rows[0][2], rows[0][3]
    for name, answers, wall, cpu in rows:
        accepted = sum(a == "accepted" for a in answers)
        print(f"| {name} | {len(answers)} | {accepted} | {wall:.1f} | {len(answers) / wall:.0f} | {cpu:.1f} "
              f"| {wall / base_wall:.1f}x | {cpu / base_cpu:.1f}x |")  # fmt: skip
    if sent is not None:
        print(f"\nSQL statements of the service run: {len(sent)}, {len(sent) / args.orders:.1f} per order")
    expected = (args.orders, Decimal(6 * args.orders))
    wrong = {k: v for k, v in totals.items() if (v[0], v[1]) != expected}
    print(f"\ncheck: every run confirmed {expected[0]} orders and reserved {expected[1]}" if not wrong
          else f"\nCHECK FAILED: expected {expected}, got {wrong}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ingesting shop orders: lowcode mapping + rules vs Core")
    parser.add_argument("--orders", type=int, default=12_000, help="orders in the backlog (default 12,000)")
    parser.add_argument("--batch", type=int, default=500, help="orders per HTTP request (default 500)")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP run")
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL, if reachable")
    parser.add_argument("--pg-only", action="store_true", help="only on PostgreSQL")
    parser.add_argument("--profile", help="write a cProfile of the service run to this file")
    parser.add_argument("--statements", action="store_true", help="count the service run's SQL statements")
    args = parser.parse_args(argv)
    print("# lowcode ingest benchmark: shop orders through the JXC shop_order mapping\n")
    for key, value in machine().items():
        print(f"- {key}: {value}")
    print(f"- command: python -m bench.bench_ingest {' '.join(argv if argv is not None else sys.argv[1:])}")
    folder = Path(tempfile.mkdtemp(prefix="lowcode-bench-ingest-"))
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    try:
        if not args.pg_only:
            run("sqlite", folder, args)
        if args.pg or args.pg_only:
            why = pg_reachable()
            if why is None:
                run("postgresql", folder, args)
            else:
                print(f"\nPostgreSQL skipped: {why}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
