"""Entities and a mapping shared by the mapping unit tests (no database: compiled entities only)."""

from __future__ import annotations

import sqlalchemy as sa

from lowcode.app import register_builtins
from lowcode.mappings.compiled import compile_mapping
from lowcode.runtime.compiler import compile_entity

register_builtins()

CUSTOMER = {
    "name": "customer",
    "fields": [{"name": "code", "type": "text", "unique": True}, {"name": "name", "type": "text"}],
}
PRODUCT = {
    "name": "product",
    "fields": [
        {"name": "sku", "type": "text", "unique": True},
        {"name": "name", "type": "text"},
        {"name": "kind", "type": "text"},
    ],
}
ORDER = {
    "name": "order",
    "fields": [
        {"name": "external_no", "type": "text", "unique": True},
        {"name": "customer", "type": "link", "options": {"entity": "customer"}},
        {
            "name": "status",
            "type": "select",
            "options": {"choices": [{"value": "draft"}, {"value": "confirmed"}, {"value": "void"}]},
        },
        {"name": "order_date", "type": "date"},
        {"name": "paid_at", "type": "datetime"},
        {"name": "total", "type": "money"},
        {"name": "note", "type": "text"},
        {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}},
    ],
}
LINE = {
    "name": "order_line",
    "child": True,
    "fields": [
        {"name": "product", "type": "link", "options": {"entity": "product"}},
        {"name": "qty", "type": "integer"},
        {"name": "price", "type": "money"},
        {"name": "amount", "type": "money"},
    ],
}
ENTITY_DOCS = {d["name"]: d for d in (CUSTOMER, PRODUCT, ORDER, LINE)}

SHOP_ORDER = {
    "name": "shop_order",
    "source": {"kind": "payload"},
    "target": "order",
    "key": {"source": "order_id", "field": "external_no"},
    "fields": [
        {"field": "customer", "source": "buyer.code", "lookup": {"entity": "customer", "by": "code"}},
        {
            "field": "status",
            "source": "$.state",
            "values": {"map": {"PAID": "confirmed", "CANCELLED": "void"}},
        },
        {"field": "order_date", "source": "created", "date_format": "%d/%m/%Y"},
        {"field": "total", "source": "amounts.total"},
        {"field": "note", "source": "remark", "default": "from the shop"},
    ],
    "children": [
        {
            "field": "lines",
            "source": "items[*]",
            "fields": [
                {
                    "field": "product",
                    "source": "sku",
                    "lookup": {
                        "entity": "product",
                        "by": "sku",
                        "missing": "create",
                        "create": {"name": "title"},
                    },
                },
                {"field": "qty", "source": "qty", "required": True},
                {"field": "price", "source": "price"},
                {"field": "amount", "expression": "qty * price"},
            ],
        }
    ],
}


def entities() -> dict:
    """The compiled entities of app ``shop``."""
    metadata = sa.MetaData()
    return {("shop", n): compile_entity("shop", d, 1, metadata) for n, d in ENTITY_DOCS.items()}


def compiled(doc: dict = SHOP_ORDER):
    """A mapping document compiled against the entities."""
    return compile_mapping("shop", doc, entities())
