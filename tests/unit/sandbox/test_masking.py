"""Personal data masking: stable, keyed, valid for its field type; every type offering ``personal`` has a
masker."""

from __future__ import annotations

import re

import pytest

from lowcode.fields import field_types, register_builtin_field_types
from lowcode.fields.base import FieldDef
from lowcode.fields.text import PHONE_PATTERN
from lowcode.registry import Registry
from lowcode.sandbox.masking import Masker, masked_values, register_maskers

KEY, OTHER_KEY = b"k" * 32, b"o" * 32


@pytest.fixture(scope="module")
def maskers() -> Registry[Masker]:
    register_builtin_field_types()
    registry: Registry[Masker] = Registry("test maskers")
    register_maskers(registry)
    return registry


def _field(name: str, type_: str, **options) -> FieldDef:
    return FieldDef(name=name, type=type_, options={"personal": True, **options})


def test_every_type_offering_personal_has_a_masker(maskers):
    offering = [
        t for t in field_types if "personal" in field_types.get(t).options_schema.get("properties", {})
    ]
    assert sorted(offering) == ["email", "long_text", "phone", "text"]
    assert all(t in maskers for t in offering)


def test_stand_ins_are_stable_distinct_keyed_and_valid(maskers):
    fields = {
        "contact": _field("contact", "text", max_length=20),
        "email": _field("email", "email"),
        "phone": _field("phone", "phone"),
        "note": _field("note", "long_text"),
        "name": FieldDef(name="name", type="text"),
    }
    record = {"contact": "Ann Smith", "email": "ann@real.org", "phone": "+86 138", "note": "x", "name": "Ann"}
    once, again = (
        masked_values(fields, record, KEY, maskers),
        masked_values(fields, dict(record), KEY, maskers),
    )
    assert once == again and once["name"] == "Ann"
    assert all(once[k] != record[k] for k in ("contact", "email", "phone", "note"))
    assert "Ann" not in once["contact"] and len(once["contact"]) <= 20
    assert once["email"].endswith("@example.com")
    assert re.match(PHONE_PATTERN, once["phone"])
    other = masked_values(fields, {**record, "contact": "Bob Jones"}, KEY, maskers)
    assert other["contact"] != once["contact"]
    assert masked_values(fields, record, OTHER_KEY, maskers)["contact"] != once["contact"]


def test_empty_values_stay_empty_and_a_pattern_that_refuses_empties_the_field(maskers):
    fields = {"code": _field("code", "text", pattern="[0-9]+"), "contact": _field("contact", "text")}
    out = masked_values(fields, {"code": "123", "contact": None}, KEY, maskers)
    assert out == {"code": None, "contact": None}
    assert masked_values({"x": _field("x", "user")}, {"x": 5}, KEY, maskers) == {
        "x": None
    }  # no masker: emptied
