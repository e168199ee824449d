"""Paths, value maps, date formats and casts of mappings (issue 15 item 1)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from mapping_fixtures import entities

from lowcode.mappings.casts import CastError, cast, map_value, parse_date
from lowcode.mappings.paths import MISSING, PathError, column_path, parse_path, read_path, write_path

DOC = {"a": {"b": [{"c": 1}, {"c": 2}]}, "x": None, "s": "text"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.b[1].c", 2),
        ("$.a.b[0].c", 1),
        ("$", DOC),
        ("a.b[7].c", MISSING),
        ("a.missing.deeper", MISSING),
        ("x.y", MISSING),
        ("a.b[*]", DOC["a"]["b"]),
    ],
)
def test_paths_read_keys_indexes_and_lists(text, expected):
    assert read_path(DOC, parse_path(text)) == expected


@pytest.mark.parametrize("text", ["", "a..b", "a[", "a[x]", "a[*].b", "a[-1]", ".a", "a." + ".b" * 40])
def test_bad_paths_are_refused(text):
    with pytest.raises(PathError):
        parse_path(text)


@pytest.mark.parametrize(("text", "message"), [("s.t", "expected an object"), ("a[0]", "expected a list")])
def test_a_step_meeting_the_wrong_kind_of_value_says_so(text, message):
    with pytest.raises(PathError, match=message):
        read_path(DOC, parse_path(text))


def test_a_missing_key_differs_from_an_explicit_null():
    assert read_path(DOC, parse_path("x")) is None
    assert read_path(DOC, parse_path("nope")) is MISSING


def test_columns_are_read_by_their_whole_header():
    assert read_path({"Unit price (CNY).net": "3"}, column_path("Unit price (CNY).net")) == "3"


def test_write_path_builds_objects_and_refuses_indexes():
    out: dict = {}
    write_path(out, parse_path("a.b"), 1)
    write_path(out, parse_path("a.c"), 2)
    assert out == {"a": {"b": 1, "c": 2}}
    with pytest.raises(PathError):
        write_path(out, parse_path("a[0]"), 3)
    with pytest.raises(PathError):
        write_path(out, parse_path("a.b.c"), 3)  # a.b is a value


def test_value_maps_take_codes_as_text_with_a_default_or_an_error():
    values = {"map": {"1": "paid", "true": "yes", "X": "x"}}
    assert map_value(Decimal("1"), values) == "paid"
    assert map_value(1, values) == "paid"
    assert map_value(True, values) == "yes"
    with pytest.raises(CastError, match="unknown code 'Z'"):
        map_value("Z", values)
    assert map_value("Z", {**values, "default": None}) is None


def test_date_formats():
    assert parse_date("03/02/2025", "%d/%m/%Y", "date") == dt.date(2025, 2, 3)
    assert parse_date("2025-02-03 10:30", "%Y-%m-%d %H:%M", "datetime") == dt.datetime(2025, 2, 3, 10, 30)
    with pytest.raises(CastError, match="does not match"):
        parse_date("2025-02-03", "%d/%m/%Y", "date")
    with pytest.raises(CastError, match="date text"):
        parse_date(20250203, "%Y%m%d", "date")


def _field(entity: str, name: str):
    return entities()[("shop", entity)].fields[name]


def test_casts_use_the_field_types_parsers_with_exact_money():
    money = _field("order", "total")
    assert cast("12.50", money) == Decimal("12.50")
    assert cast(Decimal("3"), money) == Decimal("3")
    with pytest.raises(CastError, match="Floating-point"):
        cast(12.5, money)
    with pytest.raises(CastError):
        cast("1.234", money)  # more places than money keeps: refused, not rounded
    with pytest.raises(CastError):
        cast("12,50", money)
    assert cast("7", _field("order_line", "qty")) == 7
    with pytest.raises(CastError):
        cast(True, _field("order_line", "qty"))
    assert cast(Decimal("1001"), _field("order", "note")) == "1001"  # a number cell into a text field
    with pytest.raises(CastError):
        cast("paid", _field("order", "status"))  # not one of the choices
