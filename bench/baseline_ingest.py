"""The yardstick for ``bench/bench_ingest.py``: loading shop orders written by hand with SQLAlchemy Core.

It does per chunk of orders, in one write transaction (``lowcode.core.db.Database``: the same SQLite
settings - WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE`` - and PostgreSQL driver as the platform):

- the idempotency keys claimed with one ``INSERT ... ON CONFLICT DO NOTHING RETURNING``;
- customers, warehouses and products looked up by code / SKU with one ``IN`` query each;
- per order, in a savepoint: the payload read by hand (status code -> ours, the date format, exact
  decimals), the order and its lines inserted (order number from a counter, line amounts, total), the order
  confirmed (version-checked status update), per line a guarded reserve (``UPDATE ... SET reserved = reserved
  + :q WHERE ... AND on_hand - reserved >= :q RETURNING``; no row: the order is rejected and rolled back) and
  the order's progress row (``INSERT``), the customer's open orders and the order's open amount updated, an
  audit row and an outbox row for every record written (order x3, lines, balances, progress, customer),
  and the key's outcome stored.

It has no permissions, workflow, rule engine or run log: that is the work the platform does on top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bench.baseline_app import audit, jsonable, outbox
from lowcode.core.db import WRITE_OPTION, Database
from lowcode.core.types import ExactDecimal

metadata = sa.MetaData()
QTY, MONEY = ExactDecimal(18, 3), ExactDecimal(18, 2)
STATUS = {"WAIT_PAY": "draft", "PAID": "confirmed", "CLOSED": "cancelled"}


def _system(*columns: sa.Column) -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime), sa.Column("created_by", sa.BigInteger),
        sa.Column("updated_at", sa.DateTime), sa.Column("updated_by", sa.BigInteger),
        sa.Column("owner", sa.BigInteger), sa.Column("deleted_at", sa.DateTime),
        *columns,
    ]  # fmt: skip


customers = sa.Table("bi_customer", metadata, *_system(sa.Column("code", sa.String(32), unique=True),
                     sa.Column("open_orders", MONEY)))  # fmt: skip
warehouses = sa.Table("bi_warehouse", metadata, *_system(sa.Column("code", sa.String(32), unique=True)))
products = sa.Table("bi_product", metadata, *_system(sa.Column("sku", sa.String(32), unique=True)))
balances = sa.Table(
    "bi_stock_balance", metadata,
    *_system(sa.Column("product", sa.ForeignKey("bi_product.id")), sa.Column("warehouse", sa.ForeignKey("bi_warehouse.id")),
             sa.Column("on_hand", QTY), sa.Column("reserved", QTY)),
    sa.UniqueConstraint("product", "warehouse"),
)  # fmt: skip
orders = sa.Table(
    "bi_sales_order", metadata,
    *_system(sa.Column("number", sa.String(32), unique=True), sa.Column("external_no", sa.String(64), unique=True),
             sa.Column("customer", sa.ForeignKey("bi_customer.id")), sa.Column("warehouse", sa.ForeignKey("bi_warehouse.id")),
             sa.Column("order_date", sa.Date), sa.Column("delivery_date", sa.Date), sa.Column("status", sa.String(32)),
             sa.Column("total", MONEY), sa.Column("open_amount", MONEY), sa.Column("note", sa.Text)),
)  # fmt: skip
lines = sa.Table(
    "bi_sales_order_line", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("parent_id", sa.ForeignKey("bi_sales_order.id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("product", sa.ForeignKey("bi_product.id")), sa.Column("qty", QTY),
    sa.Column("unit_price", MONEY), sa.Column("amount", MONEY),
)  # fmt: skip
progress = sa.Table(
    "bi_order_progress", metadata,
    *_system(sa.Column("sales_order", sa.ForeignKey("bi_sales_order.id")), sa.Column("product", sa.ForeignKey("bi_product.id")),
             sa.Column("ordered_qty", QTY)),
    sa.UniqueConstraint("sales_order", "product"),
)  # fmt: skip
keys = sa.Table(
    "bi_ingest_key", metadata,
    sa.Column("key", sa.String(200), primary_key=True), sa.Column("status", sa.String(16)),
    sa.Column("record_id", sa.BigInteger),
)  # fmt: skip

RESERVE = (
    sa.update(balances)
    .where(balances.c.product == sa.bindparam("b_product"), balances.c.warehouse == sa.bindparam("b_warehouse"),
           balances.c.on_hand - balances.c.reserved >= sa.bindparam("b_qty", type_=QTY))
    .values(reserved=balances.c.reserved + sa.bindparam("b_qty", type_=QTY), version=balances.c.version + 1,
            updated_at=sa.bindparam("now"))
    .returning(balances.c.id, balances.c.version, balances.c.reserved)
)  # fmt: skip
CONFIRM = (
    sa.update(orders)
    .where(orders.c.id == sa.bindparam("o_id"), orders.c.version == sa.bindparam("o_version"))
    .values(status=sa.bindparam("o_status"), version=orders.c.version + 1)
    .returning(orders.c.version)
)
OPEN_AMOUNT = (
    sa.update(orders)
    .where(orders.c.id == sa.bindparam("o_id"))
    .values(open_amount=sa.bindparam("o_amount", type_=MONEY), version=orders.c.version + 1)
    .returning(orders.c.version)
)
OPEN_ORDERS = (
    sa.update(customers)
    .where(customers.c.id == sa.bindparam("c_id"))
    .values(open_orders=customers.c.open_orders + sa.bindparam("c_amount", type_=MONEY),
            version=customers.c.version + 1)
    .returning(customers.c.version, customers.c.open_orders)
)  # fmt: skip


class Rejected(Exception):
    """An order the loader refuses (unknown code, bad date, short stock): rolled back, answered."""


class HandLoader:
    """Loads shop orders into the ``bi_*`` tables (see the module docstring)."""

    def __init__(self, url: str):
        self.db = Database(url)
        metadata.create_all(self.db.engine)
        audit.metadata.create_all(self.db.engine, tables=[audit, outbox])
        self.engine = self.db.engine.execution_options(**{WRITE_OPTION: True})
        self.numbers = 0

    def seed(self, customer_codes, warehouse_codes, skus, on_hand: Decimal) -> None:
        """Master data and a balance of ``on_hand`` for every product and warehouse (Core inserts)."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        system = {
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "created_by": 1,
            "updated_by": 1,
            "owner": 1,
        }
        with self.engine.begin() as conn:
            conn.execute(
                customers.insert(), [{"code": c, "open_orders": Decimal(0), **system} for c in customer_codes]
            )
            conn.execute(warehouses.insert(), [{"code": c, **system} for c in warehouse_codes])
            conn.execute(products.insert(), [{"sku": s, **system} for s in skus])
            conn.execute(balances.insert(), [{"product": p + 1, "warehouse": w + 1, "on_hand": on_hand,
                                              "reserved": Decimal(0), **system}
                                             for p in range(len(skus)) for w in range(len(warehouse_codes))])  # fmt: skip

    def load_chunk(self, items: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
        """One transaction: each ``(key, payload)`` applied once; answers ``accepted``/``duplicate``/``rejected``."""
        with self.engine.begin() as conn:
            insert = pg_insert(keys) if conn.dialect.name == "postgresql" else sqlite_insert(keys)
            rows = [{"key": k, "status": "pending"} for k, _ in items]
            claimed = set(conn.scalars(insert.values(rows).on_conflict_do_nothing().returning(keys.c.key)))
            ids = self._lookups(conn, [p for k, p in items if k in claimed])
            answers = []
            for key, payload in items:
                if key not in claimed:
                    answers.append("duplicate")
                    continue
                savepoint = conn.begin_nested()
                try:
                    record_id = self._order(conn, payload, ids)
                except Rejected:
                    savepoint.rollback()
                    conn.execute(keys.delete().where(keys.c.key == key))
                    answers.append("rejected")
                    continue
                savepoint.commit()
                conn.execute(
                    keys.update().where(keys.c.key == key).values(status="created", record_id=record_id)
                )
                answers.append("accepted")
        return answers

    @staticmethod
    def _lookups(conn, payloads: list[dict]) -> dict[str, dict[str, int]]:
        wanted = {
            "customer": {p["buyer"]["code"] for p in payloads},
            "warehouse": {p["fulfilment"]["warehouse_code"] for p in payloads},
            "product": {i["sku"] for p in payloads for i in p["items"]},
        }
        tables = {
            "customer": (customers, "code"),
            "warehouse": (warehouses, "code"),
            "product": (products, "sku"),
        }
        out = {}
        for name, (table, by) in tables.items():
            query = sa.select(table.c[by], table.c.id).where(
                table.c[by].in_(wanted[name]), table.c.deleted_at.is_(None)
            )
            out[name] = dict(conn.execute(query).all())
        return out

    def _order(self, conn, payload: dict[str, Any], ids: dict[str, dict[str, int]]) -> int:
        try:
            customer = ids["customer"][payload["buyer"]["code"]]
            warehouse = ids["warehouse"][payload["fulfilment"]["warehouse_code"]]
            status = STATUS[payload["status"]]
            order_date = dt.datetime.strptime(payload["created_at"], "%Y-%m-%d %H:%M:%S").date()
            delivery_date = dt.datetime.strptime(payload["fulfilment"]["promised_date"], "%Y-%m-%d").date()
            rows = [
                (ids["product"][i["sku"]], Decimal(i["quantity"]), Decimal(i["unit_price"]))
                for i in payload["items"]
            ]
        except (KeyError, ValueError, TypeError) as exc:
            raise Rejected(str(exc)) from None
        if any(q <= 0 or p < 0 or q != q.quantize(Decimal("0.001")) or p != p.quantize(Decimal("0.01"))
               for _, q, p in rows):  # fmt: skip
            raise Rejected("bad quantity or price")
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.numbers += 1
        amounts = [round(q * p, 2) for _, q, p in rows]
        total = sum(amounts, Decimal(0))
        order = {"number": f"SO-{order_date:%Y%m}-{self.numbers:05d}", "external_no": payload["order_no"],
                 "customer": customer, "warehouse": warehouse, "order_date": order_date, "delivery_date": delivery_date,
                 "status": "draft", "total": total, "open_amount": Decimal(0), "note": payload.get("buyer_memo"),
                 "version": 1, "created_at": now, "updated_at": now, "created_by": 1, "updated_by": 1, "owner": 1}  # fmt: skip
        order_id = conn.execute(orders.insert().returning(orders.c.id), order).scalar_one()
        line_rows = [{"parent_id": order_id, "position": n, "product": p, "qty": q, "unit_price": u, "amount": a}
                     for n, ((p, q, u), a) in enumerate(zip(rows, amounts, strict=True))]  # fmt: skip
        conn.execute(lines.insert(), line_rows)
        log = [("sales_order", order_id, 1, "create", {k: [None, jsonable(v)] for k, v in order.items()
                                                       if k not in ("created_at", "updated_at")}
                | {"lines": [[None, jsonable(r)] for r in line_rows]})]  # fmt: skip
        if status == "confirmed":
            version = conn.execute(
                CONFIRM, {"o_id": order_id, "o_version": 1, "o_status": status}
            ).scalar_one()
            log.append(("sales_order", order_id, version, "update", {"status": ["draft", status]}))
            for product, qty, _ in rows:
                done = conn.execute(
                    RESERVE, {"b_product": product, "b_warehouse": warehouse, "b_qty": qty, "now": now}
                ).first()
                if done is None:
                    raise Rejected(f"insufficient stock of product {product}")
                log.append(("stock_balance", done.id, done.version, "update",
                            {"reserved": [jsonable(done.reserved - qty), jsonable(done.reserved)]}))  # fmt: skip
                made = {"sales_order": order_id, "product": product, "ordered_qty": qty, "version": 1,
                        "created_at": now, "updated_at": now, "created_by": None, "updated_by": None, "owner": None}  # fmt: skip
                progress_id = conn.execute(progress.insert().returning(progress.c.id), made).scalar_one()
                log.append(("sales_order_progress", progress_id, 1, "create",
                            {"sales_order": [None, order_id], "product": [None, product], "ordered_qty": [None, jsonable(qty)]}))  # fmt: skip
            cust = conn.execute(OPEN_ORDERS, {"c_id": customer, "c_amount": total}).first()
            log.append(("customer", customer, cust.version, "update",
                        {"open_orders": [jsonable(cust.open_orders - total), jsonable(cust.open_orders)]}))  # fmt: skip
            version = conn.execute(OPEN_AMOUNT, {"o_id": order_id, "o_amount": total}).scalar_one()
            log.append(
                ("sales_order", order_id, version, "update", {"open_amount": ["0.00", jsonable(total)]})
            )
        self._write_log(conn, log, now)
        return order_id

    @staticmethod
    def _write_log(conn, log: list[tuple], now: dt.datetime) -> None:
        at = now.replace(tzinfo=dt.UTC)
        conn.execute(audit.insert(), [{"at": at, "entity": e, "record_id": r, "version": v, "action": a, "actor_id": 1,
                                       "actor_name": "shop_api", "source": "ingest", "ip": "", "diff": d,
                                       "schema_version": 1} for e, r, v, a, d in log])  # fmt: skip
        conn.execute(outbox.insert(), [{"created_at": at, "entity": e, "record_id": r, "schema_version": 1,
                                        "kind": "created" if a == "create" else "updated",
                                        "payload": {"id": r, "version": v, "changes": d}} for e, r, v, a, d in log])  # fmt: skip

    def totals(self) -> tuple[int, Decimal]:
        """Confirmed orders and the reserved quantity over all balances."""
        with self.engine.connect() as conn:
            confirmed = conn.scalar(sa.select(sa.func.count()).where(orders.c.status == "confirmed"))
            reserved = sum(conn.scalars(sa.select(balances.c.reserved)), Decimal(0))
        return confirmed, reserved
