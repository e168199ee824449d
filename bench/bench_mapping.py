"""Mapping engine benchmark (issue 15 item 1): 12,000 shop orders of 3 lines each mapped by the mapping engine
(``map_rows`` in batches of 500: paths, value map, date format, lookups once per batch, casts through the field
types' parsers, a computed line amount) next to a hand-written mapper doing the same steps on the same dicts,
in one run. No database: lookups come from in-memory tables (``DictLookups``), so this measures the engine's
own cost - the part ingestion adds in front of the record service.

Run from the project root::

    .venv/bin/python -m bench.bench_mapping              # 12,000 orders
    .venv/bin/python -m bench.bench_mapping --orders 2000

Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from lowcode.app import register_builtins  # noqa: E402
from lowcode.core.jsonutil import dumps, loads_exact  # noqa: E402
from lowcode.mappings.compiled import compile_mapping  # noqa: E402
from lowcode.mappings.engine import map_rows  # noqa: E402
from lowcode.mappings.lookups import DictLookups  # noqa: E402
from lowcode.runtime.compiler import compile_entity  # noqa: E402

BATCH = 500
ENTITIES = [
    {"name": "customer", "fields": [{"name": "code", "type": "text", "unique": True}]},
    {"name": "product", "fields": [{"name": "sku", "type": "text", "unique": True}]},
    {"name": "order", "fields": [
        {"name": "external_no", "type": "text", "unique": True},
        {"name": "customer", "type": "link", "options": {"entity": "customer"}},
        {"name": "status", "type": "select", "options": {"choices": [{"value": "draft"}, {"value": "confirmed"}]}},
        {"name": "order_date", "type": "date"},
        {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}}]},
    {"name": "order_line", "child": True, "fields": [
        {"name": "product", "type": "link", "options": {"entity": "product"}},
        {"name": "qty", "type": "integer"},
        {"name": "price", "type": "money"},
        {"name": "amount", "type": "money"}]},
]  # fmt: skip
MAPPING = {
    "name": "shop_order", "source": {"kind": "payload"}, "target": "order",
    "key": {"source": "order_id", "field": "external_no"},
    "fields": [
        {"field": "customer", "source": "buyer.code", "lookup": {"entity": "customer", "by": "code"}},
        {"field": "status", "source": "state", "values": {"map": {"PAID": "confirmed"}, "default": "draft"}},
        {"field": "order_date", "source": "created", "date_format": "%Y-%m-%d"}],
    "children": [{"field": "lines", "source": "items[*]", "fields": [
        {"field": "product", "source": "sku", "lookup": {"entity": "product", "by": "sku"}},
        {"field": "qty", "source": "qty"},
        {"field": "price", "source": "price"},
        {"field": "amount", "expression": "qty * price"}]}],
}  # fmt: skip
CUSTOMERS = {f"C{i}": i + 1 for i in range(200)}
PRODUCTS = {f"SKU-{i}": i + 1 for i in range(1000)}


def orders(n: int) -> list[dict]:
    """``n`` payloads as the API would parse them (exact decimals)."""
    raw = [
        {
            "order_id": f"W-{i}",
            "buyer": {"code": f"C{i % 200}"},
            "state": "PAID" if i % 3 else "NEW",
            "created": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "items": [
                {"sku": f"SKU-{(i * 3 + j) % 1000}", "qty": 1 + j, "price": f"{10 + j}.50"} for j in range(3)
            ],
        }
        for i in range(n)
    ]
    return loads_exact(dumps(raw))


def by_hand(items: list[dict]) -> list[dict]:
    """The same steps written for this one payload shape."""
    out = []
    cents = Decimal("0.01")
    for item in items:
        lines = []
        for line in item["items"]:
            price = Decimal(line["price"])
            if price != price.quantize(cents):
                raise ValueError("too many places")
            qty = int(line["qty"])
            lines.append(
                {"product": PRODUCTS[line["sku"]], "qty": qty, "price": price, "amount": qty * price}
            )
        out.append(
            {
                "external_no": item["order_id"],
                "customer": CUSTOMERS[item["buyer"]["code"]],
                "status": {"PAID": "confirmed"}.get(item["state"], "draft"),
                "order_date": dt.datetime.strptime(item["created"], "%Y-%m-%d").date(),
                "lines": lines,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=12_000)
    args = parser.parse_args()
    register_builtins()
    metadata = sa.MetaData()
    compiled = {("b", e["name"]): compile_entity("b", e, 1, metadata) for e in ENTITIES}
    mapping = compile_mapping("b", MAPPING, compiled)
    lookups = DictLookups({("customer", "code"): CUSTOMERS, ("product", "sku"): PRODUCTS})
    items = orders(args.orders)
    start = time.perf_counter()
    hand = by_hand(items)
    hand_s = time.perf_counter() - start
    start = time.perf_counter()
    mapped = [
        r for i in range(0, len(items), BATCH) for r in map_rows(mapping, items[i : i + BATCH], lookups)
    ]
    engine_s = time.perf_counter() - start
    assert all(r.ok for r in mapped), mapped[0].errors
    assert [r.data() for r in mapped[:5]] == hand[:5]
    n = args.orders
    print(f"orders: {n} x 3 lines, batches of {BATCH}, lookup calls: {lookups.queries}")
    print(f"hand-written: {hand_s:7.3f} s  {n / hand_s:10.0f} orders/s")
    print(
        f"engine:       {engine_s:7.3f} s  {n / engine_s:10.0f} orders/s  ({engine_s / hand_s:.1f}x the hand-written)"
    )


if __name__ == "__main__":
    main()
