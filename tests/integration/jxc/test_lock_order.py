"""Two documents touching the same SKUs in opposite line order, written at the same moment on PostgreSQL:
both complete (no deadlock answered as a 409), because the platform locks the rows a multi-line write
touches in key order before the per-line loop.

The interleaving that deadlocked is forced, not hoped for: each transaction is held right after its first
line has locked its stock row, until the other one has done the same (the old behaviour: each then waits for
the other's row - a deadlock) or is seen waiting for a lock in ``pg_blocking_pids`` (the fixed behaviour:
the first transaction already holds every row, so the second waits before its loop).
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.conftest import ApiClient, login
from tests.dbs import backend
from tests.integration.jxc.conftest import PASSWORD

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="row locks: SQLite write transactions hold the whole database"
)
WAIT = 30.0


class Rendezvous:
    """Holds each of two writing threads after its first write to ``entity`` until the other thread has
    written too or is blocked waiting for a lock."""

    def __init__(self, app, entity: str):
        self.entity = entity
        self.monitor = sa.create_engine(
            app.extensions["lowcode"].db.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        self.pids: dict[int, int] = {}
        self.arrived: dict[int, threading.Event] = {}
        self.lock = threading.Lock()
        self.held = 0

    def join(self, session) -> None:
        """Register the calling thread's database backend (at the start of its write)."""
        pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with self.lock:
            self.pids[threading.get_ident()] = pid
            self.arrived[threading.get_ident()] = threading.Event()

    def wrote(self, entity: str) -> None:
        """Called after each write; holds the thread after its first write to the watched entity."""
        me = threading.get_ident()
        if entity != self.entity or self.arrived[me].is_set():
            return
        self.arrived[me].set()
        deadline = time.monotonic() + WAIT
        while True:
            with self.lock:
                others = [t for t in self.arrived if t != me]
            if others and (self.arrived[others[0]].is_set() or self._blocked(self.pids[others[0]])):
                with self.lock:
                    self.held += 1
                return
            assert time.monotonic() < deadline, "the other writer neither wrote nor waited for a lock"
            (self.arrived[others[0]] if others else threading.Event()).wait(0.01)

    def _blocked(self, pid: int) -> bool:
        with self.monitor.connect() as conn:
            return bool(
                conn.execute(sa.text("SELECT cardinality(pg_blocking_pids(:p)) > 0"), {"p": pid}).scalar()
            )


@pytest.fixture
def watch(app, monkeypatch):
    """Install a rendezvous on the record service: ``watch("stock_balance")``."""
    records = app.extensions["lowcode"].records
    created: list[Rendezvous] = []

    def install(entity: str) -> Rendezvous:
        meeting = Rendezvous(app, entity)
        created.append(meeting)
        update, update_where, create = records.update, records.update_where, records.create

        def traced_update(ctx, app_name, entity_name, *args, **kw):
            if ctx.depth == 0:
                meeting.join(ctx.session)
            return update(ctx, app_name, entity_name, *args, **kw)

        def traced_update_where(ctx, app_name, entity_name, *args, **kw):
            result = update_where(ctx, app_name, entity_name, *args, **kw)
            meeting.wrote(entity_name)
            return result

        def traced_create(ctx, app_name, entity_name, *args, **kw):
            result = create(ctx, app_name, entity_name, *args, **kw)
            meeting.wrote(entity_name)
            return result

        monkeypatch.setattr(records, "update", traced_update)
        monkeypatch.setattr(records, "update_where", traced_update_where)
        monkeypatch.setattr(records, "create", traced_create)
        return meeting

    yield install
    for meeting in created:
        meeting.monitor.dispose()


def _stock_both(j, sh, ts, jn):
    body = {"supplier": j.supplier, "warehouse": sh, "receipt_date": "2026-11-01",
            "lines": [{"product": ts, "qty": "50", "unit_price": "10.00"},
                      {"product": jn, "qty": "50", "unit_price": "45.00"}]}  # fmt: skip
    gr = j.create(j.warehouse, "purchase_receipt", body)
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")


def _race(app, role: str, entity: str, ids: list[int], status: str) -> dict[int, tuple[int, dict]]:
    """Set the status of each record in its own thread, each with its own client and connection."""
    outcome: dict[int, tuple[int, dict]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(ids))

    def run(record_id):
        try:
            client = app.test_client()
            user = ApiClient(client, login(client, role, PASSWORD))
            start.wait(timeout=WAIT)
            response = user.patch(
                f"/api/data/jxc/{entity}/{record_id}", json={"status": status, "version": 1}
            )
            outcome[record_id] = (response.status_code, response.get_json())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return outcome


def test_two_orders_with_the_same_skus_in_opposite_order_both_confirm(app, jxc, watch):
    j, sh = jxc, jxc.wh["WH-SH"]
    ts, jn = j.product["TS-WHT-M"], j.product["JN-BLU-32"]
    _stock_both(j, sh, ts, jn)
    orders = []
    for first, second in ((ts, jn), (jn, ts)):
        body = {"customer": j.customer, "warehouse": sh, "order_date": "2026-11-02",
                "lines": [{"product": first, "qty": "3", "unit_price": "29.90"},
                          {"product": second, "qty": "4", "unit_price": "29.90"}]}  # fmt: skip
        orders.append(j.create(j.sales, "sales_order", body)["id"])
    meeting = watch("stock_balance")
    outcome = _race(app, "sales", "sales_order", orders, "confirmed")
    assert {code for code, _ in outcome.values()} == {200}, outcome
    assert meeting.held == 2  # both writers really went through the rendezvous
    for product in (ts, jn):
        balance = j.balance(product, sh)
        assert (Decimal(balance["reserved"]), Decimal(balance["available"])) == (7, 43)


def test_two_deliveries_with_the_same_skus_in_opposite_order_both_post(app, jxc, watch):
    j, sh = jxc, jxc.wh["WH-SH"]
    ts, jn = j.product["TS-WHT-M"], j.product["JN-BLU-32"]
    _stock_both(j, sh, ts, jn)
    deliveries = []
    for first, second in ((ts, jn), (jn, ts)):
        body = {"customer": j.customer, "warehouse": sh, "delivery_date": "2026-11-02",
                "lines": [{"product": first, "qty": "3", "unit_price": "29.90"},
                          {"product": second, "qty": "4", "unit_price": "29.90"}]}  # fmt: skip
        deliveries.append(j.create(j.warehouse, "delivery", body)["id"])
    meeting = watch("stock_ledger")
    outcome = _race(app, "warehouse", "delivery", deliveries, "posted")
    assert {code for code, _ in outcome.values()} == {200}, outcome
    assert meeting.held == 2
    for product, cost in ((ts, 10), (jn, 45)):
        balance = j.balance(product, sh)
        assert Decimal(balance["on_hand"]) == 43 and Decimal(balance["value"]) == 43 * cost


def test_two_one_line_transfers_in_opposite_directions_both_post(app, jxc, watch):
    """One line locks two balances (source, then destination): the same platform rule orders them by key."""
    j, sh, gz = jxc, jxc.wh["WH-SH"], jxc.wh["WH-GZ"]
    ts, jn = j.product["TS-WHT-M"], j.product["JN-BLU-32"]
    _stock_both(j, sh, ts, jn)
    _stock_both(j, gz, ts, jn)
    transfers = []
    for source, destination in ((sh, gz), (gz, sh)):
        body = {"warehouse": source, "to_warehouse": destination, "transfer_date": "2026-11-02",
                "lines": [{"product": ts, "qty": "5"}]}  # fmt: skip
        transfers.append(j.create(j.warehouse, "stock_transfer", body)["id"])
    meeting = watch("stock_ledger")
    outcome = _race(app, "warehouse", "stock_transfer", transfers, "posted")
    assert {code for code, _ in outcome.values()} == {200}, outcome
    assert meeting.held == 2
    for warehouse in (sh, gz):
        balance = j.balance(ts, warehouse)
        assert Decimal(balance["on_hand"]) == 50 and Decimal(balance["value"]) == 500
