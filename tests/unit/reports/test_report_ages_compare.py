"""The report language's extensions for the JXC reports: age buckets (bands of days before an as-of date
parameter), a second source (``compare``) and highlighted measures - their publish checks at JSON paths, the
band keys, and the SQL of an age band on both dialects (literals, so SELECT and GROUP BY match)."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from lowcode.app import register_builtins
from lowcode.reports.ages import Ages
from lowcode.reports.highlights import highlights
from lowcode.reports.model import ReportInvalid, compile_report
from lowcode.reports.paths import compiled_shapes
from lowcode.runtime.compiler import compile_entity
from tests.integration.reports.bundle import BUNDLE, SALES

register_builtins()

AGED = {
    "name": "aged",
    "source": "order",
    "params": [{"name": "as_of", "type": "date", "default": "today"}],
    "dimensions": [
        {"name": "age", "field": "order_date", "bucket": "age", "as_of": "as_of", "limits": [7, 14, 30]}
    ],
    "measures": [{"name": "orders", "agg": "count"}],
}
COMPARED = {
    "name": "compared",
    "source": "order",
    "dimensions": [{"name": "day", "field": "order_date", "bucket": "day"}],
    "measures": [
        {"name": "orders", "agg": "count"},
        {"name": "gap", "formula": "orders - lines", "highlight": "nonzero"},
    ],
    "compare": {
        "source": "order_line",
        "dimensions": [{"name": "day", "field": "parent.order_date", "bucket": "day"}],
        "measures": [{"name": "lines", "agg": "count"}],
    },
}


@pytest.fixture(scope="module")
def entities():
    metadata = sa.MetaData()
    return {("shop", e["name"]): compile_entity("shop", e, 1, metadata) for e in BUNDLE["entities"]}


def compiled(entities, body):
    return compile_report("shop", body, *compiled_shapes(entities, "shop"))


def problems(entities, body) -> dict:
    with pytest.raises(ReportInvalid) as caught:
        compiled(entities, body)
    return caught.value.fields


def test_age_bands_are_keyed_and_ordered_by_band_not_as_text():
    ages = Ages("as_of", (7, 14, 30))
    assert ages.keys == ["0-7", "8-14", "15-30", "30+"]
    assert sorted(["30+", "15-30", "0-7", "8-14", None], key=ages.order) == [
        "0-7",
        "8-14",
        "15-30",
        "30+",
        None,
    ]
    assert Ages("as_of", (30, 60, 90)).keys == ["0-30", "31-60", "61-90", "90+"]


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_an_age_band_is_sql_with_literals_only(dialect):
    column = sa.column("due_date", sa.Date)
    sql = Ages("as_of", (30, 60)).sql(column, dt.date(2027, 1, 15), dialect.name)
    text = str(sql.compile(dialect=dialect))
    assert "'2027-01-15'" in text and "'0-30'" in text and "'60+'" in text
    assert "%(" not in text and "?" not in text and "$" not in text  # no bound parameters


def test_an_age_dimension_compiles(entities):
    report = compiled(entities, AGED)
    assert report.dimensions[0].ages == Ages("as_of", (7, 14, 30))


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda r: r["dimensions"][0].update(as_of="nope"), "dimensions/0/as_of"),
        (lambda r: r["dimensions"][0].update(limits=[30, 7]), "dimensions/0/limits"),
        (lambda r: r["dimensions"][0].update(field="status"), "dimensions/0/bucket"),
        (lambda r: r["dimensions"][0].update(bucket="month"), "dimensions/0/as_of"),
    ],
)
def test_an_age_dimension_that_does_not_fit_is_refused_at_its_path(entities, edit, path):
    body = copy.deepcopy(AGED)
    edit(body)
    assert path in problems(entities, body)


def test_a_second_source_compiles_and_its_measures_feed_the_formulas(entities):
    report = compiled(entities, COMPARED)
    assert report.compare.source == "order_line" and [m.name for m in report.compare.measures] == ["lines"]
    assert report.measures[1].highlight == "nonzero"


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda r: r["compare"]["dimensions"][0].update(name="date"), "compare/dimensions"),
        (lambda r: r["compare"]["measures"][0].update(name="orders"), "compare/measures/0/name"),
        (lambda r: r["compare"].update(source="nothing"), "compare/source"),
        (
            lambda r: r["compare"]["measures"][0].update(field="nothing", agg="sum"),
            "compare/measures/0/field",
        ),
        (lambda r: r.update(pivot="day"), "pivot"),
        (lambda r: r.update(subtotals=True), "subtotals"),
        (lambda r: r["measures"][1].update(highlight="sparkly"), "measures/1/highlight"),
        (lambda r: r["measures"][1].update(formula="orders - rows"), "measures/1/formula"),
    ],
)
def test_a_second_source_that_does_not_fit_is_refused_at_its_path(entities, edit, path):
    body = copy.deepcopy(COMPARED)
    edit(body)
    assert path in problems(entities, body)


def test_highlights_mark_numbers_only():
    nonzero, negative = highlights.get("nonzero"), highlights.get("negative")
    assert nonzero(-1) and not nonzero(0) and not nonzero(None) and not nonzero("x") and not nonzero(True)
    from decimal import Decimal

    assert negative(Decimal("-0.01")) and not negative(Decimal("0.00"))


def test_the_sales_report_has_no_second_source(entities):
    assert compiled(entities, SALES).compare is None


KEPT = {
    "name": "kept",
    "source": "order_line",
    "params": [{"name": "since", "type": "days_ago", "default": 30}],
    "dimensions": [{"name": "product", "field": "product.name"}],
    "measures": [
        {"name": "qty", "agg": "sum", "field": "qty"},
        {
            "name": "recent",
            "agg": "count",
            "where": {"field": "parent.order_date", "op": ">=", "value": "$param.since"},
        },
    ],
    "having": {"field": "recent", "op": "=", "value": 0},
    "totals": False,
}


def test_a_filtered_measure_and_having_compile_to_one_group_by(entities):
    from lowcode.reports.query import ReportQuery

    report = compiled(entities, KEPT)
    assert report.measures[1].where is not None and "parent.order_date" in report.measures[1].where_paths
    query = ReportQuery(
        report, lambda n: entities[("shop", n)], "sqlite", lambda e, c: None, {"since": dt.date(2026, 1, 1)},
        {"today": dt.date(2026, 2, 1)},
    )  # fmt: skip
    sql = str(query.grouped(tuple(report.dimensions)).compile(dialect=sqlite.dialect()))
    assert "CASE WHEN" in sql and "HAVING" in sql and sql.count("GROUP BY") == 1


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda r: r.update(totals=True), "totals"),
        (lambda r: r.update(having={"field": "nothing", "op": "=", "value": 0}), "having"),
        (
            lambda r: r["measures"][1].update(where={"field": "parent.nothing", "op": "=", "value": 1}),
            "measures/1/where",
        ),
        (lambda r: r["measures"][1]["where"].update(value="$param.nope"), "measures/1/where/value"),
    ],
)
def test_having_and_where_that_do_not_fit_are_refused_at_their_paths(entities, edit, path):
    body = copy.deepcopy(KEPT)
    edit(body)
    assert path in problems(entities, body)


def test_days_ago_reads_a_number_of_days_or_a_date():
    from lowcode.reports.params import Param

    days = Param("since", "days_ago")
    today = dt.date(2026, 11, 25)
    assert days.read("10", today) == dt.date(2026, 11, 15) and days.read(0, today) == today
    assert days.read("2026-01-02", today) == dt.date(2026, 1, 2)
    for bad in ("-3", "ten", "99999"):
        with pytest.raises(ValueError):
            days.read(bad, today)
