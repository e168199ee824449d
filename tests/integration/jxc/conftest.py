"""The JXC template installed through the API, its role users signed in, and small helpers."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from lowcode.app import create_app
from lowcode.commands import ensure_admin, ensure_template_users
from lowcode.definitions.templates import load_bundle
from tests.conftest import ADMIN_PASSWORD, ApiClient, login
from tests.dbs import copy_of, fresh_database
from tests.integration.jxc.stages import STAGES

TEMPLATE = Path(__file__).resolve().parents[3] / "app_templates" / "jxc"
PASSWORD = "role-pass-123"
ROLES = ("purchaser", "warehouse", "sales", "finance")


def D(value) -> Decimal:  # noqa: N802 - reads like the figures it checks
    return Decimal(str(value))


@dataclass
class Jxc:
    """Role clients and the ids of a small set of master data."""

    app: object
    admin: ApiClient
    purchaser: ApiClient
    warehouse: ApiClient
    sales: ApiClient
    finance: ApiClient
    wh: dict
    supplier: int
    customer: int
    product: dict
    user_ids: dict

    def url(self, entity: str, record_id: int | None = None) -> str:
        return f"/api/data/jxc/{entity}" + (f"/{record_id}" if record_id is not None else "")

    def create(self, client: ApiClient, entity: str, body: dict) -> dict:
        response = client.post(self.url(entity), json=body)
        assert response.status_code == 201, (entity, response.get_json())
        return response.get_json()

    def get(self, entity: str, record_id: int, client: ApiClient | None = None) -> dict:
        response = (client or self.admin).get(self.url(entity, record_id))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def set_status(self, client: ApiClient, entity: str, record_id: int, status: str, expect: int = 200):
        current = self.get(entity, record_id)
        response = client.patch(
            self.url(entity, record_id), json={"status": status, "version": current["version"]}
        )
        assert response.status_code == expect, (entity, status, response.get_json())
        return response.get_json()

    def rows(
        self, entity: str, cond: dict | None = None, sort: str = "id", client: ApiClient | None = None
    ) -> list:
        out, after = [], None
        while True:
            query = f"?limit=500&sort={sort}" + (f"&filter={json.dumps(cond)}" if cond else "")
            query += f"&after={after}" if after else ""
            body = (client or self.admin).get(self.url(entity) + query).get_json()
            out += body["data"]
            after = body["next"]
            if not after:
                return out

    def balance(self, product: int, warehouse: int) -> dict | None:
        cond = {"all": [{"field": "product", "op": "=", "value": product},
                        {"field": "warehouse", "op": "=", "value": warehouse}]}  # fmt: skip
        found = self.rows("stock_balance", cond)
        return found[0] if found else None

    def ledger(self, doc_type: str, doc_id: int) -> list:
        cond = {"all": [{"field": "doc_type", "op": "=", "value": doc_type},
                        {"field": "doc_id", "op": "=", "value": doc_id}]}  # fmt: skip
        return self.rows("stock_ledger", cond)

    def vouchers(self, source_type: str, number: str) -> list:
        cond = {"all": [{"field": "source_type", "op": "=", "value": source_type},
                        {"field": "source_number", "op": "=", "value": number}]}  # fmt: skip
        return [self.get("voucher", v["id"]) for v in self.rows("voucher", cond)]


def entries(voucher: dict, accounts: dict[int, str]) -> list[tuple[str, str, str]]:
    """A voucher's lines as (account code, debit, credit)."""
    return [(accounts[line["account"]], line["debit"], line["credit"]) for line in voucher["lines"]]


# The name tests written before tests.dbs.copy_of existed import (other branches may still add some).
_copy_of = copy_of


@pytest.fixture(scope="session")
def jxc_seed(tmp_path_factory):
    """Once per test process: the template installed (publishing 170 definitions takes seconds), the role
    users, two warehouses, a supplier, a customer and two products - written through the API as the roles."""
    with fresh_database(tmp_path_factory.mktemp("jxc_seed")) as url:
        application = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret"})
        ensure_admin(application, "admin", ADMIN_PASSWORD)
        client = application.test_client()
        api = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
        response = api.post("/api/templates/import", json=load_bundle(TEMPLATE))
        assert response.status_code == 201, response.get_json()
        ensure_template_users(application, TEMPLATE, PASSWORD)
        roles = {}
        for name in ROLES:
            role_client = application.test_client()
            roles[name] = ApiClient(role_client, login(role_client, name, PASSWORD))
        ids = {"users": {u["username"]: u["id"] for u in api.get("/api/admin/users").get_json()["data"]}}
        cc = {r["code"]: r["id"] for r in api.get("/api/data/jxc/cost_center").get_json()["data"]}
        ids["wh"] = {}
        for code, name in [("WH-SH", "上海总仓"), ("WH-GZ", "广州仓")]:
            body = {"code": code, "name": name, "cost_center": cc["CC-WH"]}
            ids["wh"][code] = api.post("/api/data/jxc/warehouse", json=body).get_json()["id"]
        body = {"code": "S001", "name": "杭州织造"}
        ids["supplier"] = roles["purchaser"].post("/api/data/jxc/supplier", json=body).get_json()["id"]
        body = {"code": "C001", "name": "华联服饰", "salesperson": ids["users"]["sales"]}
        ids["customer"] = roles["sales"].post("/api/data/jxc/customer", json=body).get_json()["id"]
        ids["product"] = {}
        for sku, name, cost, price in [("TS-WHT-M", "纯棉T恤 白 M", "10.00", "29.90"),
                                       ("JN-BLU-32", "牛仔裤 蓝 32", "45.00", "119.00")]:  # fmt: skip
            body = {
                "sku": sku,
                "name": name,
                "purchase_cost": cost,
                "sale_price": price,
                "reorder_level": "20",
            }
            ids["product"][sku] = roles["purchaser"].post("/api/data/jxc/product", json=body).get_json()["id"]
        application.extensions["lowcode"].db.dispose()
        yield url, ids


def _signed_in(application, ids) -> Jxc:
    clients = {}
    for name in ("admin", *ROLES):
        client = application.test_client()
        password = ADMIN_PASSWORD if name == "admin" else PASSWORD
        clients[name] = ApiClient(client, login(client, name, password))
    return Jxc(application, clients["admin"], clients["purchaser"], clients["warehouse"], clients["sales"],
               clients["finance"], ids["wh"], ids["supplier"], ids["customer"], ids["product"], ids["users"])  # fmt: skip


@pytest.fixture(scope="session")
def jxc_stages(jxc_seed, tmp_path_factory):
    """name -> (template url, builder's value), each built on first use and kept for the test process."""
    seed_url, ids = jxc_seed
    built: dict[str, tuple[str, dict]] = {}
    with contextlib.ExitStack() as keep:

        def stage(name: str) -> tuple[str, dict]:
            if name not in built:
                url = keep.enter_context(copy_of(seed_url, tmp_path_factory.mktemp(f"jxc_{name}")))
                application = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret"})
                value = STAGES[name](_signed_in(application, ids))
                application.extensions["lowcode"].db.dispose()
                built[name] = (url, value)
            return built[name]

        yield stage


@pytest.fixture
def app(jxc_seed, jxc_stages, request, tmp_path):
    """The app on a fresh copy of the seed database (overrides the suite's empty-database app); a test using a
    staged fixture starts on a copy of that stage instead."""
    url, _ = jxc_seed
    for name in STAGES:
        if name in request.fixturenames:
            url = jxc_stages(name)[0]
    with copy_of(url, tmp_path) as copy:
        application = create_app({"DATABASE_URL": copy, "SECRET_KEY": "test-secret"})
        yield application
        application.extensions["lowcode"].db.dispose()


@pytest.fixture
def jxc(app, api, jxc_seed) -> Jxc:
    _, ids = jxc_seed
    clients = {}
    for name in ROLES:
        client = app.test_client()
        clients[name] = ApiClient(client, login(client, name, PASSWORD))
    return Jxc(app, api, clients["purchaser"], clients["warehouse"], clients["sales"], clients["finance"], ids["wh"],
               ids["supplier"], ids["customer"], ids["product"], ids["users"])  # fmt: skip


@pytest.fixture
def accounts(jxc) -> dict[int, str]:
    return {a["id"]: a["code"] for a in jxc.rows("account")}
