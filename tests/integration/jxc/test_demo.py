"""``lowcode demo`` installs the JXC template with its role users; the generated data set posts through the
rules (a small run here: three styles, two months) and leaves consistent stock and books."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from lowcode.app import create_app
from lowcode.cli import main
from lowcode.demo import run_scenario, scenario_path
from tests.conftest import ApiClient, login
from tests.dbs import fresh_database

JXC = Path(__file__).resolve().parents[3] / "app_templates" / "jxc"


def test_demo_command_then_a_generated_data_set(tmp_path, monkeypatch):
    with fresh_database(tmp_path) as url:
        monkeypatch.setenv("LOWCODE_DATABASE_URL", url)
        monkeypatch.setenv("LOWCODE_SECRET_KEY", "demo-test")
        runner = CliRunner()
        result = runner.invoke(main, ["demo", "--password", "demo-pw-456", "--no-data"])
        assert result.exit_code == 0, result.output
        assert "installed app 'jxc'" in result.output
        for role in ("purchaser", "warehouse", "sales", "finance"):
            assert f"created user '{role}' with role jxc.{role}" in result.output
        again = runner.invoke(main, ["demo", "--password", "demo-pw-456"]).output
        assert "already installed" in again and "kept user 'sales' with role jxc.sales" in again
        assert scenario_path(JXC) is not None

        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "demo-test"})
        summary = run_scenario(
            app, scenario_path(JXC), today=dt.date(2026, 11, 2), months=2, orders_per_day=[0, 1], styles=3
        )
        assert summary.startswith("demo data 2026-09-01 .. 2026-11-02: 30 product, 50 customer")
        client = app.test_client()
        finance = ApiClient(client, login(client, "finance", "demo-pw-456"))
        sales = ApiClient(app.test_client(), login(app.test_client(), "sales", "demo-pw-456"))
        assert sales.get("/api/data/jxc/voucher").status_code == 403
        assert "purchase_cost" not in sales.get("/api/data/jxc/product").get_json()["data"][0]

        def rows(entity):
            return finance.get(f"/api/data/jxc/{entity}?limit=500").get_json()["data"]

        periods = {p["period"]: p["status"] for p in rows("accounting_period")}
        assert periods == {"2026-09": "closed", "2026-10": "open", "2026-11": "open"}
        ledger = rows("stock_ledger")
        for b in rows("stock_balance"):
            moves = [r for r in ledger if (r["product"], r["warehouse"]) == (b["product"], b["warehouse"])]
            assert Decimal(b["on_hand"]) == sum(Decimal(r["qty"]) for r in moves) >= 0
            assert Decimal(b["value"]) == sum(Decimal(r["amount"]) for r in moves)
        shipped = [o for o in rows("sales_order") if o["status"] == "shipped"]
        vouchers = rows("voucher")
        assert shipped and vouchers and all(v["total_debit"] == v["total_credit"] for v in vouchers)
        numbers = sorted(o["number"] for o in rows("sales_order"))
        assert numbers[0].startswith("SO-202609-")  # numbered in the month of the document
        app.extensions["lowcode"].db.dispose()
