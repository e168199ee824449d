"""Spreadsheet import benchmark (issue 15 item 3): 20,000 product rows imported from a CSV file through a sheet
mapping by the import job (upload, then the job runner run synchronously: read, key per row, chunks of 200 rows
in one transaction each, every row through the record service in its own savepoint, results file), next to the
platform's bulk create path (the same 20,000 products POSTed as JSON lists of 500) on a second fresh database,
in one run. Then the same file imported again (every row a duplicate).

SQLite files (WAL, ``synchronous=FULL``), both through Flask's test client in this process. rows/s = rows /
wall seconds; the CPU figure (``time.process_time``) is what one free core would do on a shared machine.

Run from the project root::

    PYTHONPATH=. .venv/bin/python -m bench.bench_import              # 20,000 rows
    PYTHONPATH=. .venv/bin/python -m bench.bench_import --rows 2000

Not part of the test run.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lowcode.app import create_app  # noqa: E402
from lowcode.commands import ensure_admin, migrate_database  # noqa: E402
from lowcode.jobs.runner import JobRunner  # noqa: E402

PASSWORD = "bench-pass-2026"
PER_REQUEST = 500
BUNDLE = {
    "app": {"name": "bench", "label": "Bench"},
    "entities": [{"name": "product", "label": "Product", "title_field": "name", "fields": [
        {"name": "sku", "type": "text", "required": True, "unique": True, "label": {"en": "SKU", "zh-CN": "货号"}},
        {"name": "name", "type": "text", "required": True, "label": {"en": "Name", "zh-CN": "品名"}},
        {"name": "unit", "type": "text", "default": "件", "label": {"en": "Unit", "zh-CN": "单位"}},
        {"name": "barcode", "type": "text", "unique": True, "label": {"en": "Barcode", "zh-CN": "条码"}},
        {"name": "purchase_cost", "type": "money", "label": {"en": "Cost", "zh-CN": "进价"}},
        {"name": "sale_price", "type": "money", "label": {"en": "Price", "zh-CN": "售价"}},
        {"name": "reorder_level", "type": "decimal", "options": {"scale": 3}},
        {"name": "note", "type": "long_text"}]}],
    "mappings": [{"name": "product_sheet", "source": {"kind": "sheet"}, "target": "product",
                  "key": {"source": "货号", "field": "sku"},
                  "fields": [{"field": "sku", "source": "货号", "required": True},
                             {"field": "name", "source": "品名", "required": True},
                             {"field": "unit", "source": "单位"}, {"field": "barcode", "source": "条码"},
                             {"field": "purchase_cost", "source": "进价"}, {"field": "sale_price", "source": "售价"},
                             {"field": "reorder_level", "source": "安全库存"}, {"field": "note", "source": "备注"}]}],
}  # fmt: skip
HEADER = ["货号", "品名", "单位", "条码", "进价", "售价", "安全库存", "备注"]


def product(i: int) -> list[str]:
    """Row ``i`` of the file (the same values the bulk path sends)."""
    return [f"SKU-{i:06d}", f"商品 {i}", "件", f"69{i:011d}", f"{10 + i % 90}.50", f"{20 + i % 90}.90",
            str(i % 50), "批量导入" if i % 7 == 0 else ""]  # fmt: skip


def csv_file(rows: int) -> bytes:
    """The CSV file of ``rows`` products (UTF-8 with BOM, as Excel saves it)."""
    lines = [",".join(HEADER)] + [",".join(product(i)) for i in range(rows)]
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def bulk_item(i: int) -> dict:
    """Product ``i`` as a JSON item of the bulk create."""
    values = dict(zip(["sku", "name", "unit", "barcode", "purchase_cost", "sale_price", "reorder_level", "note"],
                      product(i), strict=True))  # fmt: skip
    return {k: v for k, v in values.items() if v != ""}


def setup(folder: Path):
    """A fresh app with the bench bundle; returns (app, bearer headers)."""
    url = f"sqlite:///{folder / 'bench.db'}"
    migrate_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "ENV": "testing"})
    ensure_admin(app, "admin", PASSWORD)
    client = app.test_client()
    token = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).get_json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/templates/import", json=BUNDLE, headers=headers).status_code == 201
    return app, headers


def run_import(app, headers, content: bytes) -> tuple[float, float, dict]:
    """Upload and run one import to its end; (wall s, CPU s, the job's counts)."""
    client = app.test_client()
    wall, cpu = time.perf_counter(), time.process_time()
    data = {"file": (io.BytesIO(content), "products.csv"), "mapping": "product_sheet", "start": "1"}
    response = client.post(
        "/api/imports/bench/product", data=data, headers=headers, content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.get_json()
    JobRunner(app.extensions["lowcode"]).run_all()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    job = client.get(f"/api/jobs/{response.get_json()['id']}", headers=headers).get_json()
    assert job["status"] == "done", job
    return wall, cpu, job["counts"]


def run_bulk(app, headers, rows: int) -> tuple[float, float]:
    """The same products through the bulk create path; (wall s, CPU s)."""
    client = app.test_client()
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, rows, PER_REQUEST):
        body = [bulk_item(i) for i in range(start, min(start + PER_REQUEST, rows))]
        response = client.post("/api/data/bench/product", json=body, headers=headers)
        assert response.status_code in (200, 201), response.get_json()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args(argv)
    content = csv_file(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "a").mkdir()
        (Path(tmp) / "b").mkdir()
        app_a, headers_a = setup(Path(tmp) / "a")
        app_b, headers_b = setup(Path(tmp) / "b")
        bulk_wall, bulk_cpu = run_bulk(app_b, headers_b, args.rows)
        wall, cpu, counts = run_import(app_a, headers_a, content)
        again_wall, again_cpu, again = run_import(app_a, headers_a, content)
        for app in (app_a, app_b):
            app.extensions["lowcode"].db.dispose()
    n = args.rows
    print(f"{n} product rows, file {len(content) / 1e6:.1f} MB; import counts {counts}; again {again}")
    print("| what | wall s | rows/s | CPU s | rows/s by CPU | vs bulk (rows/s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, w, c in [("bulk create (JSON lists of 500)", bulk_wall, bulk_cpu),
                       ("import job (CSV, sheet mapping)", wall, cpu),
                       ("same file again (all duplicates)", again_wall, again_cpu)]:  # fmt: skip
        print(f"| {name} | {w:.1f} | {n / w:,.0f} | {c:.1f} | {n / c:,.0f} | {bulk_wall / w:.2f}x |")


if __name__ == "__main__":
    main()
