""" "Create from" benchmark (issue 15 item 2): what the offers add to a record page and what a draft costs, on
the JXC template (SQLite file, one process, Flask test client). In one run:

- the sales order page as the warehouse clerk (the Deliver offer worked out: grants, condition, one read of
  the progress rows) next to the same page as the sales role (no create grant on deliveries: no offer read);
- ``GET /api/mappings/jxc/deliver_sales_order/draft-from/<id>`` (source read with its lines, the progress
  rows, the mapping) next to ``GET /api/data/jxc/sales_order/<id>`` (the record with its lines).

Run from the project root::

    PYTHONPATH=. .venv/bin/python -m bench.bench_create_from            # 300 requests each
    PYTHONPATH=. .venv/bin/python -m bench.bench_create_from --requests 100

Not part of the test run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lowcode.app import create_app  # noqa: E402
from lowcode.commands import ensure_admin, ensure_template_users, migrate_database  # noqa: E402
from lowcode.definitions.templates import load_bundle  # noqa: E402

PASSWORD = "bench-pass-2026"


def _client(app, username: str, password: str):
    client = app.test_client()
    token = client.post("/api/auth/login", json={"username": username, "password": password}).get_json()[
        "token"
    ]
    return client, {"Authorization": f"Bearer {token}"}


def _setup(url: str):
    migrate_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "ENV": "testing"})
    ensure_admin(app, "admin", PASSWORD)
    admin, auth = _client(app, "admin", PASSWORD)
    assert (
        admin.post(
            "/api/templates/import", json=load_bundle(ROOT / "app_templates" / "jxc"), headers=auth
        ).status_code
        == 201
    )
    ensure_template_users(app, ROOT / "app_templates" / "jxc", PASSWORD)

    def post(entity, body):
        response = admin.post(f"/api/data/jxc/{entity}", json=body, headers=auth)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    cc = admin.get("/api/data/jxc/cost_center", headers=auth).get_json()["data"][0]["id"]
    wh = post("warehouse", {"code": "WH", "name": "WH", "cost_center": cc})["id"]
    supplier = post("supplier", {"code": "S1", "name": "S1"})["id"]
    customer = post("customer", {"code": "C1", "name": "C1"})["id"]
    products = [post("product", {"sku": f"P{i}", "name": f"P{i}", "purchase_cost": "1", "sale_price": "2"})["id"]
                for i in range(5)]  # fmt: skip
    lines = [{"product": p, "qty": "100", "unit_price": "1"} for p in products]
    gr = post(
        "purchase_receipt",
        {"supplier": supplier, "warehouse": wh, "receipt_date": "2026-11-01", "lines": lines},
    )
    admin.patch(
        f"/api/data/jxc/purchase_receipt/{gr['id']}",
        json={"status": "posted", "version": gr["version"]},
        headers=auth,
    )
    lines = [{"product": p, "qty": "3", "unit_price": "2"} for p in products]
    so = post(
        "sales_order", {"customer": customer, "warehouse": wh, "order_date": "2026-11-02", "lines": lines}
    )
    response = admin.patch(
        f"/api/data/jxc/sales_order/{so['id']}",
        json={"status": "confirmed", "version": so["version"]},
        headers=auth,
    )
    assert response.status_code == 200, response.get_json()
    return app, so["id"]


def _page_client(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303
    return client


def _timed(call, n: int) -> list[float]:
    call()  # warm
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def _show(name: str, times: list[float]) -> float:
    p50 = statistics.median(times) * 1000
    p95 = sorted(times)[int(len(times) * 0.95) - 1] * 1000
    print(f"{name:<58} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms")
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    n = parser.parse_args().requests
    with tempfile.TemporaryDirectory() as tmp:
        app, so = _setup(f"sqlite:///{tmp}/bench.db")
        warehouse, sales = _page_client(app, "warehouse"), _page_client(app, "sales")
        page = f"/a/jxc/sales_order/{so}"
        assert "create-from" in warehouse.get(page).get_data(as_text=True)
        assert "create-from" not in sales.get(page).get_data(as_text=True)
        base = _show("page, sales role (no offer)", _timed(lambda: sales.get(page), n))
        offered = _show("page, warehouse (Deliver offered)", _timed(lambda: warehouse.get(page), n))
        print(f"  ratio {offered / base:.2f}x")
        client, auth = _client(app, "warehouse", PASSWORD)
        draft = f"/api/mappings/jxc/deliver_sales_order/draft-from/{so}"
        assert client.get(draft, headers=auth).status_code == 200
        base = _show(
            "GET /api/data/jxc/sales_order/<id> (5 lines)",
            _timed(lambda: client.get(f"/api/data/jxc/sales_order/{so}", headers=auth), n),
        )
        made = _show(
            "GET .../deliver_sales_order/draft-from/<id> (5 lines)",
            _timed(lambda: client.get(draft, headers=auth), n),
        )
        print(f"  ratio {made / base:.2f}x")
        app.extensions["lowcode"].db.dispose()


if __name__ == "__main__":
    main()
