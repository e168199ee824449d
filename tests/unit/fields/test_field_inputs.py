"""Input validation of the non-numeric field types: text, e-mail, phone, choices, dates, references."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
import pytest

from lowcode.fields import FieldDef, field_types, register_builtin_field_types

register_builtin_field_types()

CHOICES = {"choices": [{"value": "draft", "label": {"en": "Draft", "zh-CN": "草稿"}}, {"value": "done"}]}


def load(type_key: str, value: Any, **options: Any) -> Any:
    """The loaded value, or ``("error", messages)``."""
    fdef = FieldDef(name="f", type=type_key, options=options)
    schema = ma.Schema.from_dict({"f": field_types.get(type_key).marshmallow_field(fdef)})()
    try:
        return schema.load({"f": value})["f"]
    except ma.ValidationError as exc:
        return ("error", exc.messages["f"])


def is_error(result: Any) -> bool:
    return isinstance(result, tuple) and result[0] == "error"


# -- text ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_key", "options", "value", "ok"),
    [
        ("text", {}, "x" * 255, True),
        ("text", {}, "x" * 256, False),
        ("text", {"max_length": 3}, "abc", True),
        ("text", {"max_length": 3}, "abcd", False),
        ("text", {"max_length": 3}, "中文字", True),  # characters, not bytes
        ("text", {}, "", True),
        ("text", {}, 12, False),
        ("text", {}, ["a"], False),
        ("text", {}, "a\x00b", False),  # PostgreSQL text cannot hold NUL
        ("long_text", {}, "a\nb\tc", True),
        ("long_text", {}, "x" * 100_000, True),
        ("long_text", {}, "a\x00", False),
        ("long_text", {}, True, False),
    ],
)
def test_text(type_key, options, value, ok):
    result = load(type_key, value, **options)
    assert (result == value) if ok else is_error(result)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("ann@example.com", True),
        ("ann.lee+tag@mail.example.co.uk", True),
        ("ann@example", False),
        ("ann@", False),
        ("@example.com", False),
        ("ann example.com", False),
        ("ann@@example.com", False),
        ("", False),
        ("ann@example.com\n", False),
        (42, False),
    ],
)
def test_email(value, ok):
    result = load("email", value)
    assert (result == value) if ok else is_error(result)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("+86 10 1234 5678", True),
        ("010-12345678", True),
        ("010 (1234) 5678", True),
        ("+1.555.123.4567", True),
        ("123", True),
        ("12", False),
        ("call me", False),
        ("+", False),
        ("++8612345", False),
        ("12345x", False),
        ("-12345", False),
        ("+86 10 1234 5678\n", False),  # `$` would let a trailing newline through
        ("1" * 31, True),
        ("+" + "1" * 31, True),  # the column is 32 characters
        ("+" + "1" * 32, False),
        (12345678, False),
    ],
)
def test_phone(value, ok):
    result = load("phone", value)
    assert (result == value) if ok else is_error(result)
    if ok:
        assert len(value) <= 32


# -- boolean and choices ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("false", False), (1, True), (0, False), (None, None)],
)
def test_boolean_accepts(value, expected):
    assert load("boolean", value) is expected


@pytest.mark.parametrize("value", ["maybe", 2, [], {}, "2"])
def test_boolean_refuses(value):
    assert is_error(load("boolean", value))


@pytest.mark.parametrize(("value", "ok"), [("draft", True), ("done", True), (None, True)])
def test_select_accepts_its_choices(value, ok):
    assert load("select", value, **CHOICES) == value


@pytest.mark.parametrize("value", ["nope", "Draft", "draft ", "", 1, ["draft"], True])
def test_select_refuses_anything_else(value):
    result = load("select", value, **CHOICES)
    assert is_error(result)
    if isinstance(value, str):
        assert result == ("error", ["Must be one of: draft, done."])


def test_select_format_uses_the_label_in_the_language():
    fdef = FieldDef("f", "select", options=CHOICES)
    select = field_types.get("select")
    assert select.format(fdef, "draft", "zh_CN") == "草稿"
    assert select.format(fdef, "draft", "en") == "Draft"
    assert select.format(fdef, "done", "zh-CN") == "done"  # no label: the value
    assert select.format(fdef, "gone", "en") == "gone"  # a value removed from the choices still shows


@pytest.mark.parametrize(
    ("value", "expected"),
    [(["draft"], ["draft"]), (["done", "draft"], ["done", "draft"]), ([], []), (None, None)],
)
def test_multi_select_accepts_lists_of_choices(value, expected):
    assert load("multi_select", value, **CHOICES) == expected


@pytest.mark.parametrize(
    ("value", "bad_index"),
    [(["draft", "nope"], 1), (["x"], 0), ([None], 0), ([1], 0), (["draft", "done", "DONE"], 2)],
)
def test_multi_select_refuses_unknown_items_naming_the_item(value, bad_index):
    result = load("multi_select", value, **CHOICES)
    assert is_error(result)
    assert list(result[1]) == [bad_index]


@pytest.mark.parametrize("value", ["draft", {"draft": True}, 3])
def test_multi_select_needs_a_list(value):
    assert is_error(load("multi_select", value, **CHOICES))


def test_multi_select_format_and_schema():
    fdef = FieldDef("f", "multi_select", options=CHOICES)
    multi = field_types.get("multi_select")
    assert multi.format(fdef, ["draft", "done"], "zh-CN") == "草稿, done"
    assert multi.format(fdef, None, "en") == ""
    assert multi.json_schema(fdef)["items"] == {"enum": ["draft", "done"]}


# -- dates -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-05", dt.date(2026, 11, 5)),
        ("2024-02-29", dt.date(2024, 2, 29)),
        (None, None),
    ],
)
def test_date_accepts_iso_dates(value, expected):
    assert load("date", value) == expected


@pytest.mark.parametrize(
    "value",
    ["2026-02-30", "2025-02-29", "2026-13-01", "05/11/2026", "2026-11-05T10:00:00", "", "tomorrow", 20261105],
)
def test_date_refuses(value):
    assert is_error(load("date", value))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-05T10:30:00Z", dt.datetime(2026, 11, 5, 10, 30)),
        ("2026-11-05T10:30:00+00:00", dt.datetime(2026, 11, 5, 10, 30)),
        ("2026-11-05T10:30:00+08:00", dt.datetime(2026, 11, 5, 2, 30)),  # Beijing time -> UTC
        ("2026-11-05T01:30:00+08:00", dt.datetime(2026, 11, 4, 17, 30)),  # the UTC date is the day before
        ("2026-11-05T10:30:00-05:00", dt.datetime(2026, 11, 5, 15, 30)),
        ("2026-11-05T10:30:00.250+01:00", dt.datetime(2026, 11, 5, 9, 30, 0, 250000)),
        ("2026-11-05T10:30:00", dt.datetime(2026, 11, 5, 10, 30)),  # naive: taken as UTC
        (None, None),
    ],
)
def test_datetime_is_stored_as_naive_utc(value, expected):
    loaded = load("datetime", value)
    assert loaded == expected
    assert loaded is None or loaded.tzinfo is None


@pytest.mark.parametrize(
    "value", ["2026-11-05T25:00:00", "not a time", "", 1730800000, "2026-11-05T10:30:00+25:00"]
)
def test_datetime_refuses(value):
    assert is_error(load("datetime", value))


def test_temporal_dump_and_format():
    date_type, datetime_type = field_types.get("date"), field_types.get("datetime")
    moment = dt.datetime(2026, 11, 5, 2, 30, 5)
    assert date_type.dump(FieldDef("d", "date"), dt.date(2026, 11, 5)) == "2026-11-05"
    assert datetime_type.dump(FieldDef("t", "datetime"), moment) == "2026-11-05T02:30:05Z"
    assert (
        datetime_type.dump(FieldDef("t", "datetime"), moment.replace(tzinfo=dt.UTC)) == "2026-11-05T02:30:05Z"
    )
    assert datetime_type.format(FieldDef("t", "datetime"), moment, "en") == "2026-11-05 02:30"
    assert date_type.format(FieldDef("d", "date"), dt.date(2026, 11, 5), "en") == "2026-11-05"


def test_a_dumped_datetime_loads_back_unchanged():
    datetime_type = field_types.get("datetime")
    moment = dt.datetime(2026, 11, 5, 2, 30, 5, 123000)
    assert load("datetime", datetime_type.dump(FieldDef("t", "datetime"), moment)) == moment


# -- references ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(3, 3), ("3", 3), (2**62, 2**62), (None, None)])
def test_link_accepts_ids(value, expected):
    assert load("link", value, entity="target") == expected


@pytest.mark.parametrize("value", [1.5, "x", True, [3], {"id": 3}, 2**63])
def test_link_refuses(value):
    assert is_error(load("link", value, entity="target"))


def test_link_and_child_table_check_their_target_entity():
    for key, options in (("link", {"entity": "nowhere"}), ("child_table", {"entity": "nowhere"})):
        messages = field_types.get(key).check_definition(FieldDef("f", key, options=options), {"order"})
        assert messages and "nowhere" in messages[0]
    assert getattr(field_types.get("link"), "references_entity", False)
    assert getattr(field_types.get("child_table"), "holds_children", False)
    assert getattr(field_types.get("user"), "references_user", False)


@pytest.mark.parametrize(("value", "expected"), [(1, 1), ("7", 7), (2**31 - 1, 2**31 - 1), (None, None)])
def test_user_accepts_ids(value, expected):
    assert load("user", value) == expected


@pytest.mark.parametrize("value", [0, -1, 2**31, 2**40])
def test_user_refuses_ids_no_user_can_have(value):
    """lc_user.id is a 32-bit INTEGER; PostgreSQL raises 'integer out of range' when asked for 2**40."""
    assert load("user", value) == ("error", [f"No user with id {value}."])


@pytest.mark.parametrize("value", ["alice", 1.5, True])
def test_user_refuses_non_ids(value):
    assert is_error(load("user", value))


GOOD_FILE = {"name": "a.pdf", "key": "abcdefgh12", "size": 10}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ([GOOD_FILE], True),
        ([], True),
        ([GOOD_FILE, {**GOOD_FILE, "content_type": "application/pdf"}], True),
        ([GOOD_FILE] * 3, False),  # max_files 2
        ([{**GOOD_FILE, "key": "../../etc/passwd"}], False),
        ([{**GOOD_FILE, "key": "short"}], False),
        ([{**GOOD_FILE, "size": -1}], False),
        ([{**GOOD_FILE, "name": ""}], False),
        ([{"name": "a.pdf", "size": 1}], False),
        ([{**GOOD_FILE, "extra": 1}], False),
        (["a.pdf"], False),
        (GOOD_FILE, False),
    ],
)
def test_attachment(value, ok):
    result = load("attachment", value, max_files=2)
    if ok:
        assert [{k: v for k, v in r.items() if k != "content_type"} for r in result] == [
            {k: v for k, v in r.items() if k != "content_type"} for r in value
        ]
        assert all(r["content_type"] for r in result)
    else:
        assert is_error(result)
