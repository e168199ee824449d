"""A small stock-reservation app used by the rule-engine tests (JSON definitions only)."""

DEC = {"options": {"scale": 3}}

BUNDLE = {
    "app": {"name": "shop", "label": "Shop"},
    "entities": [
        {"name": "product", "label": "Product", "fields": [
            {"name": "sku", "type": "text", "required": True, "unique": True}]},
        {"name": "warehouse", "label": "Warehouse", "fields": [
            {"name": "code", "type": "text", "required": True, "unique": True}]},
        {"name": "stock_balance", "label": "Stock balance", "unique_together": [["product", "warehouse"]], "fields": [
            {"name": "product", "type": "link", "required": True, "options": {"entity": "product"}},
            {"name": "warehouse", "type": "link", "required": True, "options": {"entity": "warehouse"}},
            {"name": "on_hand", "type": "decimal", "default": "0", **DEC},
            {"name": "reserved", "type": "decimal", "default": "0", **DEC},
            {"name": "available", "type": "formula",
             "options": {"expression": "on_hand - reserved", "result": "decimal", "scale": 3}}]},
        {"name": "stock_ledger", "label": "Stock ledger", "fields": [
            {"name": "product", "type": "link", "options": {"entity": "product"}},
            {"name": "warehouse", "type": "link", "options": {"entity": "warehouse"}},
            {"name": "kind", "type": "text"},
            {"name": "qty", "type": "decimal", **DEC},
            {"name": "order_id", "type": "integer"}]},
        {"name": "order_line", "label": "Line", "child": True, "fields": [
            {"name": "product", "type": "link", "required": True, "options": {"entity": "product"}},
            {"name": "qty", "type": "decimal", "required": True, **DEC}]},
        {"name": "sales_order", "label": "Sales order", "fields": [
            {"name": "number", "type": "autonumber", "unique": True, "options": {"pattern": "SO-{#####}"}},
            {"name": "warehouse", "type": "link", "required": True, "options": {"entity": "warehouse"}},
            {"name": "status", "type": "select", "default": "draft", "options": {"choices": [
                {"value": "draft"}, {"value": "confirmed"}, {"value": "cancelled"}]}},
            {"name": "note", "type": "text"},
            {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}}]},
    ],
    "rules": [
        {"name": "needs_lines", "entity": "sales_order", "order": 1,
         "trigger": {"events": ["update"], "phase": "before", "transition": {"field": "status", "to": ["confirmed"]}},
         "actions": [{"type": "refuse", "when": "len(lines) = 0", "message": "Order {number} has no lines"}]},
        {"name": "label_note", "entity": "sales_order",
         "trigger": {"events": ["create"], "phase": "before"},
         "actions": [{"type": "set_fields", "when": "note = null", "values": {"note": "concat('lines: ', len(lines))"}}]},
        {"name": "reserve_on_confirm", "entity": "sales_order", "order": 10,
         "trigger": {"events": ["update"], "phase": "after",
                     "transition": {"field": "status", "from": ["draft"], "to": ["confirmed"]}},
         "actions": [{"type": "for_each_child", "child": "lines", "as": "line", "actions": [
             {"type": "update_records", "entity": "stock_balance", "expect": "one",
              "where": {"all": [{"field": "product", "op": "=", "value": "$line.product"},
                                {"field": "warehouse", "op": "=", "value": "$record.warehouse"}]},
              "set": {"reserved": "reserved + line.qty"},
              "guard": "on_hand - reserved >= line.qty",
              "missing_message": "No stock of product {line.product} in this warehouse",
              "refuse_message": "Not enough stock of product {line.product}: short by {line.qty - (target.on_hand - target.reserved)}"},
             {"type": "create_record", "entity": "stock_ledger", "values": {
                 "product": "line.product", "warehouse": "record.warehouse", "kind": "'reserve'",
                 "qty": "line.qty", "order_id": "parent.id"}}]}]},
        {"name": "release_on_cancel", "entity": "sales_order", "order": 10,
         "trigger": {"events": ["update"], "phase": "after",
                     "transition": {"field": "status", "from": ["confirmed"], "to": ["cancelled"]}},
         "actions": [{"type": "for_each_child", "child": "lines", "as": "line", "actions": [
             {"type": "update_records", "entity": "stock_balance", "expect": "one",
              "where": {"all": [{"field": "product", "op": "=", "value": "$line.product"},
                                {"field": "warehouse", "op": "=", "value": "$record.warehouse"}]},
              "set": {"reserved": "reserved - line.qty"}},
             {"type": "create_record", "entity": "stock_ledger", "values": {
                 "product": "line.product", "warehouse": "record.warehouse", "kind": "'release'",
                 "qty": "-line.qty", "order_id": "record.id"}}]}]},
        {"name": "receive_into_stock", "entity": "stock_ledger",
         "trigger": {"events": ["create"], "phase": "after", "condition": {"field": "kind", "op": "=", "value": "receipt"}},
         "actions": [{"type": "upsert", "entity": "stock_balance",
                      "key": {"product": "product", "warehouse": "warehouse"},
                      "set": {"on_hand": "on_hand + qty"}}]},
    ],
}  # fmt: skip
