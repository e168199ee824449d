"""Reports as SQL (issue 16 items 1-2, 4 and 7): a grouped report - sum of amount by warehouse and month over order
lines (the warehouse reached through the line's order) - against the same GROUP BY written by hand, in the same
run; and what totals + subtotals cost (further GROUP BYs with the same WHERE, the design's choice) next to
one statement with ``GROUPING SETS`` on PostgreSQL.

One app per run on a fresh database (SQLite file, or PostgreSQL with ``--backend``): ``warehouse`` (8),
``order`` (warehouse link, order_date over 2 years, status), ``order_line`` (child: qty, amount). Rows are
inserted with Core ``executemany`` (set-up only: this measures reads). Timed, medians of ``--repeat`` rounds:

- ``raw``: the hand-written SELECT (joins, deleted rows out, month bucket, SUM) on the same pool;
- ``report``: ``ReportService.run`` as an administrator, no totals (one GROUP BY; the service's work included);
- ``cold``: the same through the result cache (``CachedReportService``) emptied first: the cache key (the
  run's SQL compiled), the change counters read, the run, the result copied in;
- ``cached``: the same again, answered by the cache (authorization, key, one counter SELECT, a copy out);
- ``totals``: the same with totals and subtotals (three GROUP BYs);
- ``api``: ``GET /api/reports/...`` with totals and subtotals through Flask's test client (HTTP, JSON; the
  app's result cache answers from the second round on - ``api_first`` is the first round, a miss);
- ``sets`` (PostgreSQL only): rows, subtotals and total as one ``GROUPING SETS`` statement written by hand.

Run from the project root::

    .venv/bin/python -m bench.bench_reports                       # 1,000,000 lines, SQLite
    .venv/bin/python -m bench.bench_reports --pg                  # the same on PostgreSQL

Not part of the test run (pytest collects ``tests/`` only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("LOWCODE_ENV", "testing")

from lowcode.app import create_app  # noqa: E402
from lowcode.commands import ensure_admin, migrate_database  # noqa: E402

PASSWORD = "bench-pass-2026"
LINES_PER_ORDER = 4
REPORT = {
    "name": "by_wh_month",
    "source": "order_line",
    "dimensions": [
        {"name": "warehouse", "field": "parent.warehouse.name"},
        {"name": "month", "field": "parent.order_date", "bucket": "month"},
    ],
    "measures": [{"name": "amount", "agg": "sum", "field": "amount"}],
    "totals": False,
}
BUNDLE = {
    "app": {"name": "br", "label": "Bench reports"},
    "entities": [
        {"name": "warehouse", "label": "Warehouse", "title_field": "name", "fields": [{"name": "name", "type": "text"}]},
        {"name": "order", "label": "Order", "fields": [
            {"name": "warehouse", "type": "link", "options": {"entity": "warehouse"}},
            {"name": "order_date", "type": "date"},
            {"name": "status", "type": "select", "options": {"choices": [{"value": "draft"}, {"value": "confirmed"}]}},
            {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}}]},
        {"name": "order_line", "label": "Line", "child": True, "fields": [
            {"name": "qty", "type": "decimal", "options": {"scale": 3}},
            {"name": "amount", "type": "money"}]},
    ],
    "reports": [REPORT, {**REPORT, "name": "with_totals", "totals": True, "subtotals": True}],
}  # fmt: skip


def _tables(app) -> dict[str, sa.Table]:
    svc = app.extensions["lowcode"]
    with svc.db.read() as session:
        snap = svc.snapshots.get(session)
        return {n: snap.entity("br", n).table for n in ("warehouse", "order", "order_line")}


def fill(app, lines: int, seed: int = 7) -> None:
    """8 warehouses, ``lines / 4`` orders of 4 lines each, with Core executemany."""
    t = _tables(app)
    rnd = random.Random(seed)
    start = dt.date(2025, 1, 1)
    with app.extensions["lowcode"].db.write() as session:
        session.execute(
            t["warehouse"].insert(), [{"id": i, "name": f"WH-{i}", "version": 1} for i in range(1, 9)]
        )
        orders, rows = [], []
        for n in range(1, lines // LINES_PER_ORDER + 1):
            orders.append({"id": n, "version": 1, "warehouse": rnd.randrange(1, 9), "status": "confirmed",
                           "order_date": start + dt.timedelta(days=rnd.randrange(730))})  # fmt: skip
            for i in range(LINES_PER_ORDER):
                rows.append({"parent_id": n, "idx": i, "version": 1, "qty": Decimal(rnd.randrange(1, 50)),
                             "amount": Decimal(rnd.randrange(1, 1_000_000)) / 100})  # fmt: skip
            if len(rows) >= 20_000:
                session.execute(t["order"].insert(), orders)
                session.execute(t["order_line"].insert(), rows)
                orders, rows = [], []
        if orders:
            session.execute(t["order"].insert(), orders)
            session.execute(t["order_line"].insert(), rows)


def _raw(app, dialect: str, sets: bool = False):
    t = _tables(app)
    line, order, wh = t["order_line"], t["order"], t["warehouse"]
    if dialect == "postgresql":
        month = sa.func.to_char(order.c.order_date, sa.literal_column("'YYYY-MM'"))
    else:
        month = sa.func.strftime(sa.literal_column("'%Y-%m'"), order.c.order_date)
    stmt = (
        sa.select(wh.c.name, month, sa.func.sum(line.c.amount))
        .select_from(
            line.join(order, order.c.id == line.c.parent_id).outerjoin(wh, wh.c.id == order.c.warehouse)
        )
        .where(line.c.deleted_at.is_(None), order.c.deleted_at.is_(None))
    )
    if sets:
        grouping = sa.text("GROUPING SETS ((1, 2), (1), ())")
        return stmt.group_by(grouping)
    return stmt.group_by(wh.c.name, month).order_by(wh.c.name, month)


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(backend: str, url: str, args) -> dict:
    """Set up, fill, and time each way."""
    from lowcode.reports.cache import CachedReportService, ReportCache
    from lowcode.reports.service import ReportService
    from lowcode.runtime.context import Actor, WriteContext

    migrate_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret"})
    ensure_admin(app, "admin", PASSWORD)
    client = app.test_client(use_cookies=False)
    token = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).get_json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/templates/import", json=BUNDLE, headers=headers).status_code == 201
    fill_s = _timed(lambda: fill(app, args.lines))
    svc = app.extensions["lowcode"]
    dialect = svc.db.engine.dialect.name
    with svc.db.write() as session:
        session.execute(sa.text("ANALYZE"))
    service = ReportService(svc.permissions)
    cache = ReportCache()
    cached_service = CachedReportService(svc.permissions, cache)
    actor = Actor(user_id=1, username="admin", is_admin=True)
    keys = ("raw", "report", "cold", "cached", "totals", "api", "sets")
    times: dict[str, list[float]] = {k: [] for k in keys}
    first_api = _timed(lambda: client.get("/api/reports/br/with_totals", headers=headers))
    for _ in range(args.repeat):
        with svc.db.read() as session:
            times["raw"].append(_timed(lambda: session.execute(_raw(app, dialect)).all()))
            if dialect == "postgresql":
                times["sets"].append(_timed(lambda: session.execute(_raw(app, dialect, sets=True)).all()))
            ctx = WriteContext(session, actor, svc.snapshots.get(session), source="bench")
            times["report"].append(_timed(lambda c=ctx: service.run(c, "br", "by_wh_month", {})))
            cache.clear()
            times["cold"].append(_timed(lambda c=ctx: cached_service.run(c, "br", "by_wh_month", {})))
            times["cached"].append(_timed(lambda c=ctx: cached_service.run(c, "br", "by_wh_month", {})))
            times["totals"].append(_timed(lambda c=ctx: service.run(c, "br", "with_totals", {})))
        times["api"].append(_timed(lambda: client.get("/api/reports/br/with_totals", headers=headers)))
    with svc.db.read() as session:
        ctx = WriteContext(session, actor, svc.snapshots.get(session), source="bench")
        result = service.run(ctx, "br", "with_totals", {})
        raw_rows = session.execute(_raw(app, dialect)).all()
    plain = [r for r in result.rows if r.level == "row"]
    assert [(r.values["warehouse"], r.values["month"], r.values["amount"]) for r in plain] == [
        tuple(r) for r in raw_rows
    ]
    svc.db.dispose()
    ms = lambda xs: round(statistics.median(xs) * 1000, 1) if xs else None  # noqa: E731
    out = {"backend": backend, "lines": args.lines, "groups": len(plain), "statements": result.statements}
    out.update({f"{k}_ms": ms(v) for k, v in times.items()})
    out["api_first_ms"] = round(first_api * 1000, 1)
    out["fill_s"] = round(fill_s, 1)
    out["report/raw"] = round(out["report_ms"] / out["raw_ms"], 2)
    out["cold/raw"] = round(out["cold_ms"] / out["raw_ms"], 2)
    out["cache_hits"] = cache.stats.hits
    return out


def _database(backend: str, stack: ExitStack) -> str:
    if backend == "postgresql":
        from tests.dbs import postgres_database

        return stack.enter_context(postgres_database())
    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_reports_"))
    return f"sqlite:///{folder}/bench.db"


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments; one line of figures per backend."""
    parser = argparse.ArgumentParser(description="a grouped report against the same GROUP BY by hand")
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=7, help="rounds; medians are printed (default 7)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--pg", action="store_const", const="postgresql", dest="backend", help="PostgreSQL")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with ExitStack() as stack:
            print(json.dumps(run(backend, _database(backend, stack), args)), flush=True)
    if "postgresql" in backends:
        from tests.dbs import GRAVEYARD

        GRAVEYARD.flush()  # drop the run's database before the interpreter shuts its thread pools


if __name__ == "__main__":
    main()
