"""The app the report tests install: customers, categories, products, orders with lines (amount and cost), a
small data set whose figures are worked out by hand below, roles that may or may not run the reports."""

from __future__ import annotations

import copy

from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
SALES = {
    "name": "sales",
    "label": {"en": "Sales by customer and month", "zh-CN": "按客户和月份的销售"},
    "source": "order_line",
    "params": [
        {"name": "period", "type": "date_range", "required": True, "default": "this_month",
         "label": {"en": "Period", "zh-CN": "期间"}},
        {"name": "customer", "type": "link", "entity": "customer", "label": {"en": "Customer", "zh-CN": "客户"}},
        {"name": "status", "type": "choice", "choices": [{"value": "draft"}, {"value": "confirmed"}]},
    ],
    "filter": {"all": [
        {"field": "parent.order_date", "op": ">=", "value": "$param.period.from"},
        {"field": "parent.order_date", "op": "<=", "value": "$param.period.to"},
        {"field": "parent.customer", "op": "=", "value": "$param.customer"},
        {"field": "parent.status", "op": "=", "value": "$param.status"},
    ]},
    "dimensions": [
        {"name": "customer", "field": "parent.customer.name", "label": {"en": "Customer", "zh-CN": "客户"}},
        {"name": "month", "field": "parent.order_date", "bucket": "month", "label": {"en": "Month", "zh-CN": "月份"}},
    ],
    "measures": [
        {"name": "revenue", "agg": "sum", "field": "amount", "label": {"en": "Revenue", "zh-CN": "收入"}},
        {"name": "cost", "agg": "sum", "field": "cost", "label": {"en": "Cost", "zh-CN": "成本"}},
        {"name": "qty", "agg": "sum", "field": "qty"},
        {"name": "lines", "agg": "count"},
        {"name": "margin", "formula": "(revenue - cost) / revenue * 100", "scale": 2, "suffix": " %",
         "label": {"en": "Margin", "zh-CN": "毛利率"}},
    ],
    "totals": True,
    "subtotals": True,
}  # fmt: skip
BY_STATUS = {
    "name": "by_status",
    "source": "order",
    "dimensions": [{"name": "status", "field": "status"}],
    "measures": [
        {"name": "orders", "agg": "count_distinct", "field": "id"},
        {"name": "revenue", "agg": "sum", "field": "lines.amount"},
        {"name": "avg_line", "agg": "avg", "field": "lines.amount"},
        {"name": "customers", "agg": "count_distinct", "field": "customer"},
        {"name": "biggest", "agg": "max", "field": "lines.amount"},
    ],
}
PRODUCT_PIVOT = {
    "name": "product_pivot",
    "source": "order_line",
    "dimensions": [
        {"name": "category", "field": "product.category.name"},
        {"name": "month", "field": "parent.order_date", "bucket": "month"},
    ],
    "measures": [{"name": "revenue", "agg": "sum", "field": "amount"}],
    "pivot": "month",
    "top": {"n": 1, "by": "revenue", "others": True},
}
MONEY = {"currency": "CNY"}
BUNDLE = {
    "app": {"name": "shop", "label": "Shop"},
    "entities": [
        {"name": "customer", "label": "Customer", "title_field": "name",
         "fields": [{"name": "name", "type": "text"}]},
        {"name": "category", "label": "Category", "title_field": "name",
         "fields": [{"name": "name", "type": "text"}]},
        {"name": "product", "label": "Product", "title_field": "name",
         "fields": [{"name": "name", "type": "text"},
                    {"name": "category", "type": "link", "options": {"entity": "category"}}]},
        {"name": "order", "label": "Order", "fields": [
            {"name": "customer", "type": "link", "options": {"entity": "customer"}},
            {"name": "order_date", "type": "date"},
            {"name": "status", "type": "select", "options": {"choices": [
                {"value": "draft", "label": {"en": "Draft", "zh-CN": "草稿"}},
                {"value": "confirmed", "label": {"en": "Confirmed", "zh-CN": "已确认"}}]}},
            {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}},
        ]},
        {"name": "order_line", "label": "Line", "child": True, "fields": [
            {"name": "product", "type": "link", "options": {"entity": "product"}},
            {"name": "qty", "type": "decimal", "options": {"scale": 3}},
            {"name": "amount", "type": "money", "options": MONEY},
            {"name": "cost", "type": "money", "options": MONEY},
        ]},
    ],
    "roles": [
        {"name": "clerk", "label": "Clerk", "reports": ["sales", "by_status"], "grants": [
            {"entity": "order", "actions": ["read", "create", "update"],
             "record_rule": {"field": "owner", "op": "=", "value": "$user.id"}},
            {"entity": "customer", "actions": ["read"]},
            {"entity": "product", "actions": ["read"]},
            {"entity": "category", "actions": ["read"]},
        ]},
        {"name": "nocost", "label": "No cost", "reports": ["sales"], "grants": [
            {"entity": "order", "actions": ["read"]},
            {"entity": "order_line", "actions": ["read"], "fields": {"cost": "hidden"}},
            {"entity": "customer", "actions": ["read"]},
        ]},
        {"name": "nocust", "label": "No customers", "reports": ["sales"], "grants": [
            {"entity": "order", "actions": ["read"]},
        ]},
        {"name": "viewer", "label": "Viewer", "grants": [
            {"entity": "order", "actions": ["read"]},
            {"entity": "customer", "actions": ["read"]},
        ]},
    ],
    "reports": [SALES, BY_STATUS, PRODUCT_PIVOT],
}  # fmt: skip

ORDERS = [
    # (by, customer, date, status, [(product, qty, amount, cost)])
    (
        "admin",
        "Acme",
        "2026-01-15",
        "confirmed",
        [("Shirt", "2", "20.00", "12.00"), ("Bag", "1", "33.33", "20.00")],
    ),
    ("kim", "Acme", "2026-02-03", "confirmed", [("Shirt", "3", "30.00", "18.00")]),
    ("kim", "Beta", "2026-01-20", "confirmed", [("Bag", "1", "0.00", "0.00")]),
    ("admin", "Beta", "2026-02-28", "draft", [("Shirt", "1", "10.00", "6.00")]),
]
DELETED = ("admin", "Acme", "2026-01-10", "confirmed", [("Shirt", "100", "1000.00", "1.00")])
PERIOD = "param.period.from=2026-01-01&param.period.to=2026-02-28"


def bundle() -> dict:
    """A fresh copy of the bundle."""
    return copy.deepcopy(BUNDLE)


def as_user(app, name: str) -> ApiClient:
    """An API client signed in as one of the bundle's users."""
    client = app.test_client()
    return ApiClient(client, login(client, name, PASSWORD))


def install(app, api) -> dict:
    """Import the bundle, the master data and the orders (kim's through kim); one more order deleted."""
    from tests.integration.pages.helpers import add_role_users

    response = api.post("/api/templates/import", json=bundle())
    assert response.status_code == 201, response.get_json()
    add_role_users(
        app, "shop", {"kim": "clerk", "nora": "nocost", "ned": "nocust", "vic": "viewer"}, PASSWORD
    )
    ids: dict = {}
    for entity, names in (("customer", ["Acme", "Beta"]), ("category", ["Apparel", "Bags"])):
        for name in names:
            ids[name] = api.post(f"/api/data/shop/{entity}", json={"name": name}).get_json()["id"]
    for name, category in (("Shirt", "Apparel"), ("Bag", "Bags")):
        body = {"name": name, "category": ids[category]}
        ids[name] = api.post("/api/data/shop/product", json=body).get_json()["id"]
    clients = {"admin": api, "kim": as_user(app, "kim")}
    for by, customer, date, status, lines in [*ORDERS, DELETED]:
        body = {
            "customer": ids[customer],
            "order_date": date,
            "status": status,
            "lines": [{"product": ids[p], "qty": q, "amount": a, "cost": c} for p, q, a, c in lines],
        }
        response = clients[by].post("/api/data/shop/order", json=body)
        assert response.status_code == 201, response.get_json()
        ids.setdefault("orders", []).append(response.get_json()["id"])
    deleted = ids["orders"][-1]
    assert api.delete(f"/api/data/shop/order/{deleted}", headers={"If-Match": '"1"'}).status_code in (
        200,
        204,
    )
    return ids
