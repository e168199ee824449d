"""Receivables and payables aging (issue 16 item 6; the ``age`` bucket of docs/REPORTS.md): open documents
posted by the rules (a delivery opens a receivable, a receipt a payable, each due 30 days after its date),
grouped by customer / supplier and bands of days past due on the as-of date, to the cent; finance only.

Receivables (customer 华联服饰), due = date + 30, as of 2027-01-15:
  delivery GZ 08-01 10 x 29.90 = 299.00 due 08-31: 137 days -> 90+
  delivery GZ 10-01  5 x 29.90 = 149.50 due 10-31:  76 days -> 61-90
  delivery GZ 10-20  2 x 29.90 =  59.80 due 11-19:  57 days -> 31-60
  delivery SH 11-25  3 x 29.90 =  89.70 due 12-25:  21 days -> 0-30
Payables (supplier 杭州织造): 07-01 20 x 10.00 = 200.00 (due 07-31: 168 -> 90+), 10-01 10 x 11.00 = 110.00
(10-31: 76 -> 61-90), 11-20 10 x 12.00 = 120.00 (12-20: 26 -> 0-30)."""

from __future__ import annotations

import pytest

from tests.integration.jxc.conftest import PASSWORD
from tests.integration.jxc.test_documents import delivery, receipt
from tests.integration.pages.helpers import signed_in

BANDS = ["0-30", "31-60", "61-90", "90+"]


@pytest.fixture
def aged(jxc):
    j, ts, gz, sh = jxc, jxc.product["TS-WHT-M"], jxc.wh["WH-GZ"], jxc.wh["WH-SH"]
    receipt(j, gz, ts, "20", "10.00", "2026-07-01")
    receipt(j, sh, ts, "10", "11.00", "2026-10-01")
    receipt(j, sh, ts, "10", "12.00", "2026-11-20")
    delivery(j, gz, ts, "10", "2026-08-01")
    delivery(j, gz, ts, "5", "2026-10-01")
    delivery(j, gz, ts, "2", "2026-10-20")
    delivery(j, sh, ts, "3", "2026-11-25")
    return j


def aging(client, name: str, as_of: str) -> dict:
    response = client.get(f"/api/reports/jxc/{name}?param.as_of={as_of}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bands(body: dict, row: dict) -> dict:
    header = body["pivot"]["values"]
    return {band: row["values"].get(f"balance@{i}") for i, band in enumerate(header)} | {
        "total": row["values"]["balance@total"]
    }


def test_receivables_aging_in_bands_to_the_cent(aged):
    body = aging(aged.finance, "receivables_aging", "2027-01-15")
    assert body["pivot"]["values"] == BANDS  # in band order, not as text
    (row,) = body["rows"]
    assert row["values"]["customer"] == "华联服饰"
    assert bands(body, row) == {"0-30": "89.70", "31-60": "59.80", "61-90": "149.50", "90+": "299.00",
                                "total": "598.00"}  # fmt: skip
    assert row["values"]["documents@total"] == 4 and row["values"]["documents@3"] == 1
    assert body["totals"]["values"]["balance@total"] == "598.00"


def test_the_as_of_date_moves_the_bands_and_leaves_out_later_documents(aged):
    earlier = aging(aged.finance, "receivables_aging", "2026-12-01")  # the 11-25 delivery is not yet due
    (row,) = earlier["rows"]
    # 10-20 (due 11-19: 12 days) and 11-25 (due 12-25: not yet due) -> 0-30; 10-01 (due 10-31: 31) -> 31-60;
    # 08-01 (due 08-31: 92) -> 90+
    assert bands(earlier, row) == {"0-30": "149.50", "31-60": "149.50", "90+": "299.00", "total": "598.00"}
    first = aging(aged.finance, "receivables_aging", "2026-09-01")  # only the 08-01 delivery existed
    (row,) = first["rows"]
    assert bands(first, row) == {"0-30": "299.00", "total": "299.00"}


def test_payables_aging_and_who_may_see_aging(app, aged):
    body = aging(aged.finance, "payables_aging", "2027-01-15")
    (row,) = body["rows"]
    assert row["values"]["supplier"] == "杭州织造"
    assert bands(body, row) == {"0-30": "120.00", "61-90": "110.00", "90+": "200.00", "total": "430.00"}
    for client in (aged.sales, aged.warehouse, aged.purchaser):
        for name in ("receivables_aging", "payables_aging"):
            assert client.get(f"/api/reports/jxc/{name}?param.as_of=2027-01-15").status_code == 403
    for lang, title in (("en", "Receivables aging"), ("zh_CN", "应收账龄")):
        finance = signed_in(app, "finance", PASSWORD, lang=lang)
        assert title in finance.get("/a/jxc/reports").get_data(as_text=True)
        page = finance.get("/a/jxc/reports/receivables_aging?param.as_of=2027-01-15").get_data(as_text=True)
        assert "598.00" in page and "90+" in page
        sales = signed_in(app, "sales", PASSWORD, lang=lang)
        assert title not in sales.get("/a/jxc/reports").get_data(as_text=True)
        assert sales.get("/a/jxc/reports/receivables_aging").status_code == 403


def test_age_bands_move_with_the_as_of_date_even_without_a_filter_on_it(app, aged, api):
    """The result cache keys a run by its grouping's SQL: the as-of date of the bands is in it."""
    report = {"name": "aging_all", "source": "receivable", "params": [{"name": "as_of", "type": "date", "default": "today"}],
              "dimensions": [{"name": "age", "field": "due_date", "bucket": "age", "as_of": "as_of"}],
              "measures": [{"name": "balance", "agg": "sum", "field": "balance"}]}  # fmt: skip
    saved = api.put("/api/definitions/jxc/report/aging_all", json=report)
    assert saved.status_code in (200, 201), saved.get_json()
    published = api.post("/api/definitions/jxc/report/aging_all/publish")
    assert published.status_code in (200, 201), published.get_json()
    late = api.get("/api/reports/jxc/aging_all?param.as_of=2027-01-15").get_json()
    early = api.get("/api/reports/jxc/aging_all?param.as_of=2026-09-01").get_json()
    assert [(r["values"]["age"], r["values"]["balance"]) for r in late["rows"]] == [
        ("0-30", "89.70"), ("31-60", "59.80"), ("61-90", "149.50"), ("90+", "299.00")]  # fmt: skip
    assert [(r["values"]["age"], r["values"]["balance"]) for r in early["rows"]] == [
        ("0-30", "598.00")]  # due 08-31 is 1 day past; the others are not yet due  # fmt: skip
