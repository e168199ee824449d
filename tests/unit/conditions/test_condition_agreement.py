"""Property: the SQL compilation and the in-memory (py-rules-engine) evaluation select the same records;
so does the SQL with bind parameters (``conditions/bound.py``) wherever its operators can be bound, and the
direct decision of ``=``/``in`` blocks agrees with py-rules-engine's.

Random records (every kind, with NULLs) go into a real table - in-memory SQLite, and a fresh PostgreSQL
database when one is reachable - and random condition trees (all/any/not, every operator, values and
variables of the right kind) are compared both ways.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from py_rules import RuleEngine

from lowcode.conditions import OPERATORS, parse_condition
from lowcode.conditions.bound import bind_values, bound_clause
from lowcode.conditions.memory import build_block, decide
from lowcode.core.types import ExactDecimal

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
KINDS = {"t": "text", "i": "integer", "d": "decimal", "b": "boolean", "day": "date", "ts": "datetime"}
METADATA = sa.MetaData()
TABLE = sa.Table(
    "cond_rows",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("t", sa.Text),
    sa.Column("i", sa.Integer),
    sa.Column("d", ExactDecimal(18, 2)),
    sa.Column("b", sa.Boolean),
    sa.Column("day", sa.Date),
    sa.Column("ts", sa.DateTime),
)
COLUMNS = {name: TABLE.c[name] for name in KINDS}
VARIABLES = {
    "user": {"id": 2, "department": "a", "ids": [1, 2, None], "name": "Ab_c"},
    "today": dt.date(2024, 1, 1),
    "now": dt.datetime(2024, 1, 1, 12),
    "limit": Decimal("1.005"),
    "flag": True,
    "nothing": None,
}


def weighted(*options: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """Draw from one of ``options`` (weight, strategy) chosen in proportion to its weight."""
    pool = [strategy for weight, strategy in options for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


# -- record values -------------------------------------------------------------------------------------
_PIECES = ["a", "A", "b", "%", "_", "\\", "é", "É", "ß", "z", " "]
TEXTS = weighted(
    (6, st.lists(st.sampled_from(_PIECES), max_size=3).map("".join)),
    (2, st.sampled_from(["", "a", "A", "ab", "aB", "B", "Ab_c", "$x", "a\\%", "aa"])),
    (1, st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=4)),
)
INTEGERS = weighted((3, st.integers(-3, 3)), (1, st.integers(-(2**31), 2**31 - 1)))
DECIMALS = weighted((3, st.integers(-300, 300)), (1, st.integers(-(10**18) + 1, 10**18 - 1))).map(
    lambda n: Decimal(n).scaleb(-2)
)
_DAYS = [dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2024, 1, 2)]
DATES = weighted((3, st.sampled_from(_DAYS)), (1, st.dates()))
_MOMENTS = [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 1, 10, 0, 0, 1)]
DATETIMES = weighted((3, st.sampled_from(_MOMENTS)), (1, st.datetimes()))
RECORD_VALUES = {
    "text": TEXTS,
    "integer": INTEGERS,
    "decimal": DECIMALS,
    "boolean": st.booleans(),
    "date": DATES,
    "datetime": DATETIMES,
}
RECORDS = st.lists(
    st.fixed_dictionaries({f: st.one_of(st.none(), RECORD_VALUES[k]) for f, k in KINDS.items()}),
    max_size=8,
)

# -- condition values (as they appear in JSON) ------------------------------------------------------------


def _decimal_json(draw_n: int, places: int, form: str):
    value = Decimal(draw_n).scaleb(-places)
    if form == "float" and places <= 2 and abs(draw_n) < 10**6:
        return float(value)
    return int(value) if form == "int" and places == 0 else str(value)


_OFFSETS = ["", "Z", "+02:00", "-05:30"]
COND_VALUES = {
    "text": weighted(
        (8, TEXTS.map(lambda s: "$" + s if s.startswith("$") else s)),
        (1, st.sampled_from(["$user.department", "$user.name"])),
    ),
    "integer": weighted(
        (6, INTEGERS),
        (2, st.integers(-(2**63), 2**63 - 1)),
        (1, INTEGERS.map(str)),
        (1, st.just("$user.id")),
    ),
    "decimal": weighted(
        (
            8,
            st.builds(
                _decimal_json,
                weighted((3, st.integers(-3000, 3000)), (1, st.integers(-(10**20), 10**20))),
                st.integers(0, 4),
                st.sampled_from(["str", "int", "float"]),
            ),
        ),
        (1, st.sampled_from(["1E+30", "-1E+30", "$limit", "0.005"])),
    ),
    "boolean": weighted((4, st.booleans()), (1, st.just("$flag"))),
    "date": weighted((6, DATES.map(dt.date.isoformat)), (1, st.just("$today"))),
    "datetime": weighted(
        (
            6,
            st.builds(
                lambda d, off: d.isoformat() + off,
                weighted(
                    (3, st.sampled_from(_MOMENTS)),
                    (1, st.datetimes(dt.datetime(2, 1, 1), dt.datetime(9998, 1, 1))),
                ),
                st.sampled_from(_OFFSETS),
            ),
        ),
        (1, st.just("$now")),
    ),
}
COND_VALUES = {k: weighted((15, v), (1, st.just("$nothing"))) for k, v in COND_VALUES.items()}


@st.composite
def leaves(draw):
    """A random leaf of any field with an operator of its kind and a value of the right shape."""
    op = draw(st.sampled_from(OPERATORS.all()))  # operator first: text-only ones are drawn as often
    field = draw(st.sampled_from([f for f, k in KINDS.items() if k in op.kinds]))
    kind = KINDS[field]
    doc = {"field": field, "op": op.name}
    values = COND_VALUES[kind]
    if op.arity == "one":
        doc["value"] = draw(values)
    elif op.arity == "list":
        doc["value"] = draw(st.one_of(st.lists(values, max_size=4), st.just("$user.ids")))
        if doc["value"] == "$user.ids" and kind != "integer":
            doc["value"] = []
    elif op.arity == "pair":
        doc["value"] = draw(st.lists(values, min_size=2, max_size=2))
    return doc


CONDITIONS = st.recursive(
    leaves(),
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda items: {"all": items}),
        st.lists(children, max_size=4).map(lambda items: {"any": items}),
        children.map(lambda item: {"not": item}),
    ),
    max_leaves=8,
)


def check_agreement(engine: sa.Engine, records: list[dict], conditions: list) -> None:
    """Insert ``records``; every condition must select in SQL exactly the rows ``matches`` accepts."""
    with engine.begin() as conn:
        conn.execute(TABLE.delete())
        if records:
            conn.execute(TABLE.insert(), [{"id": n, **r} for n, r in enumerate(records)])
        rows = conn.execute(sa.select(TABLE)).mappings().all()
        for doc in conditions:
            condition = parse_condition(doc, KINDS)
            selected = set(conn.scalars(sa.select(TABLE.c.id).where(condition.to_sql(COLUMNS, VARIABLES))))
            matched = {row["id"] for row in rows if condition.matches(row, VARIABLES)}
            assert selected == matched, (doc, [dict(r) for r in rows])
            for row in rows:  # where the direct decision applies, the engine gives the same answer
                context: dict = {}
                block = build_block(condition.root, row, VARIABLES, context)
                decided = decide(block, context)
                if decided is not None:
                    assert decided == bool(RuleEngine(context).evaluate_condition_block(block)), doc
            bound = bind_values(condition.root, COLUMNS, VARIABLES)
            if bound is not None:  # the statement built once with bind parameters selects the same rows
                shape, params = bound
                clause = bound_clause(condition.root, COLUMNS, shape)
                assert set(conn.scalars(sa.select(TABLE.c.id).where(clause), params)) == matched, doc
            # the Python values as generated agree too (not only the values read back)
            assert matched == {n for n, r in enumerate(records) if condition.matches(r, VARIABLES)}


@pytest.fixture(scope="module")
def sqlite_engine():
    engine = sa.create_engine("sqlite://")
    METADATA.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_engine():
    try:
        admin = sa.create_engine(
            PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with admin.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc.orig.__class__.__name__})"
        if os.environ.get("LOWCODE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason}, and LOWCODE_REQUIRE_SERVICES=1")
        pytest.skip(reason)
    name = f"lc_cond_{uuid.uuid4().hex[:12]}"
    create = f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"
    with admin.connect() as conn:
        try:  # a linguistic default collation, so that text ordering really needs COLLATE "C"
            conn.execute(sa.text(f"{create} LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"))
        except sa.exc.DBAPIError:
            conn.execute(sa.text(create))
    engine = sa.create_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        METADATA.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


EXAMPLES = st.fixed_dictionaries(
    {
        "records": RECORDS,
        "trees": st.lists(CONDITIONS, min_size=1, max_size=3),
        "leaves": st.lists(leaves(), min_size=2, max_size=6),
    }
)


def conditions_of(example: dict) -> list:
    """The trees, plus each single leaf alone and negated (most operator coverage per database trip)."""
    return example["trees"] + example["leaves"] + [{"not": leaf} for leaf in example["leaves"]]


@settings(max_examples=150, deadline=None)
@given(example=EXAMPLES)
def test_sql_and_memory_agree_on_sqlite(sqlite_engine, example):
    check_agreement(sqlite_engine, example["records"], conditions_of(example))


@settings(max_examples=150, deadline=None)
@given(example=EXAMPLES)
def test_sql_and_memory_agree_on_postgresql(postgres_engine, example):
    check_agreement(postgres_engine, example["records"], conditions_of(example))


# -- focused on text: ASCII-only case folding, literal % _ \, code-point ordering -----------------------------
TEXT_OPS = [op for op in OPERATORS.all() if "text" in op.kinds]
_TEXT_PIECES = st.lists(st.sampled_from(["a", "A", "é", "É", "%", "_", "\\", "ß", "Z"]), max_size=3).map(
    "".join
)
TEXT_LEAVES = st.builds(
    lambda op, one, pair: (
        {"field": "t", "op": op.name}
        | ({} if op.arity == "none" else {"value": one if op.arity == "one" else pair})
    ),
    st.sampled_from(TEXT_OPS),
    _TEXT_PIECES,
    st.lists(_TEXT_PIECES, min_size=2, max_size=2),
)
TEXT_EXAMPLES = st.fixed_dictionaries(
    {
        "records": st.lists(st.fixed_dictionaries({"t": st.none() | _TEXT_PIECES}), max_size=10),
        "trees": st.just([]),
        "leaves": st.lists(TEXT_LEAVES, min_size=3, max_size=8),
    }
)


@settings(max_examples=100, deadline=None)
@given(example=TEXT_EXAMPLES)
def test_text_operators_agree_on_sqlite(sqlite_engine, example):
    check_agreement(sqlite_engine, example["records"], conditions_of(example))


@settings(max_examples=100, deadline=None)
@given(example=TEXT_EXAMPLES)
def test_text_operators_agree_on_postgresql(postgres_engine, example):
    check_agreement(postgres_engine, example["records"], conditions_of(example))
