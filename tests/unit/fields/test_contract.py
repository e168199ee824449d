"""Contract tests: every registered field type keeps the promises of :class:`lowcode.fields.base.FieldType`.

``SAMPLES`` holds at least one valid field definition per type with a sample input and the stored value it
becomes. Registering a new type without adding a sample here makes ``test_every_registered_type_has_samples``
(and that type's parametrised cases) fail.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator
from sqlalchemy.dialects import postgresql, sqlite

from lowcode.fields import FieldDef, FieldType, field_types, register_builtin_field_types
from lowcode.fields.base import ComputeContext
from lowcode.registry import Registry

register_builtin_field_types()

COMPUTED = object()
"""Marker: the type is computed, clients send nothing (the sample's ``stored`` is what compute returns)."""

VALUE_KINDS = {None, "text", "integer", "decimal", "boolean", "date", "datetime"}
ENTITIES = {"target", "line"}
CHOICES = {"choices": [{"value": "new", "label": {"en": "New", "zh-CN": "新"}}, {"value": "done"}]}


@dataclass(frozen=True)
class Sample:
    """A valid field definition of one type, a client input and the Python value it is stored as."""

    options: dict[str, Any]
    input: Any
    stored: Any
    kind: str | None
    id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


SAMPLES: dict[str, list[Sample]] = {
    "text": [
        Sample({"max_length": 20}, "hello", "hello", "text"),
        Sample({}, "中文", "中文", "text", "default"),
    ],
    "long_text": [Sample({}, "a\nb", "a\nb", "text")],
    "email": [Sample({}, "ann@example.com", "ann@example.com", "text")],
    "phone": [Sample({}, "+86 10 1234-5678", "+86 10 1234-5678", "text")],
    "integer": [Sample({}, "12", 12, "integer")],
    "decimal": [
        Sample({"precision": 12, "scale": 4}, "1.5", Decimal("1.5000"), "decimal"),
        Sample({}, 7, Decimal("7.00"), "decimal", "defaults"),
    ],
    "money": [Sample({"currency": "EUR"}, "19.99", Decimal("19.99"), "decimal")],
    "percent": [Sample({"scale": 1}, Decimal("12.5"), Decimal("12.5"), "decimal")],
    "boolean": [Sample({}, True, True, "boolean")],
    "select": [Sample(CHOICES, "done", "done", "text")],
    "multi_select": [Sample(CHOICES, ["done", "new"], ["done", "new"], None)],
    "date": [Sample({}, "2026-11-05", dt.date(2026, 11, 5), "date")],
    "datetime": [Sample({}, "2026-11-05T10:30:00+08:00", dt.datetime(2026, 11, 5, 2, 30), "datetime")],
    "link": [Sample({"entity": "target"}, 3, 3, "integer")],
    "user": [Sample({}, 1, 1, "integer")],
    "attachment": [
        Sample(
            {"max_files": 2},
            [{"name": "a.pdf", "key": "abcdefgh12", "size": 10}],
            [{"name": "a.pdf", "key": "abcdefgh12", "size": 10, "content_type": "application/octet-stream"}],
            None,
        )
    ],
    "child_table": [Sample({"entity": "line"}, COMPUTED, [], None)],
    "formula": [
        Sample(
            {"expression": "qty * price", "scale": 2},
            COMPUTED,
            Decimal("7.50"),
            "decimal",
            "decimal",
            {"qty": Decimal(3), "price": Decimal("2.5")},
        ),
        Sample(
            {"expression": "qty * 2", "result": "integer"},
            COMPUTED,
            6,
            "integer",
            "integer",
            {"qty": Decimal(3)},
        ),
        Sample(
            {"expression": "concat('n', qty)", "result": "text"},
            COMPUTED,
            "n3",
            "text",
            "text",
            {"qty": Decimal(3)},
        ),
        Sample(
            {"expression": "qty > 2", "result": "boolean"},
            COMPUTED,
            True,
            "boolean",
            "boolean",
            {"qty": Decimal(3)},
        ),
        Sample(
            {"expression": "date_add_days(due, 1)", "result": "date"},
            COMPUTED,
            dt.date(2026, 11, 6),
            "date",
            "date",
            {"due": dt.date(2026, 11, 5)},
        ),
    ],  # fmt: skip
    "rollup": [
        Sample(
            {"child": "lines", "field": "amount", "function": "sum"},
            COMPUTED,
            Decimal("3.50"),
            "decimal",
            "sum",
            {"lines": [{"amount": Decimal("1.25")}, {"amount": Decimal("2.25")}]},
        ),
        Sample(
            {"child": "lines", "function": "count"},
            COMPUTED,
            2,
            "integer",
            "count",
            {"lines": [{"amount": Decimal("1.25")}, {"amount": None}]},
        ),
    ],  # fmt: skip
    "autonumber": [Sample({"pattern": "SO-{YYYY}{MM}-{####}"}, COMPUTED, "SO-202611-0001", "text")],
}


def _cases() -> list:
    cases = []
    for key in field_types:
        for i, sample in enumerate(SAMPLES.get(key, [None])):
            cases.append(
                pytest.param(key, sample, id=f"{key}-{sample.id or i}" if sample else f"{key}-MISSING")
            )
    return cases


def _fdef(key: str, sample: Sample) -> FieldDef:
    if sample is None:
        pytest.fail(f"field type '{key}' is registered but has no sample in SAMPLES; add one")
    return FieldDef.from_json({"name": "f", "type": key, "label": {"en": "F"}, "options": sample.options})


def _load(mfield: ma.fields.Field, value: Any) -> Any:
    return ma.Schema.from_dict({"f": mfield})().load({"f": value})["f"]


def _compute(ftype: FieldType, fdef: FieldDef, sample: Sample) -> Any:
    record = dict(sample.extra)
    children = {k: v for k, v in record.items() if isinstance(v, list)}
    ctx = ComputeContext(None, True, dt.datetime(2026, 11, 5, 9, 0), lambda key: 1)
    return ftype.compute(fdef, record, children, ctx)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_registered_type_has_samples():
    assert set(field_types.keys()) == set(SAMPLES), "add a sample for each new type (or drop a removed one)"
    assert all(SAMPLES[key] for key in SAMPLES)


def test_every_built_in_field_type_class_is_registered():
    registered = {type(ftype) for ftype in field_types.all()}
    builtin = {c for c in _subclasses(FieldType) if c.__module__.startswith("lowcode.fields.") and c.type}
    assert builtin <= registered


def test_at_least_the_types_the_design_promises():
    promised = {
        "text", "long_text", "integer", "decimal", "money", "percent", "boolean", "date", "datetime", "select",
        "multi_select", "link", "child_table", "formula", "rollup", "autonumber", "user", "email", "phone",
        "attachment",
    }  # fmt: skip
    assert promised <= set(field_types.keys())


def test_registration_is_idempotent_per_registry():
    fresh: Registry[FieldType] = Registry("field type")
    register_builtin_field_types(fresh)
    register_builtin_field_types(fresh)
    assert fresh.keys() == field_types.keys()


@pytest.mark.parametrize("key", field_types.keys())
def test_type_key_matches_registry_key(key):
    ftype = field_types.get(key)
    assert isinstance(ftype, FieldType)
    assert ftype.type == key
    assert isinstance(ftype.widget, str) and ftype.widget


@pytest.mark.parametrize("key", field_types.keys())
def test_options_schema_is_valid_json_schema(key):
    schema = field_types.get(key).options_schema
    Draft202012Validator.check_schema(schema)
    assert schema.get("type") == "object"
    assert schema.get("additionalProperties") is False, "unknown options must be refused"


@pytest.mark.parametrize(("key", "sample"), _cases())
def test_sample_options_are_valid(key, sample):
    fdef = _fdef(key, sample)
    ftype = field_types.get(key)
    Draft202012Validator(ftype.options_schema).validate(dict(fdef.options))
    assert ftype.check_definition(fdef, ENTITIES) == []


@pytest.mark.parametrize(("key", "sample"), _cases())
def test_column_type(key, sample):
    fdef = _fdef(key, sample)
    column = field_types.get(key).column_type(fdef)
    if key == "child_table":
        assert column is None
        return
    assert isinstance(column, sa.types.TypeEngine)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert column.compile(dialect=dialect)


@pytest.mark.parametrize(("key", "sample"), _cases())
def test_marshmallow_field_loads_the_sample(key, sample):
    fdef = _fdef(key, sample)
    ftype = field_types.get(key)
    mfield = ftype.marshmallow_field(fdef)
    assert isinstance(mfield, ma.fields.Field)
    if sample.input is COMPUTED:
        assert ftype.computed or key == "child_table"
        return
    assert not ftype.computed
    loaded = _load(mfield, sample.input)
    assert loaded == sample.stored
    assert type(loaded) is type(sample.stored)


@pytest.mark.parametrize(("key", "sample"), _cases())
def test_compute_gives_the_stored_value(key, sample):
    fdef = _fdef(key, sample)
    ftype = field_types.get(key)
    if not ftype.computed:
        return
    value = _compute(ftype, fdef, sample)
    assert value == sample.stored
    assert type(value) is type(sample.stored)


@pytest.mark.parametrize(("key", "sample"), _cases())
def test_json_schema_is_valid_and_describes_the_dumped_value(key, sample):
    fdef = _fdef(key, sample)
    ftype = field_types.get(key)
    schema = ftype.json_schema(fdef)
    Draft202012Validator.check_schema(schema)
    if key == "child_table":
        return  # rows are dumped by the record serializer; the schema refers to the child entity
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for value in (sample.stored, None):
        dumped = ftype.dump(fdef, value)
        validator.validate(dumped)


@pytest.mark.parametrize(("key", "sample"), _cases())
def test_dump_is_json(key, sample):
    fdef = _fdef(key, sample)
    ftype = field_types.get(key)
    for value in (sample.stored, None):
        dumped = ftype.dump(fdef, value)
        text = json.dumps(dumped)  # no default=: Decimal, date or datetime would fail here
        assert json.loads(text) == dumped
    assert ftype.dump(fdef, None) is None


@pytest.mark.parametrize(("key", "sample"), _cases())
def test_dump_then_load_round_trips(key, sample):
    """What the API returns can be sent back unchanged."""
    fdef = _fdef(key, sample)
    ftype = field_types.get(key)
    if sample.input is COMPUTED:
        return
    dumped = json.loads(json.dumps(ftype.dump(fdef, sample.stored)))
    assert _load(ftype.marshmallow_field(fdef), dumped) == sample.stored


@pytest.mark.parametrize(("key", "sample"), _cases())
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_format_returns_text(key, sample, language):
    fdef = _fdef(key, sample)
    ftype = field_types.get(key)
    assert ftype.format(fdef, None, language) == ""
    text = ftype.format(fdef, sample.stored, language)
    assert isinstance(text, str)
    if sample.stored not in (None, []):
        assert text


@pytest.mark.parametrize(("key", "sample"), _cases())
def test_value_kind(key, sample):
    fdef = _fdef(key, sample)
    kind = field_types.get(key).value_kind(fdef)
    assert kind in VALUE_KINDS
    assert kind == sample.kind


@pytest.mark.parametrize(("key", "sample"), _cases())
def test_depends_on_names_what_compute_reads(key, sample):
    fdef = _fdef(key, sample)
    ftype = field_types.get(key)
    depends = ftype.depends_on(fdef)
    assert isinstance(depends, set)
    if ftype.computed and key != "autonumber":
        assert depends and depends <= set(sample.extra)
    elif not ftype.computed:
        assert depends == set()
