"""Lists flat with table size (issue 14, item 2): a filtered, sorted list's page 1 and page 10 at 100,000 and
1,000,000 rows, before and after composite indexes and capped counts, against the same page read by raw SQL
in the same run.

One app per run on a fresh database (SQLite file, or PostgreSQL with ``--backend``): an ``order`` entity
(number, status of 4, order_date over 3 years, customer, amount). The rows are inserted with Core
``executemany`` (set-up only: this measures reads). Then, for each mode:

- ``before``: the entity as the platform had it - ``status`` indexed alone, every first page counted exactly
  (``COUNT_LIMIT`` 0);
- ``after``: the entity declares ``"indexes": [["status", "order_date"]]`` (published through the schema
  plan, which builds the index) and the count stops at ``COUNT_LIMIT`` (10,000).

Each request is ``GET /api/data/bl/order?filter=status=confirmed&sort=-order_date&limit=50`` through Flask's
test client (in-process: the time is the server's), page 1 and then page 10 by following ``next``; ``raw`` is
the same page's SELECT written by hand and run on the same connection pool (no count, no auth, no JSON);
``query`` is the query service's list alone (count and page, record rules, cursor: the database side of the
request, without HTTP, auth and JSON).
Medians of ``--repeat`` rounds. Run from the project root::

    .venv/bin/python -m bench.bench_lists --rows 100000
    .venv/bin/python -m bench.bench_lists --rows 1000000 --backend postgresql

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
STATUSES = ("draft", "confirmed", "shipped", "cancelled")
FIELDS = [
    {"name": "number", "type": "text"},
    {"name": "status", "type": "select", "indexed": True,
     "options": {"choices": [{"value": s} for s in STATUSES]}},
    {"name": "order_date", "type": "date"},
    {"name": "customer", "type": "text"},
    {"name": "amount", "type": "money"},
]  # fmt: skip
ENTITY = {"name": "order", "label": "Order", "title_field": "number", "fields": FIELDS}
URL = '/api/data/bl/order?filter={"field":"status","op":"=","value":"confirmed"}&sort=-order_date&limit=50'


def _token(client) -> dict:
    response = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _table(app) -> sa.Table:
    svc = app.extensions["lowcode"]
    with svc.db.read() as session:
        return svc.snapshots.get(session).entity("bl", "order").table


def fill(app, rows: int, seed: int = 7) -> None:
    """Insert ``rows`` orders with Core executemany, 10,000 a statement."""
    table = _table(app)
    rnd = random.Random(seed)
    start = dt.date(2024, 1, 1)
    with app.extensions["lowcode"].db.write() as session:
        batch = []
        for n in range(rows):
            batch.append(
                {
                    "number": f"SO-{n:07d}",
                    "status": STATUSES[rnd.randrange(4)],
                    "order_date": start + dt.timedelta(days=rnd.randrange(1095)),
                    "customer": f"C{rnd.randrange(5000):04d}",
                    "amount": Decimal(rnd.randrange(1, 10_000_000)) / 100,
                    "version": 1,
                }
            )
            if len(batch) == 10_000:
                session.execute(table.insert(), batch)
                batch = []
        if batch:
            session.execute(table.insert(), batch)


def _raw_pages(app, pages: int) -> list[float]:
    """Seconds of the hand-written SELECT of page 1 and of page ``pages`` (keyset after page ``pages - 1``)."""
    table = _table(app)
    base = (
        sa.select(table)
        .where(table.c.status == "confirmed", table.c.deleted_at.is_(None))
        .order_by(table.c.order_date.desc().nulls_last(), table.c.id.desc().nulls_last())
    )
    times = []
    with app.extensions["lowcode"].db.read() as session:
        started = time.perf_counter()
        session.execute(base.limit(51)).all()
        times.append(time.perf_counter() - started)
        last = session.execute(base.offset(50 * (pages - 1) - 1).limit(1)).one()
        after = base.where(
            sa.or_(
                table.c.order_date < last.order_date,
                sa.and_(table.c.order_date == last.order_date, table.c.id < last.id),
            ),
            table.c.order_date <= last.order_date,
        )
        started = time.perf_counter()
        session.execute(after.limit(51)).all()
        times.append(time.perf_counter() - started)
    return times


def _service_pages(app, pages: int, count_limit: int) -> list[float]:
    """Seconds of the query service's list (count on page 1, then the page) for page 1 and page ``pages``:
    the database side of the request, with the record rules and the keyset cursor, without HTTP and JSON."""
    from lowcode.runtime.context import Actor, WriteContext
    from lowcode.runtime.queries import ListQuery, SortKey

    svc = app.extensions["lowcode"]
    actor = Actor(user_id=1, username="admin", is_admin=True)
    query = ListQuery(
        condition={"field": "status", "op": "=", "value": "confirmed"},
        sort=(SortKey("order_date", True),),
        limit=50,
        count_limit=count_limit,
    )
    times = []
    with svc.db.read() as session:
        ctx = WriteContext(session, actor, svc.snapshots.get(session), source="bench")
        for number in range(1, pages + 1):
            started = time.perf_counter()
            page = svc.queries.list(ctx, "bl", "order", query)
            elapsed = time.perf_counter() - started
            if number in (1, pages):
                times.append(elapsed)
            query = ListQuery(**{**query.__dict__, "after": page.next_cursor, "with_total": False})
    return times


def _api_pages(client, headers, pages: int) -> tuple[list[float], dict]:
    """Seconds of page 1 and page ``pages`` of the list API (following ``next``); the first page's body."""
    times, url, first = [], URL, None
    for number in range(1, pages + 1):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        elapsed = time.perf_counter() - started
        body = response.get_json()
        assert response.status_code == 200, body
        first = first or body
        if number in (1, pages):
            times.append(elapsed)
        url = URL + "&after=" + body["next"]
    return times, first


def _analyze(app) -> None:
    """Statistics for the planner; on PostgreSQL also VACUUM, which sets the visibility map that index-only
    scans need (autovacuum would do it a little later on a real server)."""
    engine = app.extensions["lowcode"].db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
        return
    with app.extensions["lowcode"].db.write() as session:
        session.execute(sa.text("ANALYZE"))


def run(backend: str, url: str, mode: str, args) -> dict:
    """Set up the app in ``mode``, fill it, and time the pages."""
    migrate_database(url)
    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret",
        "COUNT_LIMIT": 0 if mode == "before" else 10_000,
    }
    app = create_app(config)
    ensure_admin(app, "admin", PASSWORD)
    client = app.test_client(use_cookies=False)
    headers = _token(client)
    bundle = {"app": {"name": "bl", "label": "Bench lists"}, "entities": [ENTITY]}
    assert client.post("/api/templates/import", json=bundle, headers=headers).status_code == 201
    started = time.monotonic()
    fill(app, args.rows)
    fill_s = time.monotonic() - started
    if mode == "after":
        indexed = {**ENTITY, "indexes": [["status", "order_date"]]}
        assert (
            client.put("/api/definitions/bl/entity/order", json=indexed, headers=headers).status_code == 200
        )
        started = time.monotonic()
        published = client.post("/api/definitions/bl/entity/order/publish", headers=headers)
        assert published.status_code == 200, published.get_json()
        index_s = time.monotonic() - started
    else:
        index_s = 0.0
    _analyze(app)
    limit = app.extensions["lowcode"].settings["COUNT_LIMIT"]
    api1, api10, svc1, svc10, raw1, raw10, body = [], [], [], [], [], [], {}
    for _ in range(args.repeat):
        (a1, a10), body = _api_pages(client, headers, args.pages)
        s1, s10 = _service_pages(app, args.pages, limit)
        r1, r10 = _raw_pages(app, args.pages)
        api1.append(a1), api10.append(a10), svc1.append(s1), svc10.append(s10)
        raw1.append(r1), raw10.append(r10)
    app.extensions["lowcode"].db.dispose()
    ms = lambda xs: round(statistics.median(xs) * 1000, 2)  # noqa: E731
    return {
        "backend": backend, "mode": mode, "rows": args.rows, "fill_s": round(fill_s, 1),
        "index_s": round(index_s, 1), "total": body.get("total"), "total_exact": body.get("total_exact", True),
        "api1_ms": ms(api1), f"api{args.pages}_ms": ms(api10),
        "query1_ms": ms(svc1), f"query{args.pages}_ms": ms(svc10),
        "raw1_ms": ms(raw1), f"raw{args.pages}_ms": ms(raw10),
    }  # fmt: skip


def _database(backend: str, stack: ExitStack) -> str:
    if backend == "postgresql":
        from tests.dbs import postgres_database

        return stack.enter_context(postgres_database())
    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_lists_"))
    return f"sqlite:///{folder}/bench.db"


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments; one line of figures per backend and mode."""
    parser = argparse.ArgumentParser(description="filtered, sorted list pages against table size")
    parser.add_argument("--rows", type=int, default=100_000, help="orders (default 100,000)")
    parser.add_argument("--pages", type=int, default=10, help="the far page followed (default 10)")
    parser.add_argument("--repeat", type=int, default=15, help="rounds; medians are printed (default 15)")
    parser.add_argument("--only", choices=("before", "after"), help="run one mode only")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        for mode in [args.only] if args.only else ("before", "after"):
            with ExitStack() as stack:
                print(json.dumps(run(backend, _database(backend, stack), mode, args)), flush=True)


if __name__ == "__main__":
    main()
