"""Reading SQLite's and PostgreSQL's integrity errors, and placing them on an entity's fields.

The messages and diagnostics below are what SQLite 3.40 and PostgreSQL 16 (psycopg 3) report; the
integration tests in ``tests/integration/test_integrity_errors.py`` provoke the real ones on both.
"""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lowcode.core.integrity import Violation, parse_violation
from lowcode.fields import register_builtin_field_types
from lowcode.runtime.compiler import compile_entity
from lowcode.runtime.integrity import violated_fields, violation_error


def _sqlite(message: str) -> IntegrityError:
    return IntegrityError("INSERT ...", {}, sqlite3.IntegrityError(message))


class _PgError(Exception):
    def __init__(self, sqlstate, **diag):
        super().__init__("refused")
        self.sqlstate = sqlstate
        fields = ("constraint_name", "column_name", "table_name", "message_detail")
        self.diag = SimpleNamespace(**{name: diag.get(name) for name in fields})


def _pg(sqlstate: str, **diag) -> IntegrityError:
    return IntegrityError("INSERT ...", {}, _PgError(sqlstate, **diag))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_sqlite("UNIQUE constraint failed: e_a_item.code"), Violation("unique", "e_a_item", ("code",))),
        (_sqlite("UNIQUE constraint failed: e_a_item.f1, e_a_item.f2"),
         Violation("unique", "e_a_item", ("f1", "f2"))),
        (_sqlite("NOT NULL constraint failed: e_a_item.note"), Violation("not_null", "e_a_item", ("note",))),
        (_sqlite("FOREIGN KEY constraint failed"), Violation("foreign_key")),
        (_sqlite("CHECK constraint failed: ck_e_a_item_qty"), Violation("check", constraint="ck_e_a_item_qty")),
        (_sqlite("CHECK constraint failed: qty >= 0"), Violation("check", constraint="qty >= 0")),
        (_sqlite("something else entirely"), Violation("integrity")),
        (_pg("23505", constraint_name="ux_e_a_item_code", table_name="e_a_item",
             message_detail="Key (code)=(A-1) already exists."),
         Violation("unique", "e_a_item", ("code",), "ux_e_a_item_code")),
        (_pg("23505", constraint_name="uq", table_name="t", message_detail='Key ("odd col", b)=(x, y) already exists.'),
         Violation("unique", "t", ("odd col", "b"), "uq")),
        (_pg("23505", constraint_name="ux_e_a_item_code", table_name="e_a_item", message_detail=None),
         Violation("unique", "e_a_item", (), "ux_e_a_item_code")),  # detail withheld: the name remains
        (_pg("23502", column_name="note", table_name="e_a_item",
             message_detail="Failing row contains (5, null, secret)."),
         Violation("not_null", "e_a_item", ("note",))),
        (_pg("23503", constraint_name="e_a_item_ref_fkey", table_name="e_a_item",
             message_detail='Key (ref)=(424242) is not present in table "e_a_doc".'),
         Violation("foreign_key", "e_a_item", ("ref",), "e_a_item_ref_fkey")),
        (_pg("23514", constraint_name="e_a_item_qty_check", table_name="e_a_item",
             message_detail="Failing row contains (7, -1)."),
         Violation("check", "e_a_item", (), "e_a_item_qty_check")),
        (_pg("23P01", constraint_name="no_overlap", table_name="t"), Violation("exclusion", "t", (), "no_overlap")),
    ],
)  # fmt: skip
def test_parse_violation(error, expected):
    assert parse_violation(error) == expected


def test_no_value_from_the_database_message_is_kept():
    error = _pg(
        "23505", constraint_name="ux_t_code", table_name="t", message_detail="Key (code)=(TOPSECRET) x"
    )
    assert "TOPSECRET" not in repr(parse_violation(error))


ENTITY = {
    "name": "item",
    "unique_together": [["left_key", "right_key"]],
    "fields": [
        {"name": "code", "type": "text", "unique": True},
        {"name": "left_key", "type": "text"},
        {"name": "right_key", "type": "text"},
        {"name": "qty", "type": "integer"},
        {"name": "qty_max", "type": "integer"},
        {"name": "total", "type": "formula", "options": {"expression": "qty * 2"}},
    ],
}


@pytest.fixture(scope="module")
def item():
    register_builtin_field_types()
    return compile_entity("a", ENTITY, 1, sa.MetaData())


@pytest.mark.parametrize(
    ("violation", "fields"),
    [
        (Violation("unique", "e_a_item", ("code",)), ["code"]),
        (Violation("unique", "e_a_item", ("lower(code)",), "ux_e_a_item_code"), ["code"]),  # expression index
        (Violation("unique", "e_a_item", (), "ux_e_a_item_left_key_right_key"), ["left_key", "right_key"]),
        (Violation("unique", "e_a_item", (), "ux_e_a_item_qty_qty_max"), ["qty", "qty_max"]),  # stale index
        (Violation("check", None, (), "ck_e_a_item_qty_max"), ["qty_max"]),
        (Violation("check", "e_a_item", (), "e_a_item_qty_check"), ["qty"]),
        (Violation("check", None, (), "qty >= 0 AND qty_max < 10"), ["qty", "qty_max"]),
        (Violation("foreign_key", "e_a_item", (), "e_a_item_qty_fkey"), ["qty"]),
        (Violation("check", None, (), "positive"), []),  # a name that spells no field
        (Violation("not_null", "e_a_item", ("version",)), []),  # a system column is not a field
        (Violation("unique", "e_a_other", ("code",)), []),  # another table's constraint
        (Violation("foreign_key"), []),
    ],
)  # fmt: skip
def test_violated_fields(item, violation, fields):
    assert violated_fields(violation, item) == fields


def test_messages_name_the_field_or_say_what_was_refused(item):
    error = violation_error(
        Violation("unique", "e_a_item", ("left_key", "right_key")), item, prefix="rows.2."
    )
    assert error.fields == {
        "rows.2.left_key": ["Must be unique together with right_key: another record has these values."]
    }
    assert error.extra == {"constraint": "unique"}
    error = violation_error(Violation("check", None, (), "ck_e_a_item_qty"), item)
    assert error.fields == {"qty": ["Not allowed by the database check ck_e_a_item_qty."]}
    error = violation_error(Violation("not_null", "e_a_item", ("version",)), item)
    assert error.fields == {}
    assert error.message == "A value the database requires is missing; nothing was written."
