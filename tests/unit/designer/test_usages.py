"""The designer's "used by" search: hand-checked usages of JXC fields and of small apps built here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lowcode.app import register_builtins
from lowcode.definitions.templates import SECTIONS, load_bundle
from lowcode.designer.usages import find_usages, usage_finders

register_builtins()

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def jxc() -> dict:
    bundle = load_bundle(ROOT / "app_templates" / "jxc")
    docs = {kind: {d["name"]: d for d in bundle[section]} for section, kind in SECTIONS.items()}
    docs["app"] = {bundle["app"]["name"]: bundle["app"]}
    return docs


def found(docs, entity, field) -> set[tuple[str, str, str]]:
    return {(u.kind, u.name, u.path) for u in find_usages(docs, entity, field)}


def whats(docs, entity, field) -> dict[str, str]:
    return {f"{u.kind}:{u.name}{u.path}": u.what for u in find_usages(docs, entity, field)}


def test_a_line_quantity_is_used_by_the_line_formula_the_parent_rollup_and_the_reserving_rule(jxc):
    usages = whats(jxc, "sales_order_line", "qty")
    assert usages == {
        "entity:sales_order_line/fields/3/options/expression": "formula 'amount'",
        "entity:sales_order/fields/9/options/field": "rollup 'qty_total' over lines.qty",
        # for_each_child lines as line -> for_each_record product -> upsert stock_balance
        "rule:sales_order_reserve/actions/0/actions/0/actions/0/set/reserved": "rule 'sales_order_reserve': upsert set",
        "rule:sales_order_reserve/actions/0/actions/0/actions/0/guard": "rule 'sales_order_reserve': upsert guard",
        "rule:sales_order_reserve/actions/0/actions/0/actions/0/refuse_message":
            "rule 'sales_order_reserve': upsert refuse_message",
        "rule:sales_order_reserve/actions/0/actions/1/set/ordered_qty": "rule 'sales_order_reserve': upsert set",
        "report:sales_by_customer_month/measures/1/field": "report 'sales_by_customer_month'",
        "report:sales_by_month/measures/2/field": "report 'sales_by_month'",
        "report:sales_by_product/measures/1/field": "report 'sales_by_product'",
        # the shop's order lines and the WMS payload's lines map it
        "mapping:shop_order/children/0/fields/1/field": "mapping 'shop_order'",
        "mapping:wms_order/children/0/fields/1/field": "mapping 'wms_order'",
    }  # fmt: skip
    # the delivery line's qty is another field: its usages are not these
    assert ("rule", "sales_order_reserve") not in {(k, n) for k, n, _ in found(jxc, "delivery_line", "qty")}


def test_a_report_uses_every_step_of_its_paths(jxc):
    """``parent.customer.name`` uses the line's parent (no field), the order's customer and the customer's name."""
    assert ("report", "sales_by_customer_month", "/dimensions/0/field") in found(
        jxc, "sales_order", "customer"
    )
    assert ("report", "sales_by_customer_month", "/dimensions/0/field") in found(jxc, "customer", "name")
    assert ("report", "sales_by_customer_month", "/filter/all/0/field") in found(jxc, "sales_order", "status")
    assert ("report", "sales_by_category", "/dimensions/0/field") in found(jxc, "category", "name")
    assert ("report", "sales_by_category", "/dimensions/0/field") in found(jxc, "product", "category")


def test_a_fetched_field_a_child_table_and_a_link_are_found_where_they_are_named(jxc):
    assert ("entity", "sales_order_line", "/fields/2/options/fetch_from/field") in found(
        jxc, "product", "sale_price"
    )
    assert ("entity", "delivery_line", "/fields/2/options/fetch_from/field") in found(
        jxc, "product", "sale_price"
    )
    assert ("entity", "sales_order_line", "/fields/2/options/fetch_from/link") in found(
        jxc, "sales_order_line", "product"
    )
    lines = found(jxc, "sales_order", "lines")
    assert {("entity", "sales_order", "/fields/8/options/child"), ("entity", "sales_order", "/fields/9/options/child"),
            ("form", "sales_order_form", "/sections/1/fields/0"),
            ("rule", "sales_order_reserve", "/actions/0/child")} <= lines  # fmt: skip
    customer = found(jxc, "sales_order", "customer")
    assert (
        "view",
        "customer_list",
        "/related/0/field",
    ) in customer  # another entity's view, through the link
    assert ("view", "sales_order_list", "/kanban/card_fields/0") in customer
    assert ("rule", "sales_order_credit", "/actions/0/where/value") in customer  # "$record.customer"


def test_bare_names_of_a_guarded_update_are_the_target_row_fields_not_the_trigger_record(jxc):
    on_hand = found(jxc, "stock_balance", "on_hand")
    assert (
        "entity",
        "stock_balance",
        "/fields/4/options/expression",
    ) in on_hand  # available = on_hand - reserved
    assert ("rule", "ledger_apply", "/actions/1/actions/0/set/on_hand") in on_hand
    assert ("rule", "ledger_apply", "/actions/1/actions/0/guard") in on_hand
    status = found(jxc, "sales_order", "status")
    assert ("workflow", "sales_order_flow", "/state_field") in status
    assert ("app", "jxc", "/queues/0/condition/field") in status
    assert ("rule", "sales_order_reserve", "/trigger/transition/field") in status
    assert (
        "rule",
        "delivery_post",
        "/actions/0/actions/1/set/status",
    ) in status  # the order's, set by delivery
    # the delivery's own status is the trigger record's: not a usage of the order's status
    assert ("rule", "delivery_post", "/trigger/transition/field") not in status


def test_a_field_nothing_uses_has_no_usages_and_unknown_names_find_nothing(jxc):
    assert find_usages(jxc, "sales_order", "no_such_field") == []
    assert find_usages(jxc, "no_such_entity", "qty") == []


ORDER = {"name": "order", "label": "Order", "title_field": "number", "unique_together": [["customer", "ref"]],
         "indexes": [["state", "ref"]], "fields": [
             {"name": "number", "type": "autonumber", "options": {"pattern": "O-{####}", "date_field": "day"}},
             {"name": "day", "type": "date"},
             {"name": "ref", "type": "text"},
             {"name": "state", "type": "select", "options": {"choices": [{"value": "new"}, {"value": "done"}]}},
             {"name": "owner", "type": "user"},
             {"name": "customer", "type": "link", "options": {"entity": "customer"}},
             {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}},
             {"name": "total", "type": "rollup", "options": {"child": "lines", "field": "amount", "function": "sum"}},
             {"name": "count", "type": "rollup", "options": {"child": "lines", "function": "count"}},
             {"name": "discount", "type": "formula", "options": {"expression": "customer.rate * total"}},
         ]}  # fmt: skip
LINE = {"name": "order_line", "label": "Line", "child": True, "fields": [
    {"name": "qty", "type": "integer"}, {"name": "price", "type": "decimal"},
    {"name": "amount", "type": "formula", "options": {"expression": "qty * price"}}]}  # fmt: skip
CUSTOMER = {"name": "customer", "label": "Customer", "fields": [
    {"name": "name", "type": "text"}, {"name": "rate", "type": "decimal"},
    {"name": "credit", "type": "decimal"}]}  # fmt: skip
FORM = {"name": "order_form", "entity": "order", "sections": [
    {"fields": ["number", "day"]},
    {"fields": [{"field": "ref", "visible_when": {"field": "state", "op": "=", "value": "new"}},
                {"field": "owner", "required_when": {"any": [{"not": {"field": "ref", "op": "is_empty"}}]}}]}]}  # fmt: skip
VIEW = {"name": "customer_list", "entity": "customer", "columns": ["name", "rate"],
        "filter": {"field": "rate", "op": ">", "value": 0}, "sort": [{"field": "rate"}], "search_fields": ["name"],
        "related": [{"name": "orders", "entity": "order", "field": "customer", "columns": ["number", "ref"],
                     "sort": [{"field": "day", "direction": "desc"}]}]}  # fmt: skip
BOARD = {"name": "order_board", "entity": "order", "columns": ["number"], "kanban": {"group_by": "state"},
         "calendar": {"date_field": "day"}, "totals": ["total"]}  # fmt: skip
ROLE = {"name": "sales", "label": "Sales", "grants": [
    {"entity": "order", "actions": ["read"], "fields": {"ref": "read_only"},
     "record_rule": {"field": "owner", "op": "=", "value": "$user.id"}}]}  # fmt: skip
FLOW = {"name": "order_flow", "entity": "order", "state_field": "state", "initial": "new",
        "states": [{"name": "new"}, {"name": "done", "lock": {"record": True, "except": ["ref"]}}],
        "transitions": [{"name": "finish", "from": "new", "to": "done", "required_fields": ["day"],
                         "condition": {"field": "total", "op": ">", "value": 0}}]}  # fmt: skip
APP = {"name": "shop", "label": "Shop",
       "sensitive_operations": [{"name": "void", "entity": "order", "action": "update", "fields": ["state"]}],
       "queues": [{"name": "open", "label": "Open", "entity": "order",
                   "condition": {"field": "state", "op": "=", "value": "new"}}]}  # fmt: skip
RULE = {"name": "check_credit", "entity": "order",
        "trigger": {"events": ["update"], "fields_changed": ["total"],
                    "condition": {"field": "total", "op": ">", "value": 0}},
        "actions": [
            {"type": "for_each_child", "child": "lines", "actions": [
                {"type": "refuse", "when": "line.qty > 100", "message": "Too many: {line.qty}"}]},
            {"type": "update_records", "entity": "customer", "where": {"field": "id", "op": "=", "value": "$record.customer"},
             "set": {"credit": "credit - record.total"}, "guard": "credit >= record.total"},
            {"type": "create_record", "entity": "order", "values": {"ref": "record.ref"},
             "children": {"lines": {"from": "lines", "values": {"qty": "line.qty"}}}},
            {"type": "notify", "to": {"field": "owner"}, "title": "Order {number}"},
        ]}  # fmt: skip


@pytest.fixture
def shop() -> dict:
    return {"entity": {"order": ORDER, "order_line": LINE, "customer": CUSTOMER}, "form": {"order_form": FORM},
            "view": {"customer_list": VIEW, "order_board": BOARD}, "role": {"sales": ROLE},
            "workflow": {"order_flow": FLOW}, "rule": {"check_credit": RULE}, "app": {"shop": APP}}  # fmt: skip


def test_every_place_a_small_app_names_a_field_is_found(shop):
    assert whats(shop, "order", "ref") == {
        "entity:order/unique_together/0/1": "unique_together",
        "entity:order/indexes/0/1": "index",
        "form:order_form/sections/1/fields/0/field": "form field (section 2)",
        "form:order_form/sections/1/fields/1/required_when/any/0/not/field": "condition of form field 'owner'",
        "view:customer_list/related/0/columns/1": "related list column",
        "rule:check_credit/actions/2/values/ref": "rule 'check_credit': create_record values",
        "role:sales/grants/0/fields/ref": "field rule of role 'sales'",
        "workflow:order_flow/states/1/lock/except/0": "lock of state 'done'",
    }
    assert whats(shop, "order", "state") == {
        "entity:order/indexes/0/0": "index",
        "form:order_form/sections/1/fields/0/visible_when/field": "condition of form field 'ref'",
        "view:order_board/kanban/group_by": "kanban group_by",
        "workflow:order_flow/state_field": "workflow state field",
        "app:shop/sensitive_operations/0/fields/0": "sensitive operation 'void'",
        "app:shop/queues/0/condition/field": "menu queue condition 'open'",
    }


def test_computed_fields_naming_series_and_title_are_usages(shop):
    assert found(shop, "order", "day") == {
        ("entity", "order", "/fields/0/options/date_field"), ("view", "customer_list", "/related/0/sort/0/field"),
        ("view", "order_board", "/calendar/date_field"), ("workflow", "order_flow", "/transitions/0/required_fields/0"),
        ("form", "order_form", "/sections/0/fields/1"),
    }  # fmt: skip
    assert ("entity", "order", "/title_field") in found(shop, "order", "number")
    total = found(shop, "order", "total")
    assert {("entity", "order", "/fields/9/options/expression"), ("view", "order_board", "/totals/0"),
            ("workflow", "order_flow", "/transitions/0/condition/field"),
            ("rule", "check_credit", "/trigger/fields_changed/0"), ("rule", "check_credit", "/trigger/condition/field"),
            ("rule", "check_credit", "/actions/1/set/credit"), ("rule", "check_credit", "/actions/1/guard")} <= total  # fmt: skip
    # through a link (customer.rate) and a child table (rollup over lines.amount)
    assert ("entity", "order", "/fields/9/options/expression") in found(shop, "customer", "rate")
    assert found(shop, "order_line", "amount") == {("entity", "order", "/fields/7/options/field")}
    assert ("entity", "order", "/fields/8/options/child") in found(shop, "order", "lines")
    assert ("role", "sales", "/grants/0/record_rule/field") in found(shop, "order", "owner")


def test_rule_actions_resolve_names_in_the_scope_each_runs_in(shop):
    assert found(shop, "order_line", "qty") == {
        ("entity", "order_line", "/fields/2/options/expression"),
        ("rule", "check_credit", "/actions/0/actions/0/when"),
        ("rule", "check_credit", "/actions/0/actions/0/message"),
        ("rule", "check_credit", "/actions/2/children/lines/values/qty"),
    }
    credit = found(shop, "customer", "credit")
    assert credit == {("rule", "check_credit", "/actions/1/set/credit"),
                      ("rule", "check_credit", "/actions/1/guard")}  # fmt: skip
    assert ("rule", "check_credit", "/actions/1/where/value") in found(shop, "order", "customer")
    assert ("rule", "check_credit", "/actions/3/to/field") in found(shop, "order", "owner")
    assert ("rule", "check_credit", "/actions/3/title") in found(shop, "order", "number")
    lines = found(shop, "order", "lines")
    assert {("rule", "check_credit", "/actions/0/child"), ("rule", "check_credit", "/actions/2/children/lines"),
            ("rule", "check_credit", "/actions/2/children/lines/from")} <= lines  # fmt: skip


def test_a_draft_that_would_not_publish_is_still_searched(shop):
    shop["rule"]["check_credit"]["actions"][0]["actions"].append({"type": "no_such_action"})
    shop["form"]["order_form"]["sections"][1]["fields"][0]["visible_when"] = {
        "all": [{"field": "state", "op": "?"}]
    }
    shop["entity"]["order"]["fields"][9]["options"]["expression"] = "customer.rate *"
    assert ("rule", "check_credit", "/actions/0/actions/0/when") in found(shop, "order_line", "qty")
    assert ("form", "order_form", "/sections/1/fields/0/visible_when/all/0/field") in found(
        shop, "order", "state"
    )
    assert ("entity", "order", "/fields/9/options/expression") not in found(shop, "customer", "rate")


def test_every_definition_kind_has_a_finder():
    kinds = {
        json.loads(p.read_text())["$id"].split(":")[1]
        for p in (ROOT / "lowcode/definitions/schemas").glob("*.json")
    }
    assert kinds - {"common"} <= set(usage_finders.keys())


def test_a_subscription_condition_is_a_usage():
    docs = {
        "entity": {"item": {"name": "item", "fields": [{"name": "qty", "type": "integer"}]}},
        "subscription": {
            "big": {"name": "big", "entity": "item", "condition": {"field": "qty", "op": ">", "value": 9}}
        },
    }
    found = find_usages(docs, "item", "qty")
    assert [(u.kind, u.name, u.path) for u in found if u.kind == "subscription"] == [
        ("subscription", "big", "/condition/field")
    ]


def test_a_report_uses_the_fields_of_its_second_source_and_of_filtered_measures(jxc):
    """The business-finance difference report's ``compare`` reads voucher lines; slow movers' ``where``."""
    assert ("report", "business_finance_difference", "/compare/measures/0/field") in found(
        jxc, "voucher_line", "credit"
    )
    assert ("report", "business_finance_difference", "/compare/filter/all/1/field") in found(
        jxc, "account", "code"
    )
    assert ("report", "slow_movers", "/measures/2/where/field") in found(jxc, "stock_ledger", "doc_type")
    assert ("report", "receivables_aging", "/dimensions/1/field") in found(jxc, "receivable", "due_date")
