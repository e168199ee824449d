"""Report definitions compiled against entities (paths, checks at JSON paths), their parameters, and the SQL
they become (one GROUP BY, the joins each path needs, record rules in the WHERE) on both dialects."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from lowcode.app import register_builtins
from lowcode.errors import BadRequest
from lowcode.reports.model import ReportInvalid, compile_report
from lowcode.reports.params import params_from_query, read_params
from lowcode.reports.paths import compiled_shapes
from lowcode.reports.query import ReportQuery, without_unset
from lowcode.runtime.compiler import compile_entity
from tests.integration.reports.bundle import BUNDLE, BY_STATUS, PRODUCT_PIVOT, SALES

register_builtins()


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


def test_paths_resolve_through_the_parent_links_and_child_tables(entities):
    report = compiled(entities, SALES)
    customer = report.dimensions[0].path
    assert [(h.kind, h.entity) for h in customer.hops] == [("parent", "order"), ("link", "customer")]
    assert report.parent_path.entity == "order"
    by_status = compiled(entities, BY_STATUS)
    assert by_status.measures[1].path.to_many and not by_status.measures[0].path.to_many
    pivot = compiled(entities, PRODUCT_PIVOT)
    assert pivot.dimensions[0].path.prefix == "product.category" and pivot.pivot_dimension.name == "month"


@pytest.mark.parametrize(
    ("edit", "path", "words"),
    [
        (lambda r: r["measures"].__setitem__(0, {"name": "revenue", "agg": "sum", "field": "parent.customer.name"}),
         "measures/0/agg", "does not apply"),
        (lambda r: r["dimensions"][1].update(bucket="week", field="qty"), "dimensions/1/bucket", "not a date"),
        (lambda r: r["measures"][4].update(formula="revenue / (cost"), "measures/4/formula", ""),
        (lambda r: r["measures"][4].update(formula="margin * 2"), "measures/4/formula", "defined before"),
        (lambda r: r.update(sort=[{"by": "margin"}]), "sort/0/by", "formula"),
        (lambda r: r.update(pivot="ghost"), "pivot", "not a dimension"),
        (lambda r: r.update(top={"n": 3, "by": "margin"}), "top/by", "formulas cannot rank"),
        (lambda r: r["params"][1].update(entity="ghost"), "params/1/entity", "unknown entity"),
        (lambda r: r["params"][0].update(default="someday"), "params/0", "default"),
        (lambda r: r["filter"]["all"][0].update(value="$param.period"), "filter/all/0/value", "date range"),
        (lambda r: r["filter"]["all"][0].update(value="$who"), "filter/all/0/value", "unknown variable"),
        (lambda r: r["dimensions"][0].update(field="parent.customer.name.x"), "dimensions/0/field", "not a link"),
        (lambda r: r["dimensions"][0].update(field="a.b.c.d.e"), "dimensions/0/field", "more than 3"),
    ],
)  # fmt: skip
def test_problems_at_their_paths(entities, edit, path, words):
    body = copy.deepcopy(SALES)
    edit(body)
    found = problems(entities, body)
    assert path in found, found
    assert words in " ".join(found[path])


def test_a_join_to_child_rows_refuses_sums_of_the_records_own_fields(entities):
    body = {
        "name": "x",
        "source": "order",
        "dimensions": [{"name": "product", "field": "lines.product"}],
        "measures": [{"name": "n", "agg": "count", "field": "customer"}],
    }
    assert "would count each record once per child row" in problems(entities, body)["measures/0/agg"][0]
    body["measures"][0]["agg"] = "count_distinct"
    compiled(entities, body)


def test_parameters_read_by_type_with_defaults_and_named_errors(entities):
    report = compiled(entities, SALES)
    today = dt.date(2026, 2, 14)
    values = read_params(report.params, {}, today)
    assert values == {
        "period": {"from": dt.date(2026, 2, 1), "to": dt.date(2026, 2, 28)},
        "customer": None,
        "status": None,
    }
    given = params_from_query(
        {"param.period.from": "2025-12-30", "param.period.to": "this_month", "param.customer": "7", "x": "1"}
    )
    values = read_params(report.params, given, today)
    assert values["period"] == {"from": dt.date(2025, 12, 30), "to": dt.date(2026, 2, 1)}
    assert values["customer"] == 7
    for bad, name in [
        ({"customer": "0"}, "param.customer"),
        ({"status": "x"}, "param.status"),
        ({"ghost": "1"}, "param.ghost"),
    ]:
        with pytest.raises(BadRequest) as caught:
            read_params(report.params, bad, today)
        assert name in caught.value.fields
    required = [p for p in report.params if p.required][0]
    with pytest.raises(BadRequest, match="required"):
        read_params((type(required)("p", "date", required=True),), {}, today)


def test_unset_optional_parameters_drop_their_leaves():
    doc = {
        "all": [
            {"field": "a", "op": "=", "value": "$param.x"},
            {"any": [{"field": "b", "op": ">=", "value": "$param.r.from"}]},
            {"not": {"field": "c", "op": "=", "value": 1}},
        ]
    }
    assert without_unset(doc, {"x": None, "r": {"from": None, "to": None}}) == {
        "all": [{"not": {"field": "c", "op": "=", "value": 1}}]
    }
    assert without_unset(doc, {"x": 1, "r": {"from": dt.date(2026, 1, 1)}}) == doc


def scope(entity, columns):
    return columns["owner"] == 5 if entity.name == "order" else None


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_the_sql_is_one_group_by_over_the_joins_with_the_rules(entities, dialect):
    report = compiled(entities, SALES)
    params = read_params(report.params, {}, dt.date(2026, 2, 14))
    query = ReportQuery(
        report, lambda n: entities[("shop", n)], dialect.name, scope, params, {"user": {"id": 5}}
    )
    sql = str(query.grouped(report.dimensions, order=True).compile(dialect=dialect))
    assert sql.count("GROUP BY") == 1 and sql.count("SELECT") == 1
    assert "JOIN e_shop_order AS j1 ON j1.id = e_shop_order_line.parent_id AND j1.deleted_at IS NULL" in sql
    assert "LEFT OUTER JOIN e_shop_customer AS j2 ON j2.id = j1.customer" in sql
    assert "e_shop_order_line.deleted_at IS NULL" in sql and "j1.owner" in sql
    assert ("to_char" if dialect.name == "postgresql" else "strftime") in sql
    assert "customer = " not in sql.split("WHERE")[1]  # the unset customer parameter leaves no leaf
    top = compiled(entities, PRODUCT_PIVOT)
    q2 = ReportQuery(top, lambda n: entities[("shop", n)], dialect.name, lambda e, c: None, {}, {})
    inside, _outside = q2.top_values()
    sql2 = str(q2.grouped(top.dimensions, inside).compile(dialect=dialect))
    assert " IN (SELECT " in sql2 and "LIMIT" in sql2


def test_an_exact_average_on_sqlite_reads_the_scaled_integers(entities):
    report = compiled(entities, BY_STATUS)
    query = ReportQuery(report, lambda n: entities[("shop", n)], "sqlite", lambda e, c: None, {}, {})
    engine = sa.create_engine("sqlite://")
    line, order = entities[("shop", "order_line")].table, entities[("shop", "order")].table
    with engine.begin() as conn:
        order.metadata.create_all(conn, tables=[order, line])
        conn.execute(order.insert(), [{"id": 1, "version": 1, "status": "draft"}])
        amounts = ["0.01", "0.02", "0.02"]
        conn.execute(
            line.insert(),
            [{"parent_id": 1, "idx": i, "version": 1, "amount": Decimal(a)} for i, a in enumerate(amounts)],
        )
        row = conn.execute(query.grouped(report.dimensions)).one()
    assert row.m1 == Decimal("0.05") and row.m2 == Decimal("0.02")  # 0.05 / 3 = 0.0167 -> 0.02
    assert isinstance(row.m1, Decimal)
