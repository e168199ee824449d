"""Chart specs (defaults, the publish check of a chart) and ``compile_dashboard`` (widgets against the app's
reports, parameter feeds by name or mapping, types that must agree, required parameters fed)."""

from __future__ import annotations

import pytest

from lowcode.dashboards.model import DashboardInvalid, compile_dashboard
from lowcode.reports.chart import ChartSpec, chart_errors, chart_spec

DIMS = [{"name": "customer", "field": "customer.name"}, {"name": "month", "field": "day", "bucket": "month"}]
MEASURES = [{"name": "revenue", "agg": "sum", "field": "amount"}, {"name": "orders", "agg": "count"}]
SALES = {
    "name": "sales", "source": "order", "dimensions": DIMS, "measures": MEASURES,
    "params": [{"name": "period", "type": "date_range", "required": True},
               {"name": "customer", "type": "link", "entity": "customer"}],
}  # fmt: skip
TOTALS = {"name": "totals", "source": "order", "measures": MEASURES}
REPORTS = {"sales": SALES, "totals": TOTALS}
PERIOD = {"name": "period", "type": "date_range", "default": "this_month"}


def test_a_chart_fills_the_first_row_dimension_and_measure():
    assert chart_spec("bar", DIMS, MEASURES) == ChartSpec("bar", "customer", ("revenue", "orders"))
    assert chart_spec({"type": "pie"}, DIMS, MEASURES) == ChartSpec("pie", "customer", ("revenue",))
    assert chart_spec({"type": "line"}, DIMS, MEASURES, pivot="customer") == ChartSpec(
        "line", "month", ("revenue", "orders")
    )
    assert chart_spec({"type": "number", "series": ["orders"]}, DIMS, MEASURES) == ChartSpec(
        "number", None, ("orders",)
    )
    assert chart_spec(None, DIMS, MEASURES).type == "table"


@pytest.mark.parametrize(
    "chart, errors",
    [
        ({"type": "bar", "x": "month", "series": ["revenue"]}, set()),
        ({"type": "donut"}, {"type"}),
        ({"type": "bar", "x": "revenue"}, {"x"}),
        ({"type": "number", "x": "month"}, {"x"}),
        ({"type": "pie", "series": ["revenue", "orders"]}, {"series"}),
        ({"type": "line", "series": ["ghost"]}, {"series/0"}),
    ],
)
def test_chart_errors(chart, errors):
    assert set(chart_errors(chart, DIMS, MEASURES)) == errors


def test_a_chart_along_the_pivot_or_without_dimensions_is_refused():
    assert set(chart_errors({"type": "bar", "x": "month"}, DIMS, MEASURES, pivot="month")) == {"x"}
    assert set(chart_errors({"type": "bar"}, [], MEASURES)) == {""}
    assert chart_errors({"type": "number"}, [], MEASURES) == {}


def test_parameters_feed_by_name_or_mapping():
    doc = {
        "name": "d",
        "params": [PERIOD, {"name": "buyer", "type": "link", "entity": "customer"}],
        "widgets": [{"report": "sales", "params": {"customer": "buyer"}, "width": 12}, {"report": "totals"}],
    }
    compiled = compile_dashboard("shop", doc, REPORTS, {"customer", "order"})
    assert compiled.widgets[0].feeds == {"period": "period", "customer": "buyer"}
    assert compiled.widgets[1].feeds == {} and compiled.widgets[1].width == 6
    assert compiled.reports == ["sales", "totals"]


@pytest.mark.parametrize(
    "widget, params, path",
    [
        ({"report": "ghost"}, [PERIOD], "widgets/0/report"),
        ({"report": "sales", "params": {"nope": "period"}}, [PERIOD], "widgets/0/params/nope"),
        ({"report": "sales", "params": {"customer": "ghost"}}, [PERIOD], "widgets/0/params/customer"),
        ({"report": "sales", "params": {"customer": "period"}}, [PERIOD], "widgets/0/params/customer"),
        ({"report": "sales"}, [{"name": "period", "type": "date"}], "widgets/0/params/period"),
        ({"report": "sales"}, [], "widgets/0/params"),  # the required period is fed by nothing
        ({"report": "sales", "chart": {"type": "bar", "x": "revenue"}}, [PERIOD], "widgets/0/chart/x"),
        ({"report": "totals"}, [{"name": "who", "type": "link", "entity": "ghost"}], "params/0/entity"),
        ({"report": "totals"}, [PERIOD, PERIOD], "params/1/name"),
        ({"report": "totals"}, [{"name": "x", "type": "date", "default": "someday"}], "params/0"),
    ],
)
def test_what_does_not_fit_is_refused_at_its_path(widget, params, path):
    doc = {"name": "d", "params": params, "widgets": [widget]}
    with pytest.raises(DashboardInvalid) as caught:
        compile_dashboard("shop", doc, REPORTS, {"customer", "order"})
    assert path in caught.value.fields
