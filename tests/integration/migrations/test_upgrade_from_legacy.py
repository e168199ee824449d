"""A database made by the code of commit fbe9091 - before migrations existed: system tables by
``create_all``, no version table - is refused by the app, upgraded by ``lowcode migrate``, and then works:
every row is still there, users sign in, an old bearer token works, documents read, write and post.

The database is loaded from a plain SQL dump per dialect (``legacy/``, made by ``legacy/make_dumps.py`` with
that commit's code): the JXC template with its role users, and a purchase order received and posted and a
sales order confirmed through the API.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.pool import NullPool

from lowcode.app import create_app
from lowcode.cli import main
from lowcode.migrations import BASELINE, SchemaOutOfDate
from tests.conftest import ApiClient, login
from tests.dbs import backend, empty_database
from tests.integration.migrations.helpers import row_counts, schema_differences

LEGACY = Path(__file__).resolve().parent / "legacy"
FACTS = json.loads((LEGACY / "fbe9091.json").read_text(encoding="utf-8"))


def load_dump(url: str) -> None:
    """Run the legacy dump of the selected backend into the empty database at ``url``."""
    sql = gzip.decompress((LEGACY / f"fbe9091.{backend()}.sql.gz").read_bytes()).decode()
    if backend() == "sqlite":
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.executescript(sql)
        conn.close()
        return
    engine = sa.create_engine(url, poolclass=NullPool)  # the dump empties search_path: keep it off any pool
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute(sql)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


@pytest.fixture
def legacy_url(tmp_path, monkeypatch):
    """The legacy database, and the CLI's environment pointing at it."""
    with empty_database(tmp_path) as url:
        load_dump(url)
        monkeypatch.setenv("LOWCODE_DATABASE_URL", url)
        monkeypatch.setenv("LOWCODE_SECRET_KEY", "legacy")
        yield url


def test_the_app_refuses_the_legacy_database_until_migrated(legacy_url):
    with pytest.raises(SchemaOutOfDate) as refused:
        create_app({"DATABASE_URL": legacy_url, "SECRET_KEY": "legacy"})
    assert str(refused.value) == (
        "the database schema was created before migrations existed: run `lowcode migrate`"
    )
    assert row_counts(legacy_url, FACTS["counts"]) == FACTS["counts"]  # refusing changed nothing


def test_lowcode_migrate_upgrades_the_legacy_database_and_everything_still_works(legacy_url):
    runner = CliRunner()
    first = runner.invoke(main, ["migrate"])
    assert first.exit_code == 0, first.output
    assert f"recorded the system tables made before migrations as revision {BASELINE}" in first.output
    again = runner.invoke(main, ["migrate"])
    assert again.exit_code == 0 and "the database is up to date" in again.output, again.output

    assert row_counts(legacy_url, FACTS["counts"]) == FACTS["counts"]
    assert schema_differences(legacy_url) == []

    app = create_app({"DATABASE_URL": legacy_url, "SECRET_KEY": "legacy"})
    try:
        _check_behaviour(app)
    finally:
        app.extensions["lowcode"].db.dispose()


def _check_behaviour(app) -> None:
    """Sign-ins, the old token, reads, an update with its version, a create, and a posting through rules."""
    old_token = ApiClient(app.test_client(), FACTS["token"])
    assert old_token.get("/api/auth/me").get_json()["username"] == "admin"
    admin = ApiClient(app.test_client(), login(app.test_client(), "admin", FACTS["admin_password"]))
    role = {}
    for name in ("purchaser", "warehouse", "sales", "finance"):
        client = app.test_client()
        role[name] = ApiClient(client, login(client, name, FACTS["password"]))

    def url(entity, record_id=None):
        return f"/api/data/jxc/{entity}" + (f"/{record_id}" if record_id else "")

    docs, ids = FACTS["documents"], FACTS["ids"]
    po = admin.get(url("purchase_order", docs["purchase_order"]["id"])).get_json()
    assert (po["number"], po["status"], po["total"]) == (
        docs["purchase_order"]["number"],
        "received",
        "1000.00",
    )
    so = admin.get(url("sales_order", docs["sales_order"]["id"])).get_json()
    assert (so["number"], so["status"]) == (docs["sales_order"]["number"], "confirmed")
    (balance,) = admin.get(url("stock_balance")).get_json()["data"]
    assert (balance["on_hand"], balance["reserved"], balance["available"]) == ("100.000", "60.000", "40.000")
    assert [n["title"] for n in role["warehouse"].get("/api/notifications").get_json()["data"]] == [
        f"待发货 Sales order {so['number']} confirmed: ready to ship"
    ]

    supplier = admin.get(url("supplier", ids["supplier"])).get_json()
    renamed = role["purchaser"].patch(
        url("supplier", ids["supplier"]), json={"name": "杭州织造有限公司", "version": supplier["version"]}
    )
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["version"] == supplier["version"] + 1
    body = {"sku": "JN-BLU-32", "name": "牛仔裤 蓝 32", "purchase_cost": "45.00", "sale_price": "119.00"}
    product = role["purchaser"].post(url("product"), json=body)
    assert product.status_code == 201, product.get_json()
    assert product.get_json()["id"] == ids["product"] + 1  # the id sequence carried over

    delivery = role["warehouse"].post(url("delivery"), json={
        "sales_order": so["id"], "customer": ids["customer"], "warehouse": ids["warehouse"],
        "delivery_date": "2026-11-11", "lines": [{"product": ids["product"], "qty": "60", "unit_price": "29.90"}]})  # fmt: skip
    assert delivery.status_code == 201, delivery.get_json()
    posted = role["warehouse"].patch(
        url("delivery", delivery.get_json()["id"]),
        json={"status": "posted", "version": delivery.get_json()["version"]},
    )
    assert posted.status_code == 200, posted.get_json()
    assert admin.get(url("sales_order", so["id"])).get_json()["status"] == "shipped"
    (balance,) = admin.get(url("stock_balance")).get_json()["data"]
    assert (balance["on_hand"], balance["reserved"]) == ("40.000", "0.000")
    vouchers = admin.get(url("voucher")).get_json()["data"]
    assert sorted(v["source_type"] for v in vouchers) == ["delivery", "purchase_receipt"]
