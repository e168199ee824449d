"""Parsing and validation of condition documents: error paths, variables, limits, the JSON Schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import jsonschema
import pytest
import sqlalchemy as sa

from lowcode.conditions import MAX_DEPTH, MAX_LEAVES, condition_schema, parse_condition
from lowcode.errors import ConditionInvalid

KINDS = {
    "s": "text",
    "n": "integer",
    "d": "decimal",
    "b": "boolean",
    "day": "date",
    "ts": "datetime",
    "blob": None,
}
OK = {"field": "s", "op": "=", "value": "x"}
COLUMNS = {name: sa.column(name) for name in KINDS}


def error_of(doc, **kwargs) -> ConditionInvalid:
    with pytest.raises(ConditionInvalid) as info:
        parse_condition(doc, KINDS, **kwargs)
    return info.value


def nested(depth: int) -> dict:
    doc: dict = OK
    for _ in range(depth):
        doc = {"not": doc}
    return doc


@pytest.mark.parametrize(
    ("doc", "path", "fragment"),
    [
        ("status = 1", "(root)", "must be an object"),
        ([OK], "(root)", "must be an object"),
        ({}, "(root)", "expected exactly one of"),
        ({"all": [], "any": []}, "(root)", "expected exactly one of"),
        ({"every": []}, "(root)", "expected exactly one of"),
        ({"all": OK}, "all", "takes a list"),
        ({"any": [OK, "x"]}, "any/1", "must be an object"),
        ({"not": [OK]}, "not", "must be an object"),
        ({"all": [OK, {"field": "zzz", "op": "=", "value": 1}]}, "all/1/field", "unknown field 'zzz'"),
        ({"field": 5, "op": "=", "value": 1}, "field", "unknown field 5"),
        ({"op": "=", "value": 1}, "field", "unknown field None"),
        ({"field": "blob", "op": "is_empty"}, "field", "cannot be used in conditions"),
        ({"all": [OK, {"field": "s", "op": "~", "value": "x"}]}, "all/1/op", "unknown operator '~'"),
        ({"field": "s", "value": "x"}, "op", "unknown operator None"),
        ({"field": "b", "op": "<", "value": True}, "op", "does not apply to boolean field 'b'"),
        ({"field": "n", "op": "contains", "value": "1"}, "op", "does not apply to integer"),
        ({"field": "d", "op": "starts_with", "value": "1"}, "op", "does not apply to decimal"),
        ({"field": "s", "op": "=", "value": "x", "extra": 1}, "extra", "unknown key"),
        ({"any": [{"all": [OK, {"field": "d", "op": "=", "value": "abc"}]}]}, "any/0/all/1/value", "decimal"),
        ({"field": "s", "op": "="}, "value", "a value is required"),
        ({"field": "s", "op": "is_empty", "value": "x"}, "value", "takes no value"),
        ({"field": "s", "op": "=", "value": None}, "value", "use the is_empty operator"),
        ({"field": "s", "op": "=", "value": ["x"]}, "value", "expected a single value"),
        ({"field": "s", "op": "=", "value": 5}, "value", "expected text"),
        ({"field": "s", "op": "=", "value": "a\x00b"}, "value", "NUL"),
        ({"field": "s", "op": "=", "value": "$ user"}, "value", "not a valid variable"),
        ({"field": "n", "op": "=", "value": 1.5}, "value", "whole number"),
        ({"field": "n", "op": "=", "value": True}, "value", "whole number"),
        ({"field": "n", "op": "=", "value": "1.0"}, "value", "whole number"),
        ({"field": "n", "op": "=", "value": 2**63}, "value", "whole number"),
        ({"field": "n", "op": "in", "value": 1}, "value", "expected a list"),
        ({"field": "n", "op": "in", "value": [1, "x"]}, "value/1", "whole number"),
        ({"field": "n", "op": "in", "value": [1, None]}, "value/1", "is_empty"),
        ({"field": "n", "op": "in", "value": list(range(1001))}, "value", "at most 1000"),
        ({"field": "n", "op": "between", "value": [1]}, "value", "two values"),
        ({"field": "n", "op": "between", "value": [1, 2, 3]}, "value", "two values"),
        ({"field": "n", "op": "between", "value": 1}, "value", "[low, high]"),
        ({"field": "d", "op": "=", "value": "NaN"}, "value", "not a decimal number"),
        ({"field": "d", "op": "=", "value": "Infinity"}, "value", "not a decimal number"),
        ({"field": "d", "op": "=", "value": True}, "value", "decimal"),
        ({"field": "d", "op": "=", "value": "1E+99"}, "value", "out of range"),
        ({"field": "b", "op": "=", "value": "true"}, "value", "true or false"),
        ({"field": "b", "op": "=", "value": 1}, "value", "true or false"),
        ({"field": "day", "op": "=", "value": "2024-13-01"}, "value", "not a valid date"),
        ({"field": "day", "op": "=", "value": "20240101"}, "value", "YYYY-MM-DD"),
        ({"field": "day", "op": "=", "value": "2024-01-01T00:00:00"}, "value", "YYYY-MM-DD"),
        ({"field": "ts", "op": "=", "value": "yesterday"}, "value", "date-time"),
        ({"field": "ts", "op": "=", "value": 1700000000}, "value", "date-time"),
        ({"field": "ts", "op": "=", "value": "0001-01-01T00:00:00+05:00"}, "value", "date-time"),
        (nested(MAX_DEPTH + 1), "not/" * MAX_DEPTH + "(root)", "nested at most 20"),
        ({"all": [OK] * (MAX_LEAVES + 1)}, f"all/{MAX_LEAVES}", "at most 200 comparisons"),
    ],
)
def test_invalid_documents_name_the_path(doc, path, fragment):
    error = error_of(doc)
    path = path.replace("/(root)", "")
    assert list(error.fields) == [path]
    assert fragment in error.fields[path][0]
    assert error.message.startswith(f"{path}: ") and fragment in error.message
    assert error.code == "condition_invalid"


def test_path_prefix_for_embedded_conditions():
    error = error_of({"all": [OK, {"field": "n", "op": "=", "value": "x"}]}, path="filters/0/where")
    assert list(error.fields) == ["filters/0/where/all/1/value"]
    assert error_of(5, path="rule").fields == {"rule": ["a condition must be an object"]}


def test_limits_are_inclusive():
    parse_condition(nested(MAX_DEPTH), KINDS)
    parse_condition({"all": [OK] * MAX_LEAVES}, KINDS)
    # leaves are counted over the whole tree, not per list
    error = error_of({"all": [{"any": [OK] * 150}, {"any": [OK] * 51}]})
    assert list(error.fields) == ["all/1/any/50"]


def test_fields_are_the_referenced_fields():
    doc = {
        "all": [
            OK,
            {"not": {"field": "n", "op": "is_empty"}},
            {"any": [{"field": "s", "op": "=", "value": "y"}]},
        ]
    }
    assert parse_condition(doc, KINDS).fields == frozenset({"s", "n"})
    assert parse_condition({"all": []}, KINDS).fields == frozenset()


def test_literals_are_coerced_at_parse_time():
    leaf = parse_condition({"field": "d", "op": "in", "value": ["1.10", 2, 0.1]}, KINDS).root
    assert leaf.value == (Decimal("1.10"), Decimal(2), Decimal("0.1"))
    assert isinstance(leaf.value[2], Decimal) and str(leaf.value[2]) == "0.1"
    ts = parse_condition({"field": "ts", "op": "=", "value": "2024-01-01T10:00:00-02:00"}, KINDS).root.value
    assert ts == dt.datetime(2024, 1, 1, 12) and ts.tzinfo is None
    assert parse_condition({"field": "n", "op": "=", "value": "+12"}, KINDS).root.value == 12


@pytest.mark.parametrize("method", ["to_sql", "matches"])
def test_unknown_variable_is_reported_with_its_path(method):
    condition = parse_condition({"all": [OK, {"field": "n", "op": "in", "value": [1, "$user.team"]}]}, KINDS)
    with pytest.raises(ConditionInvalid) as info:
        if method == "to_sql":
            condition.to_sql(COLUMNS, {"user": {"id": 1}})
        else:
            condition.matches({"n": 1}, {"user": {"id": 1}})
    assert info.value.fields == {"all/1/value/1": ["unknown variable '$user.team'"]}


@pytest.mark.parametrize(
    ("doc", "variables", "path", "fragment"),
    [
        ({"field": "n", "op": "=", "value": "$user.id"}, {}, "value", "unknown variable '$user.id'"),
        ({"field": "n", "op": "=", "value": "$user.id"}, {"user": 5}, "value", "unknown variable"),
        ({"field": "n", "op": "=", "value": "$user.id"}, {"user": {"id": "x"}}, "value", "whole number"),
        ({"field": "day", "op": "<", "value": "$now"}, {"now": dt.datetime(2024, 1, 1)}, "value", "date"),
        ({"field": "n", "op": "in", "value": "$ids"}, {"ids": 3}, "value", "not a list"),
        ({"field": "n", "op": "in", "value": "$ids"}, {"ids": [1, "x"]}, "value", "whole number"),
        ({"field": "n", "op": "between", "value": "$r"}, {"r": [1]}, "value", "not a list"),
        ({"field": "n", "op": "between", "value": ["$a", 5]}, {"a": 1.5}, "value/0", "whole number"),
    ],
)
def test_bad_variables(doc, variables, path, fragment):
    condition = parse_condition(doc, KINDS)
    for run in (lambda: condition.to_sql(COLUMNS, variables), lambda: condition.matches({}, variables)):
        with pytest.raises(ConditionInvalid) as info:
            run()
        assert list(info.value.fields) == [path]
        assert fragment in info.value.fields[path][0]


def test_variables_resolve_from_nested_mappings():
    variables = {"user": {"id": 7, "org": {"region": "north"}}, "range": ["2024-01-01", "2024-12-31"]}
    kinds = {"owner": "integer", "region": "text", "day": "date"}
    doc = {
        "all": [
            {"field": "owner", "op": "=", "value": "$user.id"},
            {"field": "region", "op": "in", "value": ["$user.org.region", "south"]},
            {"field": "day", "op": "between", "value": "$range"},
        ]
    }
    condition = parse_condition(doc, kinds)
    assert condition.matches({"owner": 7, "region": "north", "day": dt.date(2024, 5, 1)}, variables)
    assert not condition.matches({"owner": 8, "region": "north", "day": dt.date(2024, 5, 1)}, variables)


def test_record_value_of_the_wrong_kind_is_reported():
    from lowcode.errors import ValidationFailed

    condition = parse_condition({"field": "n", "op": "=", "value": 1}, KINDS)
    with pytest.raises(ValidationFailed) as info:
        condition.matches({"n": "one"})
    assert list(info.value.fields) == ["n"]


# -- the JSON Schema -----------------------------------------------------------------------------------


def validator():
    schema = condition_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize(
    "doc",
    [
        {"all": []},
        {"any": [OK, {"not": {"field": "s", "op": "is_empty"}}]},
        {"field": "n", "op": "in", "value": [1, "2", "$user.id"]},
        {"field": "n", "op": "in", "value": "$user.teams"},
        {"field": "d", "op": "between", "value": [1.5, "2"]},
        {"field": "b", "op": "=", "value": False},
    ],
)
def test_schema_accepts_valid_documents(doc):
    assert list(validator().iter_errors(doc)) == []


@pytest.mark.parametrize(
    "doc",
    [
        {"all": [], "any": []},
        {"all": {}},
        {"field": "s", "op": "~", "value": 1},
        {"field": "s", "op": "="},
        {"field": "s", "op": "is_empty", "value": 1},
        {"field": "s", "op": "=", "value": [1]},
        {"field": "s", "op": "=", "value": None},
        {"field": "s", "op": "in", "value": "x"},
        {"field": "s", "op": "between", "value": [1]},
        {"field": "s", "op": "=", "value": "x", "extra": True},
    ],
)
def test_schema_rejects_invalid_documents(doc):
    assert list(validator().iter_errors(doc)) != []


def test_schema_can_be_referenced_from_another_schema():
    from referencing import Registry, Resource

    schema = condition_schema()
    registry = Registry().with_resource("lowcode:condition", Resource.from_contents(schema))
    outer = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"where": {"$ref": "lowcode:condition#/$defs/condition"}},
    }
    check = jsonschema.Draft202012Validator(outer, registry=registry)
    assert check.is_valid({"where": {"not": OK}})
    assert not check.is_valid({"where": {"not": {"field": "s", "op": "="}}})
