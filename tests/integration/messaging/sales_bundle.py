"""A small sales app whose confirmation rule notifies, calls a webhook and publishes an event (JSON only)."""

from __future__ import annotations

from typing import Any


def sales_bundle(webhook_url: str) -> dict[str, Any]:
    """The bundle, with the webhook pointing at ``webhook_url`` (a test's local HTTP server)."""
    return {
        "app": {"name": "sales", "label": "Sales"},
        "entities": [
            {"name": "sales_order", "label": "Sales order", "fields": [
                {"name": "number", "type": "autonumber", "unique": True, "options": {"pattern": "SO-{####}"}},
                {"name": "amount", "type": "decimal", "options": {"scale": 2}},
                {"name": "status", "type": "select", "default": "draft", "options": {"choices": [
                    {"value": "draft"}, {"value": "confirmed"}, {"value": "cancelled"}]}},
                {"name": "salesperson", "type": "user"},
                {"name": "note", "type": "text"}]},
        ],
        "roles": [
            {"name": "manager", "label": "Manager", "grants": [{"entity": "sales_order", "actions": ["read"]}]},
            {"name": "clerk", "label": "Clerk",
             "grants": [{"entity": "sales_order", "actions": ["read", "create", "update"]}]},
        ],
        "rules": [
            {"name": "tell_on_confirm", "entity": "sales_order", "order": 10,
             "trigger": {"events": ["update"], "phase": "after",
                         "transition": {"field": "status", "from": ["draft"], "to": ["confirmed"]}},
             "actions": [
                 {"type": "notify", "to": [{"role": "manager"}, {"field": "salesperson"}],
                  "title": "Order {number} confirmed", "body": "Amount {amount} by {user.username}. Note: {note}"},
                 {"type": "notify", "to": {"user": "user.id"}, "title": "You confirmed {number}",
                  "link": "/a/sales/sales_order?mine=1"},
                 {"type": "call_webhook", "url": webhook_url, "headers": {"X-Source": "sales {number}"},
                  "payload": {"number": "number", "amount": "amount", "by": "user.username", "lines": 2}},
                 {"type": "publish_event", "topic": "sales.order.confirmed",
                  "payload": {"id": "id", "amount": "amount"}}]},
            {"name": "cap_amount", "entity": "sales_order", "order": 20,
             "trigger": {"events": ["update"], "phase": "after",
                         "transition": {"field": "status", "to": ["confirmed"]}},
             "actions": [{"type": "refuse", "when": "amount > 1000",
                          "message": "Order {number} needs approval: {amount} is over 1000"}]},
        ],
    }  # fmt: skip
