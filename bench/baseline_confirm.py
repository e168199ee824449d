"""The yardstick for ``bench/bench_rules.py``: confirming a sales order, written by hand (Flask + SQLAlchemy Core).

``PATCH /api/orders/<id>`` with ``{"status": "confirmed"}`` and ``If-Match`` does by hand what the platform does
with the stock app's rules (``needs_lines`` and ``reserve_on_confirm``), in one write transaction:

- bearer-token auth (``bench.baseline_app``'s token and user tables and check);
- the order read, the version checked (409 naming the fields changed since), the status validated;
- its lines read; no lines -> 422 "Order ... has no lines";
- the version-checked status update (``... WHERE id = :id AND version = :v``);
- per line, a guarded reserve (``UPDATE stock_balance SET reserved = reserved + :q, version = version + 1 WHERE
  product = :p AND warehouse = :w AND on_hand - reserved >= :q RETURNING ...``; no row -> 422 with the product
  and the shortfall, everything rolled back) and a ledger insert;
- an audit row (before/after diff) and an outbox row for every record written: the order, 5 balances,
  5 ledger entries.

It writes no rule-run log (that is a platform feature the hand-written code does not have). Tables are
created with ``metadata.create_all``; quantities are exact decimals (``ExactDecimal``, scale 3).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify

from bench.baseline_app import (
    ApiError,
    _authenticate,
    _if_match,
    _json_body,
    audit,
    jsonable,
    outbox,
    tokens,
    users,
)
from lowcode.core.db import WRITE_OPTION, Database
from lowcode.core.types import ExactDecimal

STATUSES = ("draft", "confirmed", "cancelled")
metadata = sa.MetaData()


def _system(*columns: sa.Column) -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime), sa.Column("created_by", sa.BigInteger),
        sa.Column("updated_at", sa.DateTime), sa.Column("updated_by", sa.BigInteger),
        sa.Column("owner", sa.BigInteger), sa.Column("deleted_at", sa.DateTime),
        *columns,
    ]  # fmt: skip


products_t = sa.Table("bc_product", metadata, *_system(sa.Column("sku", sa.String(255), unique=True)))
warehouses_t = sa.Table("bc_warehouse", metadata, *_system(sa.Column("code", sa.String(255), unique=True)))
balances = sa.Table(
    "bc_stock_balance", metadata,
    *_system(sa.Column("product", sa.ForeignKey("bc_product.id")), sa.Column("warehouse", sa.ForeignKey("bc_warehouse.id")),
             sa.Column("on_hand", ExactDecimal(18, 3)), sa.Column("reserved", ExactDecimal(18, 3))),
    sa.UniqueConstraint("product", "warehouse"),
)  # fmt: skip
ledger = sa.Table(
    "bc_stock_ledger", metadata,
    *_system(sa.Column("product", sa.ForeignKey("bc_product.id")), sa.Column("warehouse", sa.ForeignKey("bc_warehouse.id")),
             sa.Column("kind", sa.String(255)), sa.Column("qty", ExactDecimal(18, 3)), sa.Column("order_id", sa.BigInteger)),
)  # fmt: skip
orders = sa.Table(
    "bc_sales_order", metadata,
    *_system(sa.Column("number", sa.String(255), unique=True), sa.Column("warehouse", sa.ForeignKey("bc_warehouse.id")),
             sa.Column("status", sa.String(64)), sa.Column("note", sa.Text)),
)  # fmt: skip
lines = sa.Table(
    "bc_order_line", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("parent_id", sa.ForeignKey("bc_sales_order.id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("product", sa.ForeignKey("bc_product.id")), sa.Column("qty", ExactDecimal(18, 3)),
)  # fmt: skip

ORDER_UPDATE = (
    sa.update(orders)
    .where(orders.c.id == sa.bindparam("key_id"), orders.c.version == sa.bindparam("key_version"))
    .values(status=sa.bindparam("new_status"), version=orders.c.version + 1,
            updated_at=sa.bindparam("now"), updated_by=sa.bindparam("user_id"))
    .returning(*orders.c)
)  # fmt: skip
RESERVE = (
    sa.update(balances)
    .where(balances.c.product == sa.bindparam("b_product"), balances.c.warehouse == sa.bindparam("b_warehouse"),
           balances.c.deleted_at.is_(None),
           balances.c.on_hand - balances.c.reserved >= sa.bindparam("b_qty", type_=ExactDecimal(18, 3)))
    .values(reserved=balances.c.reserved + sa.bindparam("b_qty", type_=ExactDecimal(18, 3)),
            version=balances.c.version + 1, updated_at=sa.bindparam("now"), updated_by=sa.bindparam("user_id"))
    .returning(balances.c.id, balances.c.version, balances.c.reserved)
)  # fmt: skip
LEDGER_INSERT = ledger.insert().returning(ledger.c.id)
AUDIT_INSERT, OUTBOX_INSERT = audit.insert(), outbox.insert()
SELECT_LINES = sa.select(lines.c.id, lines.c.product, lines.c.qty).where(
    lines.c.parent_id == sa.bindparam("order_id")
)
SELECT_LINES = SELECT_LINES.order_by(lines.c.position)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _order_json(row: Any, rows: list[Any]) -> dict[str, Any]:
    out = {k: (v.isoformat() + "Z" if isinstance(v, dt.datetime) else v) for k, v in row.items()}
    out["lines"] = [{"id": r.id, "product": r.product, "qty": jsonable(r.qty)} for r in rows]
    return out


bp = Blueprint("baseline_confirm", __name__, url_prefix="/api/orders")


@bp.patch("/<int:order_id>")
def update_order(order_id: int):
    """Change an order's status; draft -> confirmed reserves the stock of every line or refuses."""
    body = _json_body()
    expected = _if_match()
    status = body.get("status")
    if set(body) - {"status"} or status not in STATUSES:
        raise ApiError(422, "validation_failed", "Some fields are not valid", {"status": ["Must be one of: " + ", ".join(STATUSES) + "."]})  # fmt: skip
    if expected is None:
        raise ApiError(428, "precondition_required", "The version being edited is required (If-Match)")
    engine = current_app.extensions["baseline_write_engine"]
    with engine.begin() as conn:
        user = _authenticate(conn, writing=True)
        current = conn.execute(sa.select(orders).where(orders.c.id == order_id, orders.c.deleted_at.is_(None))).mappings().first()  # fmt: skip
        if current is None:
            raise ApiError(404, "not_found", f"No sales_order record with id {order_id}")
        if expected != current["version"]:
            raise ApiError(409, "version_conflict", f"Record {order_id} was changed by someone else",
                           changed=_changed_since(conn, current, expected))  # fmt: skip
        rows = conn.execute(SELECT_LINES, {"order_id": order_id}).all()
        now, aware, uid = _utcnow(), dt.datetime.now(dt.UTC), user["user_id"]
        confirming = current["status"] == "draft" and status == "confirmed"
        if confirming and not rows:
            raise ApiError(422, "refused", f"Order {current['number']} has no lines")
        stored = conn.execute(ORDER_UPDATE, {"key_id": order_id, "key_version": expected, "new_status": status,
                                             "now": now, "user_id": uid}).mappings().first()  # fmt: skip
        if stored is None:
            raise ApiError(409, "version_conflict", f"Record {order_id} was changed by someone else")
        log = _Log(conn, user, aware)
        if confirming:
            for line in rows:
                _reserve(conn, log, current, line, now, uid)
        if current["status"] != status:
            log.write(
                "sales_order", order_id, stored["version"], "update", {"status": [current["status"], status]}
            )
    response = jsonify(_order_json(stored, rows))
    response.headers["ETag"] = f'"{stored["version"]}"'
    return response


def _changed_since(conn, current, expected: int) -> dict[str, Any]:
    diffs = conn.scalars(sa.select(audit.c.diff).where(audit.c.entity == "sales_order", audit.c.record_id == current["id"],
                                                       audit.c.version > expected))  # fmt: skip
    names = sorted({name for d in diffs for name in (d or {})} & {"warehouse", "status", "note"})
    return {n: jsonable(current[n]) for n in names}


def _reserve(conn, log: _Log, order, line, now: dt.datetime, uid: int) -> None:
    params = {
        "b_product": line.product,
        "b_warehouse": order["warehouse"],
        "b_qty": line.qty,
        "now": now,
        "user_id": uid,
    }
    done = conn.execute(RESERVE, params).first()
    if done is None:
        stock = conn.execute(sa.select(balances.c.on_hand, balances.c.reserved).where(
            balances.c.product == line.product, balances.c.warehouse == order["warehouse"])).first()  # fmt: skip
        if stock is None:
            raise ApiError(422, "refused", f"No stock of product {line.product} in this warehouse")
        short = line.qty - (stock.on_hand - stock.reserved)
        raise ApiError(
            422, "refused", f"Not enough stock of product {line.product}: short by {jsonable(short)}"
        )
    log.write("stock_balance", done.id, done.version, "update", {"reserved": [jsonable(done.reserved - line.qty), jsonable(done.reserved)]})  # fmt: skip
    entry = {"product": line.product, "warehouse": order["warehouse"], "kind": "reserve", "qty": line.qty,
             "order_id": order["id"], "version": 1, "created_at": now, "updated_at": now, "created_by": uid,
             "updated_by": uid, "owner": uid}  # fmt: skip
    ledger_id = conn.execute(LEDGER_INSERT, entry).scalar_one()
    changes = {k: [None, jsonable(entry[k])] for k in ("product", "warehouse", "kind", "qty", "order_id")}
    log.write("stock_ledger", ledger_id, 1, "create", changes)


class _Log:
    """Audit and outbox rows of one request."""

    def __init__(self, conn, user, at: dt.datetime):
        self.conn, self.user, self.at = conn, user, at

    def write(self, entity: str, record_id: int, version: int, action: str, changes: dict) -> None:
        self.conn.execute(AUDIT_INSERT, {"at": self.at, "entity": entity, "record_id": record_id, "version": version,
                                         "action": action, "actor_id": self.user["user_id"], "actor_name": self.user["username"],
                                         "source": "api", "ip": "", "diff": changes, "schema_version": 1})  # fmt: skip
        kind = "created" if action == "create" else "updated"
        self.conn.execute(OUTBOX_INSERT, {"created_at": self.at, "entity": entity, "record_id": record_id, "kind": kind,
                                          "schema_version": 1, "payload": {"id": record_id, "version": version, "changes": changes}})  # fmt: skip


def seed(app: Flask, products: int, warehouses: int, order_plan: list, on_hand: Decimal) -> None:
    """Products ``P00000``..., warehouses ``W0``..., a balance of ``on_hand`` for each pair, and draft orders
    (``order_plan``: warehouse index and (product index, qty) per line), ids from 1, with Core inserts."""
    now = _utcnow()
    system = {
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "created_by": 1,
        "updated_by": 1,
        "owner": 1,
    }
    with app.extensions["baseline_write_engine"].begin() as conn:
        conn.execute(
            products_t.insert(), [{"id": i + 1, "sku": f"P{i:05d}", **system} for i in range(products)]
        )
        conn.execute(
            warehouses_t.insert(), [{"id": i + 1, "code": f"W{i}", **system} for i in range(warehouses)]
        )
        conn.execute(balances.insert(), [{"product": p + 1, "warehouse": w + 1, "on_hand": on_hand, "reserved": Decimal(0),
                                          **system} for p in range(products) for w in range(warehouses)])  # fmt: skip
        conn.execute(orders.insert(), [{"id": k + 1, "number": f"SO-{k + 1:05d}", "warehouse": w + 1, "status": "draft",
                                        "note": f"lines: {len(ls)}", **system} for k, (w, ls) in enumerate(order_plan)])  # fmt: skip
        conn.execute(lines.insert(), [{"parent_id": k + 1, "position": i, "product": p + 1, "qty": Decimal(q)}
                                      for k, (_, ls) in enumerate(order_plan) for i, (p, q) in enumerate(ls)])  # fmt: skip


def create_confirm_app(database_url: str) -> Flask:
    """The hand-written order app on ``database_url`` (tables created if missing)."""
    app = Flask(__name__)
    app.json.sort_keys = False
    db = Database(database_url)
    metadata.create_all(db.engine)
    audit.metadata.create_all(db.engine, tables=[users, tokens, audit, outbox])
    app.extensions["baseline"] = db
    app.extensions["baseline_write_engine"] = db.engine.execution_options(**{WRITE_OPTION: True})
    app.register_blueprint(bp)

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        body = {"code": error.code, "message": error.message, "fields": error.fields,
                **{k: jsonable(v) for k, v in error.extra.items()}}  # fmt: skip
        return jsonify({"error": body}), error.status

    return app
