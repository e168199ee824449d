"""Make the legacy fixture dumps: a database built by the code of an earlier commit, before migrations existed
(its system tables made by ``create_all``, no version table), as one plain SQL file per dialect.

Run it with the OLD code on the import path, from a checkout of that commit::

    git worktree add /tmp/lowcode-fbe9091 fbe9091
    cd /tmp/lowcode-fbe9091 && PYTHONPATH=. /work/main/.venv/bin/python \\
        /path/to/tests/integration/migrations/legacy/make_dumps.py /path/to/tests/integration/migrations/legacy

It writes ``fbe9091.sqlite.sql.gz``, ``fbe9091.postgresql.sql.gz`` and ``fbe9091.json`` (the facts the
upgrade test checks: row counts of every table, records, the users' password, a bearer token). The data:
the JXC template with its demo users (``lowcode demo --no-data``), then master data and a few documents
written through the API as the role users - a purchase order approved, received and posted (stock, ledger,
voucher, payable), a sales order confirmed (a reservation, a notification).
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa

from lowcode.app import create_app
from lowcode.auth.users import hash_token
from lowcode.commands import ensure_admin, run_demo
from lowcode.core.models import ApiToken, User

COMMIT = "fbe9091"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ADMIN_PASSWORD = "admin-pass-1"
PASSWORD = "role-pass-123"
TOKEN = "lc_legacy-fixture-token-of-the-administrator"
TEMPLATE_NAMES = ("jxc",)


def build(url: str, template: Path) -> dict:
    """Fill the database at ``url`` with the old code; returns the facts to check after the upgrade."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "legacy", "ENV": "testing"})
    ensure_admin(app, "admin", ADMIN_PASSWORD)
    run_demo(app, template, PASSWORD, with_data=False)
    with app.extensions["lowcode"].db.write() as session:
        admin_id = session.scalar(sa.select(User.id).where(User.username == "admin"))
        session.add(ApiToken(user_id=admin_id, token_hash=hash_token(TOKEN), name="legacy fixture"))

    def client(username, password=PASSWORD):
        c = app.test_client()
        token = c.post("/api/auth/login", json={"username": username, "password": password}).get_json()[
            "token"
        ]
        return c, {"Authorization": f"Bearer {token}"}

    def call(who, method, entity, body=None, record_id=None, status=(200, 201)):
        c, headers = who
        url_ = f"/api/data/jxc/{entity}" + (f"/{record_id}" if record_id else "")
        response = c.open(url_, method=method, json=body, headers=headers)
        assert response.status_code in status, (entity, response.get_json())
        return response.get_json()

    def set_status(who, entity, record_id, status):
        current = call(admin, "GET", entity, record_id=record_id)
        return call(who, "PATCH", entity, {"status": status, "version": current["version"]}, record_id)

    admin = client("admin", ADMIN_PASSWORD)
    purchaser, warehouse, sales = client("purchaser"), client("warehouse"), client("sales")
    users = {
        u["username"]: u["id"] for u in admin[0].get("/api/admin/users", headers=admin[1]).get_json()["data"]
    }
    cc = {r["code"]: r["id"] for r in call(admin, "GET", "cost_center")["data"]}
    wh = call(admin, "POST", "warehouse", {"code": "WH-SH", "name": "上海总仓", "cost_center": cc["CC-WH"]})[
        "id"
    ]
    supplier = call(purchaser, "POST", "supplier", {"code": "S001", "name": "杭州织造"})["id"]
    customer = call(
        sales, "POST", "customer", {"code": "C001", "name": "华联服饰", "salesperson": users["sales"]}
    )["id"]
    ts = call(purchaser, "POST", "product", {"sku": "TS-WHT-M", "name": "纯棉T恤 白 M", "purchase_cost": "10.00",
                                             "sale_price": "29.90", "reorder_level": "20"})["id"]  # fmt: skip
    lines = [{"product": ts, "qty": "100", "unit_price": "10.00"}]
    po = call(purchaser, "POST", "purchase_order", {"supplier": supplier, "warehouse": wh,
                                                    "order_date": "2026-11-02", "lines": lines})  # fmt: skip
    set_status(admin, "purchase_order", po["id"], "approved")
    gr = call(warehouse, "POST", "purchase_receipt", {"purchase_order": po["id"], "supplier": supplier, "warehouse": wh,
                                                      "receipt_date": "2026-11-03", "lines": lines})  # fmt: skip
    set_status(warehouse, "purchase_receipt", gr["id"], "posted")
    so = call(sales, "POST", "sales_order", {"customer": customer, "warehouse": wh, "order_date": "2026-11-10",
                                             "lines": [{"product": ts, "qty": "60", "unit_price": "29.90"}]})  # fmt: skip
    set_status(sales, "sales_order", so["id"], "confirmed")

    with app.extensions["lowcode"].db.read() as session:
        tables = sa.inspect(session.connection()).get_table_names()
        counts = {t: session.scalar(sa.text(f'SELECT count(*) FROM "{t}"')) for t in sorted(tables)}
    app.extensions["lowcode"].db.dispose()
    return {
        "commit": COMMIT,
        "admin_password": ADMIN_PASSWORD,
        "password": PASSWORD,
        "token": TOKEN,
        "users": users,
        "ids": {"warehouse": wh, "supplier": supplier, "customer": customer, "product": ts},
        "documents": {
            name: {"id": doc["id"], "number": doc["number"]}
            for name, doc in (("purchase_order", po), ("purchase_receipt", gr), ("sales_order", so))
        },
        "counts": counts,
    }


def dump_sqlite(path: Path) -> str:
    """Plain SQL of the whole SQLite database."""
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump()) + "\n"
    finally:
        conn.close()


def dump_postgresql(name: str) -> str:
    """``pg_dump`` as INSERT statements, without owners, grants and psql meta-commands (runnable by a driver)."""
    out = subprocess.run(
        ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--no-owner", "--no-privileges", "--inserts", name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    keep = [line for line in out.splitlines() if not line.startswith("\\") and not line.startswith("--")]
    return "\n".join(keep).strip() + "\n"


def main() -> None:
    """Build both databases with the code on the import path and write the fixtures to the given folder."""
    out = Path(sys.argv[1])
    template = Path.cwd() / "app_templates" / "jxc"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "legacy.db"
        facts = build(f"sqlite:///{path}", template)
        sqlite_sql = dump_sqlite(path)
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"lc_legacy_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        pg_facts = build(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", template)
        pg_sql = dump_postgresql(name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    assert pg_facts == facts, "the two dialects must hold the same data"
    (out / f"{COMMIT}.sqlite.sql.gz").write_bytes(gzip.compress(sqlite_sql.encode(), mtime=0))
    (out / f"{COMMIT}.postgresql.sql.gz").write_bytes(gzip.compress(pg_sql.encode(), mtime=0))
    (out / f"{COMMIT}.json").write_text(
        json.dumps(facts, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
