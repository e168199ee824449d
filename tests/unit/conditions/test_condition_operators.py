"""Every operator, table-driven, on both sides: SQL (in-memory SQLite) and in memory (py-rules-engine)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lowcode.conditions import OPERATORS, parse_condition
from lowcode.core.types import ExactDecimal

KINDS = {"s": "text", "n": "integer", "d": "decimal", "b": "boolean", "day": "date", "ts": "datetime"}
METADATA = sa.MetaData()
TABLE = sa.Table(
    "op_rows",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("s", sa.Text),
    sa.Column("n", sa.Integer),
    sa.Column("d", ExactDecimal(18, 2)),
    sa.Column("b", sa.Boolean),
    sa.Column("day", sa.Date),
    sa.Column("ts", sa.DateTime),
)
COLUMNS = {name: TABLE.c[name] for name in KINDS}
D = Decimal
DAY = dt.date(2024, 3, 15)
NOON = dt.datetime(2024, 3, 15, 12, 0)
VARIABLES = {"user": {"id": 7, "department": "sales", "teams": [1, 2]}, "today": DAY, "now": NOON}

# (field, op, value, record value, expected); value None = operator takes no value
CASES = [
    # text
    ("s", "=", "abc", "abc", True),
    ("s", "=", "abc", "ABC", False),
    ("s", "=", "", "", True),
    ("s", "=", "abc", None, False),
    ("s", "!=", "abc", "abd", True),
    ("s", "!=", "abc", "abc", False),
    ("s", "!=", "abc", None, False),
    ("s", "<", "b", "a", True),
    ("s", "<", "a", "B", True),  # code-point order: "B" (66) < "a" (97)
    ("s", "<", "z", "é", False),  # "é" (233) > "z"
    ("s", "<=", "ab", "ab", True),
    ("s", ">", "a", "ab", True),
    ("s", ">=", "b", "a", False),
    ("s", "in", ["a", "b"], "b", True),
    ("s", "in", ["a", "b"], "B", False),
    ("s", "in", [], "a", False),
    ("s", "not_in", ["a"], "b", True),
    ("s", "not_in", ["a"], None, False),
    ("s", "not_in", [], "x", True),
    ("s", "between", ["b", "d"], "c", True),
    ("s", "between", ["b", "d"], "d", True),
    ("s", "between", ["b", "d"], "da", False),
    ("s", "contains", "A%", "xa%y", True),
    ("s", "contains", "a%", "xaby", False),
    ("s", "contains", "_", "ab", False),
    ("s", "contains", "_", "a_b", True),
    ("s", "contains", "\\", "a\\b", True),
    ("s", "contains", "\\%", "a\\%b", True),
    ("s", "contains", "É", "é", False),  # only ASCII letters fold
    ("s", "contains", "É", "xÉ", True),
    ("s", "contains", "", "", True),
    ("s", "contains", "", None, False),
    ("s", "starts_with", "AB", "abc", True),
    ("s", "starts_with", "b", "abc", False),
    ("s", "starts_with", "a_", "abc", False),
    ("s", "starts_with", "a_", "A_c", True),
    ("s", "is_empty", None, None, True),
    ("s", "is_empty", None, "", True),
    ("s", "is_empty", None, " ", False),
    ("s", "is_not_empty", None, "", False),
    ("s", "is_not_empty", None, "x", True),
    ("s", "=", "$$5", "$5", True),  # "$$" starts a literal "$"
    ("s", "=", "$user.department", "sales", True),
    # integer
    ("n", "=", 5, 5, True),
    ("n", "=", "5", 5, True),
    ("n", "=", "-5", -5, True),
    ("n", "!=", 5, 4, True),
    ("n", "<", 5, 4, True),
    ("n", "<", 5, 5, False),
    ("n", "<=", 5, 5, True),
    ("n", ">", -1, 0, True),
    ("n", ">=", 2**62, 5, False),
    ("n", "<", 2**62, 5, True),
    ("n", "in", [1, "2", 3], 2, True),
    ("n", "not_in", [1, 3], 2, True),
    ("n", "between", [1, 3], 3, True),
    ("n", "between", [3, 1], 2, False),
    ("n", "is_empty", None, 0, False),
    ("n", "is_empty", None, None, True),
    ("n", "=", "$user.id", 7, True),
    ("n", "in", "$user.teams", 2, True),
    # decimal (the column keeps 2 places; conditions may have more)
    ("d", "=", "1.50", D("1.5"), True),
    ("d", "=", 1.5, D("1.50"), True),
    ("d", "=", 2, D("2.00"), True),
    ("d", "=", "1.005", D("1.00"), False),
    ("d", "=", "1.005", D("1.01"), False),
    ("d", "!=", "1.005", D("1.00"), True),
    ("d", "!=", "1.005", None, False),
    ("d", ">", "1.005", D("1.01"), True),
    ("d", ">", "1.005", D("1.00"), False),
    ("d", ">=", "1.005", D("1.01"), True),
    ("d", "<", "1.015", D("1.01"), True),
    ("d", "<", "1.015", D("1.02"), False),
    ("d", "<=", "1.015", D("1.02"), False),
    ("d", "<=", 0.1, D("0.10"), True),  # JSON number -> Decimal(str(v)), no float arithmetic
    ("d", ">", "1E+30", D("99999999.99"), False),
    ("d", "<", "1E+30", D("99999999.99"), True),
    ("d", ">", "-1E+30", D("-99999999.99"), True),
    ("d", "in", ["1.005", "2"], D("2.00"), True),
    ("d", "in", ["1.005"], D("1.00"), False),
    ("d", "not_in", ["1.005"], D("1.00"), True),
    ("d", "between", ["0.995", "1.005"], D("1.00"), True),
    ("d", "between", ["1.001", "1.009"], D("1.00"), False),
    ("d", "between", ["1.001", "1.009"], D("1.01"), False),
    ("d", "is_not_empty", None, D("0"), True),
    # boolean
    ("b", "=", True, True, True),
    ("b", "=", True, False, False),
    ("b", "=", False, None, False),
    ("b", "!=", True, False, True),
    ("b", "in", [True], True, True),
    ("b", "not_in", [True], False, True),
    ("b", "is_empty", None, False, False),
    # date
    ("day", "=", "2024-03-15", DAY, True),
    ("day", "<", "2024-03-16", DAY, True),
    ("day", ">", "2024-03-16", DAY, False),
    ("day", "between", ["2024-03-01", "2024-03-15"], DAY, True),
    ("day", "in", ["2024-03-15"], DAY, True),
    ("day", "=", "$today", DAY, True),
    ("day", "<=", "$today", dt.date(2024, 3, 16), False),
    # datetime (aware values are compared in UTC; stored values are naive UTC)
    ("ts", "=", "2024-03-15T12:00:00", NOON, True),
    ("ts", "=", "2024-03-15T14:00:00+02:00", NOON, True),
    ("ts", "=", "2024-03-15T12:00:00Z", NOON, True),
    ("ts", ">", "2024-03-15T12:00:00", NOON + dt.timedelta(microseconds=1), True),
    ("ts", "<", "$now", NOON, False),
    ("ts", ">=", "$today", NOON, True),  # a date for a datetime field means its midnight
    ("ts", "between", ["2024-03-15", "2024-03-15T12:00:00"], NOON, True),
    ("ts", "not_in", ["2024-03-15T12:00:00"], NOON, False),
    ("ts", "is_empty", None, None, True),
]


@pytest.fixture(scope="module")
def engine():
    engine = sa.create_engine("sqlite://")
    METADATA.create_all(engine)
    yield engine
    engine.dispose()


def both(engine, doc, record, variables=VARIABLES):
    """(SQL result, in-memory result) of ``doc`` for the single ``record``."""
    condition = parse_condition(doc, KINDS)
    with engine.begin() as conn:
        conn.execute(TABLE.delete())
        conn.execute(TABLE.insert(), [{"id": 1, **record}])
        found = conn.scalars(sa.select(TABLE.c.id).where(condition.to_sql(COLUMNS, variables))).all()
    return found == [1], condition.matches(record, variables)


def leaf(field, op, value):
    return {"field": field, "op": op} if value is None else {"field": field, "op": op, "value": value}


@pytest.mark.parametrize(("field", "op", "value", "stored", "expected"), CASES)
def test_operator_on_both_sides(engine, field, op, value, stored, expected):
    doc = leaf(field, op, value)
    assert both(engine, doc, {field: stored}) == (expected, expected)
    # ``not`` is plain negation on both sides (two-valued logic, also for NULL)
    assert both(engine, {"not": doc}, {field: stored}) == (not expected, not expected)


def test_every_operator_and_kind_is_covered():
    covered = {(KINDS[field], op) for field, op, *_ in CASES}
    for operator in OPERATORS.all():
        assert any(op == operator.name for _, op in covered), operator.name
    assert {kind for kind, _ in covered} == set(KINDS.values())


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"all": []}, True),
        ({"any": []}, False),
        ({"not": {"all": []}}, False),
        ({"all": [{"field": "n", "op": ">", "value": 1}, {"field": "s", "op": "=", "value": "x"}]}, True),
        ({"all": [{"field": "n", "op": ">", "value": 1}, {"field": "s", "op": "=", "value": "y"}]}, False),
        ({"any": [{"field": "n", "op": ">", "value": 9}, {"field": "s", "op": "=", "value": "x"}]}, True),
        (
            {
                "not": {
                    "any": [{"field": "b", "op": "=", "value": True}, {"field": "d", "op": ">", "value": 0}]
                }
            },
            True,
        ),
        ({"not": {"not": {"field": "b", "op": "!=", "value": True}}}, False),
    ],
)
def test_combinators(engine, doc, expected):
    assert both(engine, doc, {"n": 5, "s": "x", "b": None, "d": None}) == (expected, expected)


def test_variable_that_is_null_makes_the_leaf_false(engine):
    variables = {"user": {"department": None, "teams": [None, 3]}}
    assert both(engine, leaf("s", "=", "$user.department"), {"s": "x"}, variables) == (False, False)
    assert both(engine, leaf("s", "!=", "$user.department"), {"s": "x"}, variables) == (False, False)
    assert both(engine, {"not": leaf("s", "=", "$user.department")}, {"s": "x"}, variables) == (True, True)
    # null items of a list are ignored
    assert both(engine, leaf("n", "in", "$user.teams"), {"n": 3}, variables) == (True, True)
    assert both(engine, leaf("n", "not_in", "$user.teams"), {"n": 4}, variables) == (True, True)
    assert both(engine, leaf("n", "in", ["$user.department", 4]), {"n": 4}, variables) == (True, True)


def test_missing_record_field_counts_as_null():
    condition = parse_condition({"field": "n", "op": "is_empty"}, KINDS)
    assert condition.matches({}, {}) is True


def test_record_values_are_read_by_kind():
    condition = parse_condition({"field": "d", "op": ">", "value": "1.005"}, KINDS)
    assert condition.matches({"d": "1.01"}) is True
    assert condition.matches({"d": 1}) is False


def test_text_ordering_compiles_with_collate_c_on_postgresql_only():
    from sqlalchemy.dialects import postgresql, sqlite

    condition = parse_condition({"all": [leaf("s", "<", "b"), leaf("s", "contains", "x")]}, KINDS)
    expr = condition.to_sql(COLUMNS)
    pg = str(expr.compile(dialect=postgresql.dialect()))
    lite = str(expr.compile(dialect=sqlite.dialect()))
    assert '(op_rows.s COLLATE "C") <' in pg
    assert 'lower((op_rows.s COLLATE "C")) LIKE' in pg and "ESCAPE '\\'" in pg
    assert "COLLATE" not in lite and "lower(op_rows.s) LIKE" in lite


def test_operator_registry_describes_operators():
    assert OPERATORS.keys() == sorted(
        ["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "contains", "starts_with"]
        + ["is_empty", "is_not_empty"]
    )
    assert OPERATORS.get("contains").kinds == frozenset({"text"})
    assert "boolean" not in OPERATORS.get("<").kinds
    assert {op.arity for op in OPERATORS.all()} == {"none", "one", "list", "pair"}
    assert OPERATORS.get("between").arity == "pair"


SAMPLES = {
    "text": "a",
    "integer": 1,
    "decimal": "1.5",
    "boolean": True,
    "date": "2024-03-15",
    "datetime": "2024-03-15T12:00:00",
}
STORED = {"text": "a", "integer": 1, "decimal": D("1.50"), "boolean": True, "date": DAY, "datetime": NOON}
FIELD_OF = {kind: field for field, kind in KINDS.items()}


@pytest.mark.parametrize("operator", OPERATORS.all(), ids=lambda operator: operator.name)
def test_operator_contract(engine, operator):
    """Every registered operator, for every kind it claims, compiles both ways and both ways agree."""
    assert OPERATORS.get(operator.name) is operator
    assert operator.kinds and operator.kinds <= set(KINDS.values())
    assert operator.arity in {"none", "one", "list", "pair"}
    for kind in sorted(operator.kinds):
        sample = SAMPLES[kind]
        value = {"none": None, "one": sample, "list": [sample], "pair": [sample, sample]}[operator.arity]
        doc = leaf(FIELD_OF[kind], operator.name, value)
        for stored in (STORED[kind], None):
            sql_result, memory_result = both(engine, doc, {FIELD_OF[kind]: stored})
            assert sql_result == memory_result, (kind, stored)
