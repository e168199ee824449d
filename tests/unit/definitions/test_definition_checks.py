"""Cross-document checks of entities, forms, views, roles and the app definition (issue 9, item 5): every
entity, field, view, operation and variable they name must exist in the app; each problem at its JSON path.
No database: the checks run over the documents."""

from __future__ import annotations

import copy

import pytest

from lowcode.app import register_builtins
from lowcode.definitions.checks import app_errors_for, definition_checks
from lowcode.definitions.names import USER_FACTS
from lowcode.errors import UnknownType
from lowcode.registry import Registry

register_builtins()

ORDER = {
    "name": "order",
    "label": "Order",
    "fields": [
        {"name": "number", "type": "text"},
        {"name": "total", "type": "decimal"},
        {"name": "status", "type": "select", "options": {"choices": [{"value": "draft"}, {"value": "void"}]}},
        {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}},
    ],
}
LINE = {"name": "order_line", "label": "Line", "child": True, "fields": [{"name": "qty", "type": "integer"}]}
APP = {
    "name": "shop",
    "label": "Shop",
    "menu": [{"entity": "order", "view": "orders"}],
    "sensitive_operations": [
        {
            "name": "void_order",
            "entity": "order",
            "action": "update",
            "fields": ["status"],
            "condition": {"field": "status", "op": "=", "value": "void"},
        }
    ],
}
VIEW = {
    "name": "orders",
    "entity": "order",
    "columns": ["number", "total", "created_at"],
    "filter": {"field": "owner", "op": "=", "value": "$user.id"},
    "sort": [{"field": "total"}],
    "search_fields": ["number"],
}
FORM = {"name": "order_form", "entity": "order", "sections": [{"fields": ["number", "lines"]}]}
ROLE = {
    "name": "clerk",
    "label": "Clerk",
    "operations": ["void_order"],
    "grants": [
        {
            "entity": "order",
            "actions": ["read"],
            "fields": {"total": "read_only"},
            "record_rule": {"field": "owner", "op": "in", "value": "$user.department_members"},
        }
    ],
}


def _docs() -> dict:
    return copy.deepcopy(
        {
            "app": {"shop": APP},
            "entity": {"order": ORDER, "order_line": LINE},
            "view": {"orders": VIEW},
            "form": {"order_form": FORM},
            "role": {"clerk": ROLE},
        }
    )


def _with(change) -> dict:
    docs = _docs()
    change(docs)
    return app_errors_for(docs)


def test_an_app_whose_names_all_resolve_passes():
    assert app_errors_for(_docs()) == {}


def _set(*path_and_value):
    *path, value = path_and_value

    def change(docs):
        target = docs
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


CASES = [
    (_set("view", "orders", "columns", 1, "totl"), "view:orders/columns/1", "unknown field 'totl'"),
    (_set("view", "orders", "entity", "orders"), "view:orders/entity", "unknown entity 'orders'"),
    (
        _set("view", "orders", "filter", {"field": "stat", "op": "=", "value": "x"}),
        "view:orders/filter/field",
        "unknown field 'stat'",
    ),
    (
        _set("view", "orders", "filter", {"field": "total", "op": ">", "value": "$record.total"}),
        "view:orders/filter/value",
        "unknown variable '$record'",
    ),
    (
        _set("view", "orders", "filter", {"any": [{"field": "owner", "op": "=", "value": "$user.boss"}]}),
        "view:orders/filter/any/0/value",
        "'$user' (the user's facts) has no field 'boss'",
    ),
    (
        _set("view", "orders", "sort", [{"field": "lines"}]),
        "view:orders/sort/0/field",
        "'lines' is not a sortable field of order",
    ),
    (
        _set("view", "orders", "search_fields", ["number", "title"]),
        "view:orders/search_fields/1",
        "'title' is not a searchable field of order",
    ),
    (
        _set("form", "order_form", "sections", 0, "fields", 1, "items"),
        "form:order_form/sections/0/fields/1",
        "unknown field 'items'",
    ),
    (_set("form", "order_form", "entity", "sale"), "form:order_form/entity", "unknown entity 'sale'"),
    (
        _set("role", "clerk", "operations", ["void_order", "delete_all"]),
        "role:clerk/operations/1",
        "unknown sensitive operation 'delete_all'",
    ),
    (
        _set(
            "role", "clerk", "grants", 0, "record_rule", {"field": "owner", "op": "=", "value": "$user.team"}
        ),
        "role:clerk/grants/0/record_rule/value",
        "'$user' (the user's facts) has no field 'team'",
    ),
    (
        _set(
            "role",
            "clerk",
            "grants",
            0,
            "record_rule",
            {"field": "owner", "op": "=", "value": "$record.owner"},
        ),
        "role:clerk/grants/0/record_rule/value",
        "unknown variable '$record'",
    ),
    (
        _set("role", "clerk", "grants", 0, "record_rule", {"not": {"field": "ownr", "op": "is_empty"}}),
        "role:clerk/grants/0/record_rule/not/field",
        "unknown field 'ownr'",
    ),
    (
        _set("role", "clerk", "grants", 0, "fields", {"totl": "hidden"}),
        "role:clerk/grants/0/fields",
        "unknown field 'totl'",
    ),
    (
        _set("role", "clerk", "grants", 0, "entity", "sale"),
        "role:clerk/grants/0/entity",
        "unknown entity 'sale'",
    ),
    (
        _set("app", "shop", "sensitive_operations", 0, "fields", ["state"]),
        "app:shop/sensitive_operations/0/fields/0",
        "unknown field 'state'",
    ),
    (
        _set("app", "shop", "sensitive_operations", 0, "condition", {"field": "state", "op": "is_empty"}),
        "app:shop/sensitive_operations/0/condition/field",
        "unknown field 'state'",
    ),
    (
        _set("app", "shop", "sensitive_operations", 0, "entity", "sale"),
        "app:shop/sensitive_operations/0/entity",
        "unknown entity 'sale'",
    ),
    (_set("entity", "order", "title_field", "title"), "entity:order/title_field", "unknown field 'title'"),
    (
        _set("entity", "order", "unique_together", [["number", "year"]]),
        "entity:order/unique_together/0",
        "unknown field 'year'",
    ),
    (_set("entity", "order", "fields", 3, "options", {"entity": "line"}), "entity:order/fields/3", None),
]


@pytest.mark.parametrize(("change", "path", "message"), CASES, ids=[p for _, p, _ in CASES])
def test_each_name_a_definition_uses_must_resolve(change, path, message):
    errors = _with(change)
    assert path in errors, errors
    if message is not None:
        assert errors == {path: [message]}


def test_removing_a_field_reports_every_definition_that_still_uses_it():
    """The reverse direction: an entity publish is checked with the published dependants in place."""

    def drop_status(docs):
        docs["entity"]["order"]["fields"] = [f for f in ORDER["fields"] if f["name"] != "status"]

    assert set(_with(drop_status)) == {
        "app:shop/sensitive_operations/0/fields/0",
        "app:shop/sensitive_operations/0/condition/field",
    }


def test_a_kind_without_a_check_is_refused_not_passed():
    with pytest.raises(UnknownType):
        app_errors_for({"gadget": {"w": {"name": "w"}}})
    empty: Registry = Registry("definition check")
    with pytest.raises(UnknownType):
        app_errors_for(_docs(), registry=empty)
    assert "rule" in definition_checks and "role" in definition_checks


class _NoRows:
    """A session stand-in answering every query with nothing (no department, no reports)."""

    def scalar(self, query):
        return "/"

    def scalars(self, query):
        return []


def test_the_user_facts_known_to_the_checks_are_those_an_actor_has():
    from types import SimpleNamespace

    from lowcode.auth.actors import user_attributes
    from lowcode.runtime.context import Actor

    for department in (None, 7):
        user = SimpleNamespace(id=1, department_id=department, level=0, job_title="", manager_id=None)
        facts = Actor(user_id=1, username="u", attributes=user_attributes(_NoRows(), user)).variables
        assert set(facts) == USER_FACTS


def test_what_the_checks_know_of_an_entity_is_what_the_compiler_builds():
    """The checks bind fields to their types without building tables; they must agree with the compiler."""
    import sqlalchemy as sa

    from lowcode.definitions.checks import AppDocuments
    from lowcode.definitions.templates import load_bundle
    from lowcode.runtime.compiler import compile_entity
    from tests.conftest import ROOT

    bundle = load_bundle(ROOT / "app_templates" / "jxc")
    docs = AppDocuments({"entity": {e["name"]: e for e in bundle["entities"]}})
    assert len(docs.entities) > 20
    for name, doc in docs.entities.items():
        compiled = compile_entity("jxc", doc, 0, sa.MetaData())
        assert docs.kinds(name) == compiled.kinds, name
        assert docs.columns(name) == {c.name for c in compiled.table.columns}, name
        assert docs.writable(name) == {f.name for f in compiled.writable}, name
        assert set(docs.children(name)) == {f.name for f in compiled.child_fields}, name


def test_a_menu_may_name_entities_not_published_yet():
    """The menu leaves out entries whose entity is missing, so an app is publishable before its entities."""
    assert _with(_set("app", "shop", "menu", [{"entity": "sale", "view": "sales"}])) == {}
