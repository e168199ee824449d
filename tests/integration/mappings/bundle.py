"""The app the mapping integration tests install: customers, products, orders with lines, a clerk role that
may work with orders but not design, and two mappings (a shop's order payload; a copy of an order)."""

from __future__ import annotations

import copy

SHOP_ORDER = {
    "name": "shop_order",
    "label": {"en": "Shop order", "zh-CN": "网店订单"},
    "source": {"kind": "payload"},
    "target": "order",
    "key": {"source": "order_id", "field": "external_no"},
    "fields": [
        {"field": "customer", "source": "buyer.code", "lookup": {"entity": "customer", "by": "code"}},
        {"field": "status", "source": "state", "values": {"map": {"PAID": "confirmed"}, "default": "draft"}},
        {"field": "order_date", "source": "created", "date_format": "%d/%m/%Y"},
        {"field": "note", "source": "remark", "default": "shop"},
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
COPY_ORDER = {
    "name": "copy_order",
    "source": {"kind": "record", "entity": "order"},
    "target": "order",
    "fields": [
        {"field": "customer", "source": "customer"},
        {"field": "secret", "source": "secret"},
        {"field": "note", "expression": "concat('copy of ', source.note)"},
    ],
    "children": [
        {
            "field": "lines",
            "source": "lines",
            "fields": [{"field": "product", "source": "product"}, {"field": "qty", "source": "qty"}],
        }
    ],
}
BUNDLE = {
    "app": {"name": "shop", "label": "Shop"},
    "entities": [
        {
            "name": "customer",
            "label": "Customer",
            "title_field": "code",
            "fields": [{"name": "code", "type": "text", "unique": True}, {"name": "name", "type": "text"}],
        },
        {
            "name": "product",
            "label": "Product",
            "title_field": "sku",
            "fields": [{"name": "sku", "type": "text", "unique": True}, {"name": "name", "type": "text"}],
        },
        {
            "name": "order",
            "label": "Order",
            "fields": [
                {"name": "external_no", "type": "text", "unique": True},
                {"name": "customer", "type": "link", "options": {"entity": "customer"}},
                {
                    "name": "status",
                    "type": "select",
                    "options": {"choices": [{"value": "draft"}, {"value": "confirmed"}]},
                },
                {"name": "order_date", "type": "date"},
                {"name": "note", "type": "text"},
                {"name": "secret", "type": "text"},
                {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}},
            ],
        },
        {
            "name": "order_line",
            "label": "Line",
            "child": True,
            "fields": [
                {"name": "product", "type": "link", "options": {"entity": "product"}},
                {"name": "qty", "type": "integer"},
                {"name": "price", "type": "money"},
                {"name": "amount", "type": "money"},
            ],
        },
    ],
    "roles": [
        {
            "name": "clerk",
            "label": "Clerk",
            "grants": [
                {"entity": "order", "actions": ["read", "create", "update"], "fields": {"secret": "hidden"}},
                {"entity": "customer", "actions": ["read"]},
                {"entity": "product", "actions": ["read"]},
            ],
        },
        {"name": "boss", "label": "Boss", "admin": True},
    ],
    "rules": [
        {
            "name": "no_refused_notes",
            "entity": "order",
            "trigger": {"events": ["create"], "phase": "before"},
            "actions": [{"type": "refuse", "when": "note = 'refuse'", "message": "This order is refused"}],
        }
    ],
    "mappings": [SHOP_ORDER, COPY_ORDER],
}


def bundle() -> dict:
    """A fresh copy of the bundle."""
    return copy.deepcopy(BUNDLE)


PAYLOAD = {
    "order_id": "W-1",
    "buyer": {"code": "C1"},
    "state": "PAID",
    "created": "03/02/2025",
    "items": [
        {"sku": "A", "qty": 2, "price": "1.25"},
        {"sku": "NEW-1", "qty": "1", "price": "10", "title": "Brand new"},
    ],
}


PASSWORD = "user-pass-123"


def install(app, api) -> None:
    """Import the bundle, two customers and a product; users kim (clerk) and bo (the app's admin role)."""
    from tests.integration.pages.helpers import add_role_users

    response = api.post("/api/templates/import", json=bundle())
    assert response.status_code == 201, response.get_json()
    for code in ("C1", "C2"):
        assert api.post("/api/data/shop/customer", json={"code": code, "name": code}).status_code == 201
    assert api.post("/api/data/shop/product", json={"sku": "A", "name": "Shirt"}).status_code == 201
    add_role_users(app, "shop", {"kim": "clerk", "bo": "boss"}, PASSWORD)
