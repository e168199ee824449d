"""The yardstick for ``bench/bench_api.py``: a hand-written Flask + SQLAlchemy Core app for one fixed table.

It does by hand the work the platform's generic ``/api/data/<app>/<entity>`` API does for an 8-field entity:

- bearer-token auth per request (SHA-256 of the token looked up in a table, ``last_used_at`` refreshed at most
  once a minute, an "is admin" permission check);
- a hand-written marshmallow schema (required fields, lengths, select options, exact decimals, no floats);
- request bodies parsed exactly (``lowcode.core.jsonutil.loads_exact``: Decimal for fractions, depth limit);
- optimistic concurrency: ``If-Match`` version, guarded ``UPDATE ... WHERE id = :id AND version = :v``, a 409
  naming the fields changed since (read from the audit table);
- one audit row (before/after diff) and one outbox row per write, in the write transaction;
- lists: an equality/range filter, one sort key (+ id), keyset ``after`` cursor, ``limit``, and the total count
  on the first page.

SQLite plumbing is shared with the platform (``lowcode.core.db.Database``: WAL, ``synchronous=FULL``, busy
timeout, ``BEGIN IMMEDIATE`` for writes) - it is not part of the metadata runtime being measured.

Serve it on its own (for the RSS figure): ``python -m bench.baseline_app --database-url sqlite:///x.db``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify, request

from lowcode.core.db import WRITE_OPTION, Database
from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.core.types import ExactDecimal
from lowcode.errors import BadRequest

STATUSES = ("draft", "open", "hold", "closed")
MAX_JSON_DEPTH = 32
MAX_PAGE_SIZE = 500

metadata = sa.MetaData()

users = sa.Table(
    "bl_user", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(150), nullable=False, unique=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
)  # fmt: skip

tokens = sa.Table(
    "bl_api_token", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.ForeignKey("bl_user.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)  # fmt: skip

items = sa.Table(
    "bl_item", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", sa.DateTime),
    sa.Column("created_by", sa.BigInteger),
    sa.Column("updated_at", sa.DateTime),
    sa.Column("updated_by", sa.BigInteger),
    sa.Column("owner", sa.BigInteger, index=True),
    sa.Column("deleted_at", sa.DateTime),
    sa.Column("code", sa.String(32)),
    sa.Column("name", sa.String(255)),
    sa.Column("qty", sa.BigInteger),
    sa.Column("price", ExactDecimal(18, 2)),
    sa.Column("status", sa.String(64)),
    sa.Column("active", sa.Boolean),
    sa.Column("due", sa.Date),
    sa.Column("note", sa.Text),
    sa.Index("ux_bl_item_code", "code", unique=True),
    sa.Index("ix_bl_item_status", "status"),
    sa.Index("ix_bl_item_due", "due"),
)  # fmt: skip

audit = sa.Table(
    "bl_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("record_id", sa.BigInteger),
    sa.Column("version", sa.Integer),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor_id", sa.Integer),
    sa.Column("actor_name", sa.String(150), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("diff", sa.JSON, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Index("ix_bl_audit_record", "entity", "record_id", "version"),
)  # fmt: skip

outbox = sa.Table(
    "bl_outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("record_id", sa.BigInteger),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True), index=True),
)  # fmt: skip

FIELDS = ("code", "name", "qty", "price", "status", "active", "due", "note")
SYSTEM = ("id", "version", "created_at", "created_by", "updated_at", "updated_by", "owner", "deleted_at")


# -- errors ------------------------------------------------------------------------------------------
class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "fields", ...}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.fields, self.extra = (
            status,
            code,
            message,
            fields or {},
            extra,
        )


# -- validation --------------------------------------------------------------------------------------
class Money(ma.fields.Field):
    """Exact decimal with 2 places: Decimal, int or decimal string; never float or bool."""

    default_error_messages = {
        "invalid": "Not a valid number.",
        "float": "Floating-point numbers are not accepted; send a decimal string.",
        "scale": "At most 2 decimal places.",
        "precision": "Too many digits (at most 16 before the decimal point).",
    }
    QUANTUM = Decimal("0.01")

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise self.make_error("float")
        if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
            raise self.make_error("invalid")
        try:
            dec = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not dec.is_finite():
            raise self.make_error("invalid")
        if dec != dec.quantize(self.QUANTUM):
            raise self.make_error("scale")
        if dec.adjusted() >= 16:
            raise self.make_error("precision")
        return dec.quantize(self.QUANTUM)


class StrictInteger(ma.fields.Integer):
    """A JSON integer (not bool, not a fraction), 64-bit."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, validate=ma.validate.Range(-(2**63) + 1, 2**63 - 1), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ItemSchema(ma.Schema):
    """Input of an item (``partial=True`` for PATCH)."""

    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    qty = StrictInteger(allow_none=True)
    price = Money(required=True)
    status = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(STATUSES))
    active = ma.fields.Boolean(allow_none=True, load_default=True)
    due = ma.fields.Date(allow_none=True)
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=1_000_000))


CREATE_SCHEMA = ItemSchema()
UPDATE_SCHEMA = ItemSchema(partial=True)


# -- small helpers -----------------------------------------------------------------------------------
def utcnow() -> dt.datetime:
    """Naive UTC now (stored in the plain DateTime system columns)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def jsonable(value: Any) -> Any:
    """Decimal -> string, dates -> ISO 8601."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def item_json(row: Any) -> dict[str, Any]:
    """An item row as API JSON (system columns, then fields; datetimes with ``Z``, money as string)."""
    out: dict[str, Any] = {}
    for name in SYSTEM:
        value = row[name]
        out[name] = value.isoformat() + "Z" if isinstance(value, dt.datetime) else value
    out["code"], out["name"], out["qty"] = row["code"], row["name"], row["qty"]
    price = row["price"]
    out["price"] = None if price is None else format(price, "f")
    out["status"], out["active"] = row["status"], row["active"]
    due = row["due"]
    out["due"] = None if due is None else due.isoformat()
    out["note"] = row["note"]
    return out


def hash_token(token: str) -> str:
    """SHA-256 hex of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _db() -> Database:
    return current_app.extensions["baseline"]


def _write_engine() -> sa.Engine:
    return current_app.extensions["baseline_write_engine"]


def _json_body() -> Any:
    if not request.mimetype or "json" not in request.mimetype:
        raise ApiError(400, "bad_request", "Send a JSON body with Content-Type: application/json")
    raw = request.get_data(cache=True)
    if not raw:
        raise ApiError(400, "bad_request", "The request body is empty")
    try:
        body = loads_exact(raw, MAX_JSON_DEPTH)
    except BadRequest as exc:
        raise ApiError(400, "bad_request", exc.message) from exc
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The record body must be a JSON object")
    return body


def _if_match() -> int | None:
    raw = request.headers.get("If-Match")
    if not raw:
        return None
    tag = raw.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ApiError(400, "bad_request", 'If-Match must be the record\'s ETag, e.g. "3"')
    return int(tag)


def _authenticate(conn: sa.Connection, writing: bool) -> sa.RowMapping:
    """The user of the bearer token (admin only, like the platform's default permissions).

    A token's last use is recorded at most once a minute: in ``conn`` when it is a write transaction,
    otherwise in a short write transaction of its own (reads never upgrade to writes)."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        raise ApiError(401, "unauthenticated", "Send a bearer token")
    row = conn.execute(
        sa.select(tokens.c.id, tokens.c.last_used_at, tokens.c.expires_at, tokens.c.revoked_at,
                  users.c.id.label("user_id"), users.c.username, users.c.is_admin, users.c.active)
        .join(users, users.c.id == tokens.c.user_id)
        .where(tokens.c.token_hash == hash_token(header[7:].strip()))
    ).mappings().first()  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    if (
        row is None
        or row["revoked_at"] is not None
        or (row["expires_at"] and _aware(row["expires_at"]) < now)
    ):
        raise ApiError(401, "unauthenticated", "The token is not valid (unknown, expired or revoked)")
    if not row["active"]:
        raise ApiError(401, "unauthenticated", "The token's user is not active")
    if not row["is_admin"]:
        raise ApiError(403, "permission_denied", f"{row['username']} may not do this")
    if row["last_used_at"] is None or now - _aware(row["last_used_at"]) > dt.timedelta(minutes=1):
        touch = sa.update(tokens).where(tokens.c.id == row["id"]).values(last_used_at=now)
        if writing:
            conn.execute(touch)
        else:
            with _write_engine().begin() as write_conn:
                write_conn.execute(touch)
    return row


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


AUDIT_INSERT = audit.insert()
OUTBOX_INSERT = outbox.insert()
ITEM_INSERT = items.insert().returning(*items.c)
ITEM_INSERT_MANY = items.insert().returning(*items.c, sort_by_parameter_order=True)
ITEM_UPDATE = (
    sa.update(items)
    .where(items.c.id == sa.bindparam("key_id"), items.c.version == sa.bindparam("key_version"))
    .returning(*items.c)
)  # the SET clause is whatever columns the parameters name


def _log(
    conn: sa.Connection, user, record_id: int, version: int, action: str, kind: str, changes: dict
) -> None:
    """The audit row and the outbox row of one write."""
    now = dt.datetime.now(dt.UTC)
    conn.execute(AUDIT_INSERT, {
        "at": now, "entity": "item", "record_id": record_id, "version": version, "action": action,
        "actor_id": user["user_id"], "actor_name": user["username"], "source": "api", "ip": request.remote_addr or "",
        "diff": changes, "schema_version": 1,
    })  # fmt: skip
    conn.execute(OUTBOX_INSERT, {
        "created_at": now, "entity": "item", "record_id": record_id, "kind": kind, "schema_version": 1,
        "payload": {"id": record_id, "version": version, "changes": changes},
    })  # fmt: skip


def _unique_error(conn: sa.Connection, code: str, record_id: int | None) -> ApiError:
    query = sa.select(items.c.id, items.c.deleted_at).where(items.c.code == code)
    if record_id is not None:
        query = query.where(items.c.id != record_id)
    other = conn.execute(query.limit(1)).first()
    holder = f"record {other.id}" if other else "another record"
    return ApiError(422, "validation_failed", "Some fields are not valid",
                    {"code": [f"Must be unique: {holder} already has this value."]})  # fmt: skip


def _conflict(conn: sa.Connection, current: sa.RowMapping, expected: int) -> ApiError:
    diffs = conn.scalars(
        sa.select(audit.c.diff).where(audit.c.entity == "item", audit.c.record_id == current["id"],
                                      audit.c.version > expected)
    )  # fmt: skip
    names = sorted({name for d in diffs for name in (d or {})} & set(FIELDS))
    changed = {n: jsonable(current[n]) for n in names}
    return ApiError(409, "version_conflict",
                    f"Record {current['id']} was changed by someone else (you edited version {expected}, "
                    f"it is now version {current['version']})", current_version=current["version"], changed=changed)  # fmt: skip


def _with_etag(body: dict, status: int = 200):
    response = jsonify(body)
    response.status_code = status
    response.headers["ETag"] = f'"{body["version"]}"'
    return response


# -- routes ------------------------------------------------------------------------------------------
bp = Blueprint("baseline", __name__, url_prefix="/api/items")


@bp.post("")
def create_item():
    """Create an item; 201 with the item, ETag and Location."""
    body = _json_body()
    body.pop("version", None)
    try:
        values = CREATE_SCHEMA.load(body)
    except ma.ValidationError as exc:
        raise ApiError(422, "validation_failed", "Some fields are not valid", exc.messages) from exc
    with _write_engine().begin() as conn:
        user = _authenticate(conn, writing=True)
        now = utcnow()
        row = {**values, "version": 1, "created_at": now, "updated_at": now,
               "created_by": user["user_id"], "updated_by": user["user_id"], "owner": user["user_id"]}  # fmt: skip
        try:
            stored = conn.execute(ITEM_INSERT, row).mappings().one()
        except sa.exc.IntegrityError:
            raise _unique_error(conn, values["code"], None) from None
        changes = {k: [None, jsonable(v)] for k, v in values.items() if v is not None}
        _log(conn, user, stored["id"], 1, "create", "created", changes)
    response = _with_etag(item_json(stored), 201)
    response.headers["Location"] = f"/api/items/{stored['id']}"
    return response


@bp.post("/bulk")
def create_items():
    """Create many items (a JSON list, all or nothing): one marshmallow load per item, then one executemany
    INSERT ... RETURNING, one for the audit rows and one for the outbox rows; 201 with ``{data: [items]}``."""
    if not request.mimetype or "json" not in request.mimetype:
        raise ApiError(400, "bad_request", "Send a JSON body with Content-Type: application/json")
    try:
        body = loads_exact(request.get_data(cache=True), MAX_JSON_DEPTH)
    except BadRequest as exc:
        raise ApiError(400, "bad_request", exc.message) from exc
    if not isinstance(body, list) or not body or not all(isinstance(b, dict) for b in body):
        raise ApiError(400, "bad_request", "Send a non-empty JSON list of objects")
    try:
        loaded = CREATE_SCHEMA.load(body, many=True)
    except ma.ValidationError as exc:
        raise ApiError(422, "validation_failed", "Some items are not valid", exc.messages) from exc
    with _write_engine().begin() as conn:
        user = _authenticate(conn, writing=True)
        now, aware = utcnow(), dt.datetime.now(dt.UTC)
        system = {"version": 1, "created_at": now, "updated_at": now, "created_by": user["user_id"],
                  "updated_by": user["user_id"], "owner": user["user_id"], "deleted_at": None}  # fmt: skip
        rows = [{**system, **dict.fromkeys(FIELDS), **values} for values in loaded]
        try:
            stored = conn.execute(ITEM_INSERT_MANY, rows).mappings().all()
        except sa.exc.IntegrityError:
            raise ApiError(422, "validation_failed", "A code is already used") from None
        changes = [{k: [None, jsonable(v)] for k, v in values.items() if v is not None} for values in loaded]
        conn.execute(AUDIT_INSERT, [
            {"at": aware, "entity": "item", "record_id": row["id"], "version": 1, "action": "create",
             "actor_id": user["user_id"], "actor_name": user["username"], "source": "api",
             "ip": request.remote_addr or "", "diff": c, "schema_version": 1}
            for row, c in zip(stored, changes, strict=True)
        ])  # fmt: skip
        conn.execute(OUTBOX_INSERT, [
            {"created_at": aware, "entity": "item", "record_id": row["id"], "kind": "created", "schema_version": 1,
             "payload": {"id": row["id"], "version": 1, "changes": c}}
            for row, c in zip(stored, changes, strict=True)
        ])  # fmt: skip
    return jsonify({"data": [item_json(row) for row in stored]}), 201


@bp.route("/<int:item_id>", methods=["PATCH", "PUT"])
def update_item(item_id: int):
    """Change fields of the version named by ``If-Match`` (or ``version`` in the body)."""
    body = _json_body()
    expected = _if_match()
    sent_version = body.pop("version", None)
    if expected is None and isinstance(sent_version, int):
        expected = sent_version
    with _write_engine().begin() as conn:
        user = _authenticate(conn, writing=True)
        current = conn.execute(
            sa.select(items).where(items.c.id == item_id, items.c.deleted_at.is_(None))
        ).mappings().first()  # fmt: skip
        if current is None:
            raise ApiError(404, "not_found", f"No item record with id {item_id}")
        if expected is None:
            raise ApiError(428, "precondition_required", "The version being edited is required (If-Match)")
        if expected != current["version"]:
            raise _conflict(conn, current, expected)
        try:
            values = UPDATE_SCHEMA.load(body)
        except ma.ValidationError as exc:
            raise ApiError(422, "validation_failed", "Some fields are not valid", exc.messages) from exc
        changed = {k: v for k, v in values.items() if current[k] != v}
        version = current["version"] + 1
        try:
            params = {**changed, "version": version, "updated_at": utcnow(), "updated_by": user["user_id"],
                      "key_id": item_id, "key_version": current["version"]}  # fmt: skip
            stored = conn.execute(ITEM_UPDATE, params).mappings().first()
        except sa.exc.IntegrityError:
            raise _unique_error(conn, changed["code"], item_id) from None
        if stored is None:
            raise _conflict(conn, current, current["version"])
        changes = {k: [jsonable(current[k]), jsonable(v)] for k, v in changed.items()}
        _log(conn, user, item_id, version, "update", "updated", changes)
    return _with_etag(item_json(stored))


SORTABLE: dict[str, Any] = {
    "code": str, "name": str, "qty": int, "price": Decimal, "status": str, "active": bool,
    "due": dt.date.fromisoformat, "created_at": dt.datetime.fromisoformat, "updated_at": dt.datetime.fromisoformat,
}  # fmt: skip


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be an integer") from None


def _keyset(column, descending: bool, value: Any, last_id: int):
    """Rows after (value, last_id) in ORDER BY column (NULLS FIRST asc / LAST desc), id."""
    i = items.c.id
    if descending:
        if value is None:
            return sa.and_(column.is_(None), i < last_id)
        bound = sa.or_(column <= value, column.is_(None))  # lets the index range scan start at the cursor
        return sa.and_(bound, sa.or_(column < value, column.is_(None), sa.and_(column == value, i < last_id)))
    if value is None:
        return sa.or_(column.is_not(None), sa.and_(column.is_(None), i > last_id))
    return sa.and_(column >= value, sa.or_(column > value, sa.and_(column == value, i > last_id)))


@bp.get("")
def list_items():
    """A page: ``status``, ``qty_gt``/``qty_lt`` filters, ``sort`` (one field, ``-`` for descending),
    ``limit``, ``after`` (cursor); with ``next`` and ``total``."""
    raw_limit = request.args.get("limit", "50")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE_SIZE:
        raise ApiError(400, "bad_request", f"limit must be an integer from 1 to {MAX_PAGE_SIZE}")
    limit = int(raw_limit)
    sort = request.args.get("sort", "")
    sort_name, descending = sort.lstrip("-"), sort.startswith("-")
    if sort_name and sort_name not in SORTABLE:
        raise ApiError(400, "bad_request", f"Cannot sort by '{sort_name}'")
    where = [items.c.deleted_at.is_(None)]
    if (status := request.args.get("status")) is not None:
        where.append(items.c.status == status)
    if (qty_gt := _int_arg("qty_gt")) is not None:
        where.append(items.c.qty > qty_gt)
    if (qty_lt := _int_arg("qty_lt")) is not None:
        where.append(items.c.qty < qty_lt)
    column = items.c[sort_name] if sort_name else None
    id_order = items.c.id.desc() if descending else items.c.id.asc()
    order = [id_order]
    if column is not None:
        order.insert(0, column.desc().nulls_last() if descending else column.asc().nulls_first())
    query = sa.select(items).where(*where)
    if after := request.args.get("after"):
        try:
            value, last_id = json.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)))
            value = None if value is None or column is None else SORTABLE[sort_name](value)
            last_id = int(last_id)
        except (ValueError, TypeError) as exc:
            raise ApiError(400, "bad_request", "The page cursor is not valid") from exc
        if column is None:
            query = query.where(items.c.id < last_id if descending else items.c.id > last_id)
        else:
            query = query.where(_keyset(column, descending, value, last_id))
    with _db().engine.connect() as conn:
        _authenticate(conn, writing=False)
        # like the platform: the total on the first page only
        total = None if after else conn.scalar(sa.select(sa.func.count()).select_from(items).where(*where))
        rows = conn.execute(query.order_by(*order).limit(limit + 1)).mappings().all()
        conn.rollback()
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = None
    if more:
        last = rows[-1]
        key = [jsonable(last[sort_name]) if sort_name else None, last["id"]]
        cursor = base64.urlsafe_b64encode(dumps(key).encode()).decode().rstrip("=")
    return jsonify({"data": [item_json(r) for r in rows], "next": cursor, "total": total})


# -- app factory, seeding, serving ---------------------------------------------------------------------
def create_baseline_app(database_url: str) -> Flask:
    """The hand-written app on ``database_url`` (tables created if missing)."""
    app = Flask(__name__)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    db = Database(database_url)
    metadata.create_all(db.engine)
    app.extensions["baseline"] = db
    app.extensions["baseline_write_engine"] = db.engine.execution_options(**{WRITE_OPTION: True})
    app.register_blueprint(bp)

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        body = {"code": error.code, "message": error.message, "fields": error.fields,
                **{k: jsonable(v) for k, v in error.extra.items()}}  # fmt: skip
        return jsonify({"error": body}), error.status

    return app


def create_admin_token(app: Flask, username: str = "admin") -> str:
    """Add an admin user and a bearer token for it; returns the plain token."""
    token = "bl_" + secrets.token_urlsafe(32)
    with app.extensions["baseline_write_engine"].begin() as conn:
        user_id = conn.execute(
            users.insert().values(username=username, is_admin=True, active=True).returning(users.c.id)
        ).scalar_one()
        conn.execute(tokens.insert().values(user_id=user_id, token_hash=hash_token(token)))
    return token


def seed(app: Flask, records: list[dict[str, Any]], user_id: int = 1, batch: int = 1000) -> None:
    """Insert typed records with Core executemany, with one audit and one outbox row each (fast path)."""
    engine = app.extensions["baseline_write_engine"]
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        now, aware = utcnow(), dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            first = conn.scalar(sa.select(sa.func.coalesce(sa.func.max(items.c.id), 0))) + 1
            rows = [{**r, "id": first + i, "version": 1, "created_at": now, "updated_at": now, "created_by": user_id,
                     "updated_by": user_id, "owner": user_id, "deleted_at": None} for i, r in enumerate(chunk)]  # fmt: skip
            conn.execute(items.insert(), rows)
            changes = [{k: [None, jsonable(v)] for k, v in r.items() if v is not None} for r in chunk]
            conn.execute(audit.insert(), [
                {"at": aware, "entity": "item", "record_id": row["id"], "version": 1, "action": "create",
                 "actor_id": user_id, "actor_name": "admin", "source": "seed", "ip": "", "diff": c, "schema_version": 1}
                for row, c in zip(rows, changes, strict=True)
            ])  # fmt: skip
            conn.execute(outbox.insert(), [
                {"created_at": aware, "entity": "item", "record_id": row["id"], "kind": "created", "schema_version": 1,
                 "payload": {"id": row["id"], "version": 1, "changes": c}}
                for row, c in zip(rows, changes, strict=True)
            ])  # fmt: skip


def main() -> None:
    """Serve the baseline with werkzeug (threaded), like ``lowcode serve`` does."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    args = parser.parse_args()
    from werkzeug.serving import run_simple

    from bench.bench_api import _apply_sync

    app = create_baseline_app(args.database_url)
    _apply_sync(app.extensions["baseline"].engine, os.environ.get("BENCH_SQLITE_SYNC", "full"))
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
