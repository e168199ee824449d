"""Report export (issue 16 item 5): what writing a run as CSV or XLSX costs over the run itself, on a report of
5000 groups (the most a run shows) - sum of order-line amounts by warehouse and day over the order lines of
bench_reports.py. Prints medians in ms and the ratios to the run in the same process.

    .venv/bin/python -m bench.bench_report_export --lines 100000 --repeat 5 --backend sqlite
"""

from __future__ import annotations

import argparse
import json
import statistics
from contextlib import ExitStack

from bench.bench_reports import BUNDLE, PASSWORD, REPORT, _database, _timed, fill
from lowcode.app import create_app
from lowcode.commands import ensure_admin, migrate_database

BY_DAY = {
    **REPORT,
    "name": "by_wh_day",
    "dimensions": [REPORT["dimensions"][0], {**REPORT["dimensions"][1], "bucket": "day"}],
    "totals": True,
}


def run(backend: str, url: str, args) -> dict:
    """Set up, fill, then time the run alone and the run written as each format."""
    from lowcode.reports.export_files import write_table
    from lowcode.reports.export_service import ReportExportService
    from lowcode.reports.service import ReportService
    from lowcode.runtime.context import Actor, WriteContext

    migrate_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret"})
    ensure_admin(app, "admin", PASSWORD)
    client = app.test_client(use_cookies=False)
    token = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).get_json()[
        "token"
    ]
    bundle = {**BUNDLE, "reports": [BY_DAY]}
    response = client.post("/api/templates/import", json=bundle, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    fill(app, args.lines)
    svc = app.extensions["lowcode"]
    exports = ReportExportService(ReportService(svc.permissions))
    actor = Actor(user_id=1, username="admin", is_admin=True)
    times: dict[str, list[float]] = {"run": [], "csv": [], "xlsx": []}
    rows = 0
    for _ in range(args.repeat):
        with svc.db.read() as session:
            ctx = WriteContext(session, actor, svc.snapshots.get(session), source="bench")
            report = exports.prepare(ctx, "br", "by_wh_day")
            times["run"].append(_timed(lambda c=ctx, r=report: exports.run(c, r, {}, "en")))
            for fmt in ("csv", "xlsx"):
                times[fmt].append(
                    _timed(lambda c=ctx, r=report, f=fmt: write_table(exports.run(c, r, {}, "en").table, f))
                )
            rows = len(exports.run(ctx, report, {}, "en").table.rows)
    svc.db.dispose()
    ms = lambda xs: round(statistics.median(xs) * 1000, 1)  # noqa: E731
    out = {"backend": backend, "lines": args.lines, "rows": rows}
    out.update({f"{k}_ms": ms(v) for k, v in times.items()})
    out["csv/run"] = round(out["csv_ms"] / out["run_ms"], 2)
    out["xlsx/run"] = round(out["xlsx_ms"] / out["run_ms"], 2)
    return out


def main(argv: list[str] | None = None) -> None:
    """Run on the chosen backends and print one JSON line each."""
    parser = argparse.ArgumentParser(description="report export cost over the run itself")
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = parser.parse_args(argv)
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        with ExitStack() as stack:
            print(json.dumps(run(backend, _database(backend, stack), args)))


if __name__ == "__main__":
    main()
