"""Generated demo data sets, by app name: ``generators[app](flask_app) -> summary``.

The 进销存 (JXC) set is a clothing wholesaler: about 200 SKUs (styles x colours x sizes), three warehouses,
50 customers, 8 suppliers and a few months of documents up to today. It is generated deterministically (a
seeded random generator; the dates follow today's date) and written through the record service as the role
users (``purchaser``, ``warehouse``, ``sales``, ``finance``, ``admin`` from the template's demo users), one
transaction per document, so every document posts through the template's rules exactly as a real one would:
reservations, stock at moving-average cost, receivables, payables, vouchers. Refused steps (a shortage, a
credit limit) are left as they are, as in real life.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask

from lowcode.auth.actors import actor_for_user
from lowcode.core.models import User
from lowcode.errors import LowcodeError
from lowcode.runtime.context import Actor, WriteContext

APP = "jxc"
CENT = Decimal("0.01")

CATEGORIES = [("TS", "T恤 T-shirts"), ("SH", "衬衫 Shirts"), ("JN", "牛仔裤 Jeans"), ("PT", "休闲裤 Trousers"),
              ("DR", "连衣裙 Dresses"), ("JK", "外套 Jackets"), ("SW", "毛衣 Sweaters"), ("DJ", "羽绒服 Down jackets"),
              ("HD", "卫衣 Hoodies"), ("SP", "运动服 Sportswear")]  # fmt: skip
STYLES = [  # (code, category, name, cost, season)
    ("TS01", "TS", "纯棉圆领T恤", "18.50", "SS"), ("TS02", "TS", "V领修身T恤", "21.00", "SS"),
    ("SH01", "SH", "牛津纺衬衫", "42.00", "SS"), ("SH02", "SH", "亚麻短袖衬衫", "48.00", "SS"),
    ("JN01", "JN", "直筒牛仔裤", "58.00", "AW"), ("JN02", "JN", "弹力小脚牛仔裤", "62.50", "AW"),
    ("PT01", "PT", "休闲九分裤", "45.00", "SS"), ("PT02", "PT", "工装束脚裤", "52.00", "AW"),
    ("DR01", "DR", "碎花雪纺连衣裙", "66.00", "SS"), ("DR02", "DR", "针织长裙", "72.00", "AW"),
    ("JK01", "JK", "夹克外套", "95.00", "AW"), ("JK02", "JK", "风衣", "128.00", "AW"),
    ("SW01", "SW", "羊毛开衫", "88.00", "AW"), ("SW02", "SW", "高领毛衣", "76.00", "AW"),
    ("DJ01", "DJ", "轻薄羽绒服", "158.00", "AW"), ("DJ02", "DJ", "加厚长款羽绒服", "236.00", "AW"),
    ("HD01", "HD", "连帽卫衣", "55.00", "AW"), ("HD02", "HD", "圆领卫衣", "49.00", "AW"),
    ("SP01", "SP", "运动套装", "98.00", "SS"), ("SP02", "SP", "速干运动T恤", "26.00", "SS"),
]  # fmt: skip
COLORS = [("BLK", "黑"), ("WHT", "白"), ("NVY", "藏青"), ("GRY", "灰"), ("RED", "红"), ("KHK", "卡其")]
SIZES = ["S", "M", "L", "XL", "XXL"]
WAREHOUSES = [("WH-SH", "上海总仓 Shanghai main", "上海市嘉定区马陆镇 88 号", 0.6),
              ("WH-GZ", "广州仓 Guangzhou", "广州市白云区石井大道 16 号", 0.25),
              ("WH-CD", "成都仓 Chengdu", "成都市双流区物流大道 5 号", 0.15)]  # fmt: skip
SUPPLIERS = ["杭州四季青织造有限公司", "广州白马服装厂", "东莞虎门针织厂", "宁波申洲制衣", "石狮市运动服饰厂",
             "常熟波司登代工厂", "苏州盛泽纺织", "青岛即发服装"]  # fmt: skip
CITIES = ["上海", "北京", "杭州", "南京", "苏州", "武汉", "长沙", "郑州", "西安", "重庆", "成都", "昆明", "福州",
          "厦门", "合肥", "南昌", "济南", "青岛", "天津", "沈阳", "大连", "哈尔滨", "广州", "深圳", "佛山"]  # fmt: skip
SHOPS = ["服饰", "时装", "衣坊", "商贸", "精品店"]


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _ean13(n: int) -> str:
    digits = f"690{n:09d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return digits + str(check)


@dataclass
class _Writer:
    """Writes records through the record service as demo users, one transaction per call."""

    app: Flask
    actors: dict[str, Actor] = field(default_factory=dict)
    refused: int = 0
    written: int = 0

    def __post_init__(self):
        self.svc = self.app.extensions["lowcode"]
        with self.svc.db.read() as session:
            for user in session.scalars(sa.select(User)):
                self.actors[user.username] = actor_for_user(session, user, on_stale=lambda ids: None)

    def _ctx(self, session, who: str, when: dt.datetime) -> WriteContext:
        return WriteContext(
            session, self.actors[who], self.svc.snapshots.get(session), source="demo", now=when
        )

    def create(self, who: str, entity: str, data: dict, when: dt.datetime) -> dict:
        with self.svc.db.write() as session:
            self.written += 1
            return self.svc.records.create(self._ctx(session, who, when), APP, entity, data)

    def set_status(self, who: str, entity: str, record: dict, status: str, when: dt.datetime) -> bool:
        """Change a document's status (posting, confirming...); False when a rule refuses it."""
        return self.change(who, entity, record, {"status": status}, when)

    def change(self, who: str, entity: str, record: dict, values: dict, when: dt.datetime) -> bool:
        """Update a record with ``values``; False when a rule refuses it."""
        try:
            with self.svc.db.write() as session:
                ctx = self._ctx(session, who, when)
                current = self.svc.queries.get(ctx, APP, entity, record["id"])
                self.svc.records.update(ctx, APP, entity, record["id"], values, current["version"])
            self.written += 1
            return True
        except LowcodeError:
            self.refused += 1
            return False

    def rows(self, entity: str, where: Callable[[Any], Any] | None = None) -> list[dict]:
        with self.svc.db.read() as session:
            table = self.svc.snapshots.get(session).entity(APP, entity).table
            query = sa.select(table).where(table.c.deleted_at.is_(None)).order_by(table.c.id)
            if where is not None:
                query = query.where(where(table))
            return [dict(r) for r in session.execute(query).mappings()]


class JxcDemo:
    """The clothing wholesaler's few months, day by day."""

    def __init__(self, app: Flask, seed: int = 20260801, months: int = 3, today: dt.date | None = None,
                 orders_per_day: tuple[int, int] = (2, 5), styles: int = len(STYLES)):  # fmt: skip
        self.w = _Writer(app)
        self.rng = random.Random(seed)
        self.today = today or dt.date.today()
        first = self.today.replace(day=1)
        for _ in range(months):
            first = (first - dt.timedelta(days=1)).replace(day=1)
        self.start = first
        self.orders_per_day = orders_per_day
        self.styles = STYLES[:styles]
        self.ids: dict[str, Any] = {}

    # -- helpers -----------------------------------------------------------------------------------
    def at(self, day: dt.date, hour: int = 10) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, self.rng.randint(0, 59)))

    def user_id(self, name: str) -> int | None:
        actor = self.w.actors.get(name)
        return actor.user_id if actor else None

    def lookup(self, entity: str, key: str = "code") -> dict[str, int]:
        return {r[key]: r["id"] for r in self.w.rows(entity)}

    # -- master data -------------------------------------------------------------------------------
    def masters(self) -> None:
        day = self.at(self.start - dt.timedelta(days=7), 9)
        cc = self.lookup("cost_center")
        projects = self.lookup("project")
        self.ids["project"] = {"SS": projects.get("PRJ-SS"), "AW": projects.get("PRJ-AW")}
        self.ids["wh"] = {}
        for code, name, address, _ in WAREHOUSES:
            rec = self.w.create("admin", "warehouse", {"code": code, "name": name, "address": address,
                                                       "manager": self.user_id("warehouse"),
                                                       "cost_center": cc.get("CC-WH")}, day)  # fmt: skip
            self.ids["wh"][code] = rec["id"]
        cats = {}
        for code, name in CATEGORIES:
            cats[code] = self.w.create("purchaser", "category", {"code": code, "name": name}, day)["id"]
        self.ids["supplier"] = [
            self.w.create("purchaser", "supplier", {"code": f"S{i + 1:03d}", "name": name, "contact": "业务 " + "王李张刘陈"[i % 5],
                                                    "phone": f"0571-8{i:03d}{i * 7 % 10}2{i % 3}6", "payment_days": 30}, day)["id"]
            for i, name in enumerate(SUPPLIERS)
        ]  # fmt: skip
        self.products: list[dict] = []
        serial = 0
        for s, (style, cat, name, cost, season) in enumerate(self.styles):
            colors = self.rng.sample(COLORS, 2)
            for color, color_zh in colors:
                for size in SIZES:
                    serial += 1
                    base = Decimal(cost) + (Decimal(2) if size in ("XL", "XXL") else 0)
                    price = (base * Decimal(self.rng.choice(["1.8", "2.0", "2.2"]))).quantize(
                        Decimal(1)
                    ) - Decimal("0.10")
                    body = {"sku": f"{style}-{color}-{size}", "name": f"{name} {color_zh} {size}", "category": cats[cat],
                            "unit": "件", "barcode": _ean13(serial), "color": color_zh, "size": size,
                            "purchase_cost": _money(base), "sale_price": _money(price), "reorder_level": "30"}  # fmt: skip
                    rec = self.w.create("purchaser", "product", body, day)
                    self.products.append({"id": rec["id"], "cost": base, "price": price, "season": season,
                                          "supplier": self.ids["supplier"][s % len(SUPPLIERS)]})  # fmt: skip
        self.customers = []
        for i in range(50):
            city = CITIES[i % len(CITIES)]
            level = "vip" if i % 10 == 0 else "retail" if i % 7 == 0 else "wholesale"
            limit = 0 if i % 9 == 0 else self.rng.choice([30000, 50000, 80000, 120000, 200000])
            body = {"code": f"C{i + 1:03d}", "name": f"{city}{'锦华美源新潮都市红叶'[i % 10]}{SHOPS[i % 5]}",
                    "contact": "老板 " + "赵钱孙李周吴郑王"[i % 8], "phone": f"13{i % 10}{(i * 7919) % 100000000:08d}",
                    "address": f"{city}市服装批发市场 {i + 1} 号", "level": level, "salesperson": self.user_id("sales")}  # fmt: skip
            rec = self.w.create("sales", "customer", body, day)
            if limit:
                with self.w.svc.db.write() as session:  # credit limits are finance's
                    ctx = self.w._ctx(session, "finance", day)
                    self.w.svc.records.update(
                        ctx, APP, "customer", rec["id"], {"credit_limit": str(limit)}, 1
                    )
            self.customers.append(
                {"id": rec["id"], "discount": Decimal("0.9") if level == "vip" else Decimal(1)}
            )
        month = self.start
        while month <= self.today:
            self.w.create("finance", "accounting_period", {"period": month.strftime("%Y-%m")}, day)
            month = (month + dt.timedelta(days=32)).replace(day=1)

    # -- documents ---------------------------------------------------------------------------------
    def purchase(
        self, day: dt.date, wh: int, supplier: int, lines: list[tuple[dict, int]], receive_in: int
    ) -> None:
        body = {"supplier": supplier, "warehouse": wh, "order_date": day.isoformat(),
                "expected_date": (day + dt.timedelta(days=receive_in)).isoformat(),
                "lines": [{"product": p["id"], "qty": str(q), "unit_price": _money(p["cost"])} for p, q in lines]}  # fmt: skip
        po = self.w.create("purchaser", "purchase_order", body, self.at(day, 9))
        self.w.set_status("admin", "purchase_order", po, "approved", self.at(day, 17))
        self.agenda[day + dt.timedelta(days=receive_in)].append(("receive", po))

    def receive(self, day: dt.date, po: dict) -> None:
        lines = [
            {"product": r["product"], "qty": str(r["qty"]), "unit_price": str(r["unit_price"])}
            for r in po["lines"]
        ]
        season = self.products_by_id[po["lines"][0]["product"]]["season"]
        gr = self.w.create("warehouse", "purchase_receipt", {
            "purchase_order": po["id"], "supplier": po["supplier"], "warehouse": po["warehouse"],
            "receipt_date": day.isoformat(), "project": self.ids["project"][season], "lines": lines}, self.at(day, 11))  # fmt: skip
        if self.w.set_status("warehouse", "purchase_receipt", gr, "posted", self.at(day, 11)):
            self.agenda[day + dt.timedelta(days=self.rng.randint(15, 40))].append(("pay_supplier", gr))

    def sell(self, day: dt.date) -> None:
        customer = self.rng.choice(self.customers)
        wh = self.rng.choices(list(self.ids["wh"].values()), [w[3] for w in WAREHOUSES])[0]
        picks = self.rng.sample(self.products, self.rng.randint(2, 6))
        lines = [{"product": p["id"], "qty": str(self.rng.choice([5, 10, 10, 20, 30])),
                  "unit_price": _money(p["price"] * customer["discount"])} for p in picks]  # fmt: skip
        so = self.w.create("sales", "sales_order", {"customer": customer["id"], "warehouse": wh,
                                                    "order_date": day.isoformat(), "lines": lines}, self.at(day, 10))  # fmt: skip
        if not self.w.set_status("sales", "sales_order", so, "confirmed", self.at(day, 10)):
            return  # short of stock or over the credit limit: the draft stays for the salesperson
        if self.rng.random() < 0.06:
            self.agenda[day + dt.timedelta(days=1)].append(("cancel", so))
        else:
            self.agenda[day + dt.timedelta(days=self.rng.randint(1, 3))].append(("deliver", so))

    def deliver(self, day: dt.date, so: dict) -> None:
        lines = [
            {"product": r["product"], "qty": str(r["qty"]), "unit_price": str(r["unit_price"])}
            for r in so["lines"]
        ]
        dn = self.w.create("warehouse", "delivery", {"sales_order": so["id"], "customer": so["customer"],
                                                     "warehouse": so["warehouse"], "delivery_date": day.isoformat(),
                                                     "lines": lines}, self.at(day, 14))  # fmt: skip
        if not self.w.set_status("warehouse", "delivery", dn, "posted", self.at(day, 15)):
            return
        if self.rng.random() < 0.04:
            self.agenda[day + dt.timedelta(days=self.rng.randint(2, 6))].append(("return", dn))
        self.agenda[day + dt.timedelta(days=self.rng.randint(7, 45))].append(("collect", dn))

    def sales_return(self, day: dt.date, dn: dict) -> None:
        line = self.rng.choice(dn["lines"])
        body = {"delivery": dn["id"], "customer": dn["customer"], "warehouse": dn["warehouse"], "return_date": day.isoformat(),
                "reason": self.rng.choice(["尺码不合 Wrong size", "质量问题 Quality issue", "颜色不符 Wrong colour"]),
                "lines": [{"product": line["product"], "qty": str(min(line["qty"], self.rng.randint(1, 5))),
                           "unit_price": str(line["unit_price"])}]}  # fmt: skip
        sr = self.w.create("sales", "sales_return", body, self.at(day, 10))
        self.w.set_status("warehouse", "sales_return", sr, "posted", self.at(day, 16))

    def collect(self, day: dt.date, dn: dict) -> None:
        found = self.w.rows("receivable", lambda t: t.c.delivery == dn["id"])
        if not found or found[0]["balance"] <= 0:
            return
        rv = found[0]
        amount = rv["balance"] if self.rng.random() < 0.85 else (rv["balance"] / 2).quantize(CENT)
        pay = self.w.create("finance", "customer_payment", {
            "customer": rv["customer"], "receivable": rv["id"], "payment_date": day.isoformat(), "amount": _money(amount),
            "method": self.rng.choice(["bank", "bank", "wechat", "alipay"])}, self.at(day, 16))  # fmt: skip
        self.w.set_status("finance", "customer_payment", pay, "posted", self.at(day, 16))

    def pay_supplier(self, day: dt.date, gr: dict) -> None:
        found = self.w.rows("payable", lambda t: t.c.purchase_receipt == gr["id"])
        if not found or found[0]["balance"] <= 0:
            return
        ap = found[0]
        pay = self.w.create("finance", "supplier_payment", {
            "supplier": ap["supplier"], "payable": ap["id"], "payment_date": day.isoformat(),
            "amount": _money(ap["balance"])}, self.at(day, 15))  # fmt: skip
        self.w.set_status("finance", "supplier_payment", pay, "posted", self.at(day, 15))

    def balances(self) -> dict[tuple[int, int], dict]:
        return {(b["product"], b["warehouse"]): b for b in self.w.rows("stock_balance")}

    def replenish(self, day: dt.date) -> None:
        """Weekly: order what fell under the reorder level, grouped by supplier and warehouse."""
        stock = self.balances()
        wanted: dict[tuple[int, int], list] = defaultdict(list)
        for p in self.products:
            for code, _, _, share in WAREHOUSES:
                wh = self.ids["wh"][code]
                b = stock.get((p["id"], wh))
                if b is None or b["available"] < 30:
                    wanted[(p["supplier"], wh)].append((p, int(max(40, 150 * share) // 10 * 10)))
        for (supplier, wh), lines in wanted.items():
            self.purchase(day, wh, supplier, lines[:40], self.rng.randint(2, 5))

    def transfer(self, day: dt.date) -> None:
        stock, main = self.balances(), self.ids["wh"]["WH-SH"]
        target = self.rng.choice([self.ids["wh"]["WH-GZ"], self.ids["wh"]["WH-CD"]])
        lines = []
        for p in self.rng.sample(self.products, min(30, len(self.products))):
            there, here = stock.get((p["id"], target)), stock.get((p["id"], main))
            if (there is None or there["available"] < 15) and here is not None and here["available"] > 60:
                lines.append({"product": p["id"], "qty": "20"})
        if lines:
            tr = self.w.create("warehouse", "stock_transfer", {"warehouse": main, "to_warehouse": target,
                                                               "transfer_date": day.isoformat(), "lines": lines[:10]},
                               self.at(day, 9))  # fmt: skip
            self.w.set_status("warehouse", "stock_transfer", tr, "posted", self.at(day, 18))

    def stocktake(self, day: dt.date, wh: int) -> None:
        stock = self.balances()
        lines = []
        for p in self.rng.sample(self.products, min(15, len(self.products))):
            b = stock.get((p["id"], wh))
            if b is None:
                continue
            counted = max(b["on_hand"] + self.rng.choice([0, 0, 0, 0, -1, -2, 1]), b["reserved"], Decimal(0))
            lines.append({"product": p["id"], "book_qty": str(b["on_hand"]), "counted_qty": str(counted)})
        if lines:
            st = self.w.create("warehouse", "stocktake", {"warehouse": wh, "stocktake_date": day.isoformat(),
                                                          "lines": lines}, self.at(day, 18))  # fmt: skip
            self.w.set_status("warehouse", "stocktake", st, "posted", self.at(day, 19))

    def purchase_return(self, day: dt.date) -> None:
        receipts = self.w.rows("purchase_receipt", lambda t: t.c.status == "posted")
        if not receipts:
            return
        gr = self.rng.choice(receipts[-20:])
        with self.w.svc.db.read() as session:
            ctx = self.w._ctx(session, "admin", self.at(day))
            gr = self.w.svc.queries.get(ctx, APP, "purchase_receipt", gr["id"])
        line = self.rng.choice(gr["lines"])
        pr = self.w.create("warehouse", "purchase_return", {
            "purchase_receipt": gr["id"], "supplier": gr["supplier"], "warehouse": gr["warehouse"],
            "return_date": day.isoformat(), "reason": "质量问题 Defects",
            "lines": [{"product": line["product"], "qty": "3", "unit_price": str(line["unit_price"])}]}, self.at(day, 10))  # fmt: skip
        self.w.set_status("warehouse", "purchase_return", pr, "posted", self.at(day, 11))

    # -- the run -----------------------------------------------------------------------------------
    def run(self) -> str:
        started = time.perf_counter()
        self.masters()
        self.products_by_id = {p["id"]: p for p in self.products}
        self.agenda: dict[dt.date, list] = defaultdict(list)
        # opening stock: one order per supplier and warehouse, received before the first day
        opening = self.start - dt.timedelta(days=5)
        for code, _, _, share in WAREHOUSES:
            by_supplier = defaultdict(list)
            for p in self.products:
                by_supplier[p["supplier"]].append(
                    (p, int(self.rng.randint(60, 160) * share * 2 // 10 * 10 + 20))
                )
            for supplier, lines in by_supplier.items():
                self.purchase(opening, self.ids["wh"][code], supplier, lines, 3)
        handlers = {"receive": self.receive, "deliver": self.deliver, "collect": self.collect, "return": self.sales_return,
                    "pay_supplier": self.pay_supplier,
                    "cancel": lambda d, so: self.w.set_status("sales", "sales_order", so, "cancelled", self.at(d, 12))}  # fmt: skip
        day = opening
        whs = list(self.ids["wh"].values())
        while day <= self.today:
            for kind, doc in self.agenda.pop(day, []):
                if kind in ("deliver", "cancel", "receive"):
                    entity = {"deliver": "sales_order", "cancel": "sales_order", "receive": "purchase_order"}[
                        kind
                    ]
                    doc = self._fresh(entity, doc["id"], day)
                handlers[kind](day, doc)
            if day >= self.start and day.weekday() < 6:
                for _ in range(self.rng.randint(*self.orders_per_day)):
                    self.sell(day)
            if day >= self.start and day.weekday() == 0:
                self.replenish(day)
            if day >= self.start and day.weekday() == 3:
                self.transfer(day)
            if day >= self.start and day.day == 20:
                self.purchase_return(day)
            if (day + dt.timedelta(days=1)).month != day.month and day >= self.start:
                self.stocktake(day, whs[day.month % len(whs)])
            day += dt.timedelta(days=1)
        # close the months before last month (结账)
        last_open = (self.today.replace(day=1) - dt.timedelta(days=1)).replace(day=1).strftime("%Y-%m")
        for period in self.w.rows("accounting_period"):
            if period["period"] < last_open:
                # the drafts left in it (orders refused at confirmation) are cancelled with the close
                closing = {"status": "closed", "cancel_drafts": True}
                self.w.change("finance", "accounting_period", period, closing, self.at(self.today, 8))
        counts = {e: len(self.w.rows(e)) for e in ("product", "customer", "sales_order", "delivery", "purchase_receipt",
                                                   "stock_ledger", "voucher")}  # fmt: skip
        seconds = time.perf_counter() - started
        return (f"demo data {self.start} .. {self.today}: " + ", ".join(f"{n} {e}" for e, n in counts.items())
                + f"; {self.w.refused} steps refused by rules (shortage, credit limit); {seconds:.0f} s")  # fmt: skip

    def _fresh(self, entity: str, record_id: int, day: dt.date) -> dict:
        with self.w.svc.db.read() as session:
            ctx = self.w._ctx(session, "admin", self.at(day))
            return self.w.svc.queries.get(ctx, APP, entity, record_id)


def generate_jxc(app: Flask, **options) -> str:
    """The JXC clothing wholesaler (see :class:`JxcDemo`); returns a one-line summary."""
    return JxcDemo(app, **options).run()


generators: dict[str, Callable[..., str]] = {APP: generate_jxc}
