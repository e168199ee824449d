"""A small order app with a workflow, defined here so the workflow tests depend on no template."""

from __future__ import annotations

import copy

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment

PASSWORD = "user-pass-123"

FLOW = {
    "name": "order_flow", "label": {"en": "Order flow", "zh-CN": "订单流程"}, "entity": "order",
    "state_field": "status", "initial": "draft",
    "states": [
        {"name": "draft", "label": {"en": "Draft", "zh-CN": "草稿"}, "color": "grey"},
        {"name": "confirmed", "color": "blue", "lock": {"record": True, "except": ["note"]}, "delete": False},
        {"name": "shipped", "color": "green", "lock": {"record": True}, "delete": False},
        {"name": "cancelled", "color": "red", "lock": {"fields": ["customer", "lines"]}},
    ],
    "transitions": [
        {"name": "confirm", "from": "draft", "to": "confirmed", "label": {"en": "Confirm", "zh-CN": "确认"},
         "condition": {"field": "total", "op": ">", "value": 0},
         "condition_message": {"en": "an order needs lines with a total above zero", "zh-CN": "订单金额必须大于零"},
         "confirm": {"en": "Confirm this order?", "zh-CN": "确认此订单？"}},
        {"name": "ship", "from": "confirmed", "to": "shipped", "label": {"en": "Ship", "zh-CN": "发货"}},
        {"name": "cancel", "from": ["draft", "confirmed"], "to": "cancelled", "label": {"en": "Cancel", "zh-CN": "取消"},
         "required_fields": ["cancel_reason"]},
    ],
}  # fmt: skip

BUNDLE = {
    "app": {"name": "shop", "label": "Shop"},
    "entities": [
        {"name": "order", "label": {"en": "Order", "zh-CN": "订单"}, "title_field": "customer", "fields": [
            {"name": "customer", "type": "text", "label": "Customer", "required": True},
            {"name": "status", "type": "select", "label": {"en": "Status", "zh-CN": "状态"}, "default": "draft",
             "options": {"choices": [{"value": "draft", "label": {"en": "Draft", "zh-CN": "草稿"}},
                                     {"value": "confirmed", "label": {"en": "Confirmed", "zh-CN": "已确认"}},
                                     {"value": "shipped", "label": {"en": "Shipped", "zh-CN": "已发货"}},
                                     {"value": "cancelled", "label": {"en": "Cancelled", "zh-CN": "已取消"}}]}},
            {"name": "note", "type": "text", "label": "Note"},
            {"name": "cancel_reason", "type": "text", "label": "Cancel reason"},
            {"name": "lines", "type": "child_table", "label": "Lines", "options": {"entity": "order_line"}},
            {"name": "total", "type": "rollup", "label": "Total",
             "options": {"child": "lines", "field": "amount", "function": "sum", "scale": 2}},
        ]},
        {"name": "order_line", "label": "Order line", "child": True, "fields": [
            {"name": "item", "type": "text", "required": True},
            {"name": "amount", "type": "decimal", "options": {"scale": 2}},
        ]},
        {"name": "shipment_log", "label": "Shipment log", "fields": [{"name": "order_id", "type": "integer"}, {"name": "what", "type": "text"}]},
    ],
    "workflows": [FLOW],
    "roles": [
        {"name": "clerk", "label": "Clerk", "grants": [
            {"entity": "order", "actions": ["read", "create", "update", "delete"], "transitions": ["confirm", "cancel"],
             "record_rule": {"field": "owner", "op": "=", "value": "$user.id"}}]},
        {"name": "shipper", "label": "Shipper", "grants": [
            {"entity": "order", "actions": ["read"], "transitions": ["ship"]}]},
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "order", "actions": ["read"]}]},
    ],
    "rules": [
        {"name": "log_ship", "entity": "order",
         "trigger": {"events": ["update"], "phase": "after", "transition": "ship"},
         "actions": [{"type": "create_record", "entity": "shipment_log",
                      "values": {"order_id": "record.id", "what": "'shipped'"}}]},
    ],
}  # fmt: skip


def bundle() -> dict:
    """A fresh copy of the bundle (tests change it)."""
    return copy.deepcopy(BUNDLE)


def install(
    app, api, users=(("cleo", "clerk"), ("cora", "clerk"), ("sam", "shipper"), ("vic", "viewer"))
) -> None:
    """Import the bundle and create its users with their roles."""
    response = api.post("/api/templates/import", json=bundle())
    assert response.status_code == 201, response.get_json()
    with app.extensions["lowcode"].db.write() as s:
        for name, role in users:
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="shop", role=role, granted_by="test"))
