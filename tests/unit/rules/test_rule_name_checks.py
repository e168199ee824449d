"""Every name a rule uses must resolve in the app it is published in (issue 9, item 5): one case per kind of
reference - trigger fields and conditions, `when`, message templates, loops and their rows, the entities,
keys and fields of create_record / update_records / upsert, notify recipients, webhook and event payloads -
each refused with its JSON path, and the names that do resolve pass (no database: the checks need none)."""

from __future__ import annotations

import copy

import pytest

from lowcode.app import register_builtins
from lowcode.definitions.checks import app_errors_for

register_builtins()


def _f(name: str, type_: str, **options) -> dict:
    return {"name": name, "type": type_, **({"options": options} if options else {})}


ENTITIES = {
    "customer": {
        "name": "customer",
        "label": "Customer",
        "fields": [_f("name", "text"), _f("credit", "decimal")],
    },
    "product": {
        "name": "product",
        "label": "Product",
        "fields": [
            _f("sku", "text"),
            _f("on_hand", "integer"),
            _f("reserved", "integer"),
            _f("available", "formula", expression="on_hand - reserved", result="integer"),
        ],
    },
    "order": {
        "name": "order",
        "label": "Order",
        "fields": [
            _f("number", "text"),
            _f("customer", "link", entity="customer"),
            _f("clerk", "user"),
            _f("status", "select", choices=[{"value": "draft"}, {"value": "confirmed"}]),
            _f("total", "decimal"),
            _f("lines", "child_table", entity="order_line"),
            _f("qty_total", "rollup", child="lines", field="qty", function="sum"),
        ],
    },
    "order_line": {
        "name": "order_line",
        "label": "Line",
        "child": True,
        "fields": [_f("product", "link", entity="product"), _f("qty", "integer"), _f("price", "decimal")],
    },
}
ROLES = {"manager": {"name": "manager", "label": "Manager"}}


def _errors(*actions: dict, trigger: dict | None = None, schedule: dict | None = None, settings=None) -> dict:
    rule = {"name": "r", "entity": "order", "actions": list(actions)}
    rule.update(
        {"schedule": schedule}
        if schedule
        else {"trigger": trigger or {"events": ["update"], "phase": "before"}}
    )
    docs = {"entity": copy.deepcopy(ENTITIES), "role": ROLES, "rule": {"r": rule}}
    return app_errors_for(docs, settings or {})


def _loop(*actions: dict, **options) -> dict:
    return {"type": "for_each_child", "child": "lines", "actions": list(actions), **options}


def _update(**options) -> dict:
    return {
        "type": "update_records",
        "entity": "product",
        "where": {"field": "id", "op": "=", "value": "$line.product"},
        "set": {"reserved": "reserved + line.qty"},
        **options,
    }


def test_a_rule_whose_names_all_resolve_passes():
    assert (
        _errors(
            {
                "type": "refuse",
                "when": "total > customer and record.qty_total > 0 and old.status = 'draft'",
                "message": "{number} of {record.clerk} ({user.department}) at {now}",
            },
            _loop(
                _update(
                    guard="on_hand - reserved >= line.qty", refuse_message="{target.sku}: {parent.number}"
                )
            ),
            {
                "type": "create_record",
                "entity": "order",
                "as": "copy",
                "values": {"number": "number", "total": "total"},
                "children": {
                    "lines": {"from": "lines", "values": {"product": "line.product", "qty": "line.qty"}}
                },
            },
            {
                "type": "notify",
                "to": [{"role": "manager"}, {"field": "clerk"}, {"user": "copy.clerk"}],
                "title": "Copied as {copy.id}",
            },
        )
        == {}
    )


RENAMED = [
    # (action or trigger, JSON path, message)
    ({"type": "refuse", "when": "qty_sum > 0", "message": "x"}, "actions/0/when", "unknown name 'qty_sum'"),
    (
        {"type": "refuse", "message": "Total {record.amount}"},
        "actions/0/message",
        "{record.amount}: 'record' (a order record) has no field 'amount'",
    ),
    (
        {"type": "refuse", "message": "{old.totl}"},
        "actions/0/message",
        "{old.totl}: 'old' (a order record) has no field 'totl'",
    ),
    (
        {"type": "refuse", "message": "{user.salary}"},
        "actions/0/message",
        "{user.salary}: 'user' (the user's facts) has no field 'salary'",
    ),
    ({"type": "refuse", "message": "{number +}"}, "actions/0/message", None),  # a syntax error: its own check
    (
        {"type": "set_fields", "values": {"totl": "total"}},
        "actions/0/values/totl",
        "'totl' is not a writable field of order",
    ),
    (
        {"type": "set_fields", "values": {"qty_total": "1"}},
        "actions/0/values/qty_total",
        "'qty_total' is not a writable field of order",
    ),
    (
        {"type": "set_fields", "values": {"total": "amount * 2"}},
        "actions/0/values/total",
        "unknown name 'amount'",
    ),
    (
        _loop({"type": "refuse", "message": "x"}, child="items"),
        "actions/0/child",
        "'items' is not a child table of order",
    ),
    (
        _loop({"type": "refuse", "message": "x"}, child="customer"),
        "actions/0/child",
        "'customer' is not a child table of order",
    ),
    (
        _loop({"type": "refuse", "when": "line.quantity > 0", "message": "x"}),
        "actions/0/actions/0/when",
        "'line' (a order_line record) has no field 'quantity'",
    ),
    (
        _loop({"type": "refuse", "when": "row.qty > 0", "message": "x"}, **{"as": "ln"}),
        "actions/0/actions/0/when",
        "unknown name 'row'",
    ),
    (
        _loop(_update(where={"field": "sku_code", "op": "=", "value": "x"})),
        "actions/0/actions/0/where/field",
        "unknown field 'sku_code'",
    ),
    (
        _loop(_update(where={"field": "id", "op": "=", "value": "$line.prod"})),
        "actions/0/actions/0/where/value",
        "'$line' (a order_line record) has no field 'prod'",
    ),
    (
        _loop(_update(where={"field": "id", "op": "=", "value": "$item.id"})),
        "actions/0/actions/0/where/value",
        "unknown variable '$item'",
    ),
    (
        _loop(_update(set={"reserve": "1"})),
        "actions/0/actions/0/set/reserve",
        "'reserve' is not a writable field of product",
    ),
    (
        _loop(_update(set={"available": "1"})),
        "actions/0/actions/0/set/available",
        "'available' is not a writable field of product",
    ),
    (
        _loop(_update(set={"reserved": "reservd + line.qty"})),
        "actions/0/actions/0/set/reserved",
        "unknown name 'reservd'",
    ),
    (_loop(_update(guard="onhand >= line.qty")), "actions/0/actions/0/guard", "unknown name 'onhand'"),
    (
        _loop(_update(refuse_message="{target.name}")),
        "actions/0/actions/0/refuse_message",
        "{target.name}: 'target' (a product record) has no field 'name'",
    ),
    (
        _loop(_update(missing_message="{target.sku}")),
        "actions/0/actions/0/missing_message",
        "{target.sku}: unknown name 'target'",
    ),
    (
        {
            "type": "update_records",
            "entity": "product",
            "where": {"field": "id", "op": "=", "value": "$record.product"},
            "set": {"reserved": "1"},
        },
        "actions/0/where/value",
        "'$record' (a order record) has no field 'product'",
    ),
    (
        {"type": "upsert", "entity": "product", "key": {"code": "number"}, "set": {"on_hand": "on_hand + 1"}},
        "actions/0/key/code",
        "'code' is not a writable field of product that can be a key",
    ),
    (
        {
            "type": "upsert",
            "entity": "product",
            "key": {"sku": "number"},
            "insert": {"onhand": "0"},
            "set": {"on_hand": "1"},
        },
        "actions/0/insert/onhand",
        "'onhand' is not a writable field of product",
    ),
    (
        {"type": "upsert", "entity": "product", "key": {"sku": "numbr"}, "set": {"on_hand": "1"}},
        "actions/0/key/sku",
        "unknown name 'numbr'",
    ),
    (
        {
            "type": "for_each_record",
            "entity": "customer",
            "where": {"field": "credit", "op": ">", "value": "$record.credit"},
            "actions": [{"type": "refuse", "message": "x"}],
        },
        "actions/0/where/value",
        "'$record' (a order record) has no field 'credit'",
    ),
    (
        {
            "type": "for_each_record",
            "entity": "customer",
            "as": "cust",
            "actions": [{"type": "refuse", "when": "cust.limit > 0", "message": "x"}],
        },
        "actions/0/actions/0/when",
        "'cust' (a customer record) has no field 'limit'",
    ),
    (
        {
            "type": "for_each_record",
            "entity": "customer",
            "missing_message": "{item.name}",
            "actions": [{"type": "refuse", "message": "x"}],
        },
        "actions/0/missing_message",
        "{item.name}: unknown name 'item'",
    ),
    (
        {"type": "create_record", "entity": "customer", "values": {"nam": "number"}},
        "actions/0/values/nam",
        "'nam' is not a writable field of customer",
    ),
    (
        {
            "type": "create_record",
            "entity": "order",
            "values": {"number": "number"},
            "children": {"rows": {"from": "lines", "values": {}}},
        },
        "actions/0/children/rows",
        "'rows' is not a child table of order",
    ),
    (
        {
            "type": "create_record",
            "entity": "order",
            "values": {"number": "number"},
            "children": {"lines": {"from": "line_items", "values": {}}},
        },
        "actions/0/children/lines/from",
        "'line_items' is not a child table of order",
    ),
    (
        {
            "type": "create_record",
            "entity": "order",
            "values": {"number": "number"},
            "children": {"lines": [{"values": {"qty": "1", "amount": "2"}}]},
        },
        "actions/0/children/lines/0/values/amount",
        "'amount' is not a writable field of order_line",
    ),
    (
        {
            "type": "create_record",
            "entity": "order",
            "values": {"number": "number"},
            "children": {"lines": {"from": "lines", "as": "src", "when": "src.qty > line.qty", "values": {}}},
        },
        "actions/0/children/lines/when",
        "unknown name 'line'",
    ),
    (
        {
            "type": "create_record",
            "entity": "order",
            "values": {"number": "number"},
            "children": {"lines": [{"values": {"qty": "1 +"}}]},
        },
        "actions/0/children/lines/0/values/qty",
        None,
    ),
    (
        {"type": "notify", "to": {"role": "boss"}, "title": "x"},
        "actions/0/to/role",
        "unknown role 'boss' of this app",
    ),
    (
        {"type": "notify", "to": [{"role": "manager"}, {"field": "customer"}], "title": "x"},
        "actions/0/to/1/field",
        "'customer' is not a user field of order",
    ),
    (
        {"type": "notify", "to": {"user": "record.owner_id"}, "title": "x"},
        "actions/0/to/user",
        "'record' (a order record) has no field 'owner_id'",
    ),
    (
        {"type": "notify", "to": {"role": "manager"}, "title": "x", "body": "{totl}"},
        "actions/0/body",
        "{totl}: unknown name 'totl'",
    ),
    (
        {"type": "call_webhook", "url": "https://hooks.example/x", "payload": {"n": "numbr"}},
        "actions/0/payload/n",
        "unknown name 'numbr'",
    ),
    (
        {"type": "call_webhook", "url": "https://hooks.example/x", "headers": {"X-Order": "{numbr}"}},
        "actions/0/headers/X-Order",
        "{numbr}: unknown name 'numbr'",
    ),
    (
        {"type": "publish_event", "topic": "order.done", "payload": {"n": "record.numbr"}},
        "actions/0/payload/n",
        "'record' (a order record) has no field 'numbr'",
    ),
]


@pytest.mark.parametrize(("action", "path", "message"), RENAMED, ids=[p for _, p, _ in RENAMED])
def test_each_kind_of_name_in_an_action_must_resolve(action, path, message):
    errors = _errors(action)
    if message is None:  # a syntax error: reported, whatever its wording
        assert f"rule:r/{path}" in errors, errors
        return
    assert errors == {f"rule:r/{path}": [message]}


@pytest.mark.parametrize(
    ("trigger", "path", "message"),
    [
        (
            {"events": ["update"], "fields_changed": ["total", "totl"]},
            "trigger/fields_changed/1",
            "unknown field 'totl'",
        ),
        (
            {"events": ["update"], "transition": {"field": "state", "to": ["confirmed"]}},
            "trigger/transition/field",
            "unknown field 'state'",
        ),
        (
            {"events": ["update"], "condition": {"all": [{"field": "stat", "op": "=", "value": "x"}]}},
            "trigger/condition/all/0/field",
            "unknown field 'stat'",
        ),
        (
            {"events": ["update"], "condition": {"field": "total", "op": ">", "value": "$record.credit"}},
            "trigger/condition/value",
            "unknown variable '$record'",
        ),
        (
            {"events": ["update"], "old_condition": {"field": "clerk", "op": "=", "value": "$user.boss"}},
            "trigger/old_condition/value",
            "'$user' (the user's facts) has no field 'boss'",
        ),
    ],
)
def test_trigger_fields_and_condition_variables_must_resolve(trigger, path, message):
    assert _errors({"type": "refuse", "message": "x"}, trigger=trigger) == {f"rule:r/{path}": [message]}


def test_a_created_record_is_named_only_for_the_actions_after_it():
    create = {"type": "create_record", "entity": "customer", "as": "cust", "values": {"name": "number"}}
    use = {"type": "refuse", "when": "cust.id > 0", "message": "{cust.name}"}
    assert _errors(create, use) == {}
    assert set(_errors(use, create)) == {"rule:r/actions/0/when", "rule:r/actions/0/message"}
    nested = _loop(create)
    assert set(_errors(nested, use)) == {
        "rule:r/actions/1/when",
        "rule:r/actions/1/message",
    }  # not outside the loop


def test_a_collected_list_is_named_for_the_actions_after_it_and_its_value_reads_the_row():
    collect = {"type": "collect", "entity": "customer", "where": {"field": "credit", "op": ">", "value": 0},
               "value": "item.name", "into": "names"}  # fmt: skip
    use = {"type": "refuse", "when": "len(names) > 0", "message": "{join(names, ', ', 3)}"}
    assert _errors(collect, use) == {}
    assert set(_errors(use, collect)) == {"rule:r/actions/0/when", "rule:r/actions/0/message"}
    wrong = {**collect, "value": "item.nickname", "where": {"field": "nick", "op": "=", "value": "x"}}
    assert set(_errors(wrong)) == {"rule:r/actions/0/value", "rule:r/actions/0/where/field"}


def test_a_loop_row_may_shadow_a_name_and_its_fields_follow_the_new_meaning():
    loop = {
        "type": "for_each_record",
        "entity": "customer",
        "as": "record",
        "actions": [{"type": "refuse", "when": "record.credit > 0 and record.total > 0", "message": "x"}],
    }
    assert _errors(loop) == {
        "rule:r/actions/0/actions/0/when": ["'record' (a customer record) has no field 'total'"]
    }


def test_a_schedule_without_a_condition_runs_without_a_record():
    action = {"type": "refuse", "when": "record.total > 0 or total > 0", "message": "{now}"}
    errors = _errors(action, schedule={"cron": "0 8 * * *"})
    assert errors == {
        "rule:r/actions/0/when": [
            "'record' (no record: a schedule without a condition runs once) has no field 'total'",
            "unknown name 'total'",
        ]
    }
    with_records = {"cron": "0 8 * * *", "condition": {"field": "status", "op": "=", "value": "draft"}}
    assert _errors(action, schedule=with_records) == {}


def test_hostile_names_are_refused_not_looked_up():
    """Dotted reads never reach Python attributes: private names do not parse, and odd names are unknown."""
    errors = _errors({"type": "refuse", "when": "record.__class__ = null", "message": "x"})
    assert "names starting with '_' are not allowed" in errors["rule:r/actions/0/when"][0]
    errors = _errors({"type": "refuse", "message": "{record.items} {pop}"})
    assert errors["rule:r/actions/0/message"] == [
        "{record.items}: 'record' (a order record) has no field 'items'",
        "{pop}: unknown name 'pop'",
    ]


@pytest.mark.parametrize(
    ("url", "allow", "refused"),
    [
        ("http://169.254.169.254/latest/meta-data", "", True),
        ("http://127.0.0.1:8080/hook", "", True),
        ("http://localhost/hook", "", True),
        ("http://[::1]/hook", "", True),
        ("http://2130706433/", "", True),
        ("http://10.1.2.3/hook", "", True),
        ("http://127.0.0.1:8080/hook", "127.0.0.1", False),
        ("http://localhost/hook", "127.0.0.0/8", False),
        ("http://10.1.2.3/hook", "10.0.0.0/8", False),
        (
            "https://hooks.example.invalid/x",
            "",
            False,
        ),  # a name: not resolved at publish, checked at delivery
    ],
)
def test_a_literal_webhook_address_is_checked_at_publish(url, allow, refused):
    errors = _errors({"type": "call_webhook", "url": url}, settings={"WEBHOOK_ALLOW": allow})
    assert list(errors) == (["rule:r/actions/0/url"] if refused else [])
    if refused:
        assert "LOWCODE_WEBHOOK_ALLOW" in errors["rule:r/actions/0/url"][0]
