"""JXC input the server refuses whoever sends it (issue 10, item 5): negative or zero quantities and
negative prices on every document line, periods that are not a real month; and document numbers that follow
the document's own date."""

from __future__ import annotations

import pytest

LINE_DOCUMENTS = [  # (role, entity, header without lines)
    ("sales", "sales_order", {"order_date": "2026-11-10"}),
    ("purchaser", "purchase_order", {"order_date": "2026-11-10"}),
    ("warehouse", "purchase_receipt", {"receipt_date": "2026-11-10"}),
    ("warehouse", "delivery", {"delivery_date": "2026-11-10"}),
]


def _header(j, entity: str, header: dict) -> dict:
    party = {"customer": j.customer} if entity in ("sales_order", "delivery") else {"supplier": j.supplier}
    return {**party, "warehouse": j.wh["WH-SH"], **header}


@pytest.mark.parametrize(("role", "entity", "header"), LINE_DOCUMENTS)
@pytest.mark.parametrize(
    ("line", "field", "message"),
    [({"qty": "-1000", "unit_price": "10.00"}, "qty", "Must be at least 0.001."),
     ({"qty": "0", "unit_price": "10.00"}, "qty", "Must be at least 0.001."),
     ({"qty": "1", "unit_price": "-0.01"}, "unit_price", "Must be at least 0.")],
)  # fmt: skip
def test_line_quantities_and_prices_are_bounded(jxc, role, entity, header, line, field, message):
    j = jxc
    client = getattr(j, role)
    before = len(j.rows(entity))
    body = {**_header(j, entity, header), "lines": [{"product": j.product["TS-WHT-M"], **line}]}
    response = client.post(j.url(entity), json=body)
    assert response.status_code == 422, response.get_json()
    assert message in str(response.get_json()["error"]["fields"]), response.get_json()
    assert field in str(response.get_json()["error"]["fields"])
    assert len(j.rows(entity)) == before


def test_an_existing_line_cannot_be_edited_to_a_negative_quantity(jxc):
    j = jxc
    order = j.create(j.sales, "sales_order", {**_header(j, "sales_order", {"order_date": "2026-11-10"}),
                     "lines": [{"product": j.product["TS-WHT-M"], "qty": "5", "unit_price": "29.90"}]})  # fmt: skip
    line = {**order["lines"][0], "qty": "-5"}
    response = j.sales.patch(
        j.url("sales_order", order["id"]), json={"lines": [line], "version": order["version"]}
    )
    assert response.status_code == 422
    assert j.get("sales_order", order["id"])["lines"][0]["qty"] == "5.000"


@pytest.mark.parametrize("period", ["2026-1x", "2026-13", "2026-00", "26-11", "2026-1", "2026-011"])
def test_a_period_must_be_a_real_month(jxc, period):
    response = jxc.finance.post(jxc.url("accounting_period"), json={"period": period})
    assert response.status_code == 422, response.get_json()
    assert "YYYY-MM" in str(response.get_json()["error"]["fields"]["period"])


def test_a_real_month_is_a_period(jxc):
    assert jxc.create(jxc.finance, "accounting_period", {"period": "2026-12"})["period"] == "2026-12"


def test_customer_payments_must_be_positive(jxc):
    j = jxc
    for amount in ("0", "-10.00"):
        body = {"customer": j.customer, "payment_date": "2026-11-10", "amount": amount}
        response = j.finance.post(j.url("customer_payment"), json=body)
        assert response.status_code == 422, response.get_json()
        assert "amount" in response.get_json()["error"]["fields"]


def test_document_numbers_follow_the_document_date(jxc):
    j = jxc
    lines = [{"product": j.product["TS-WHT-M"], "qty": "5", "unit_price": "10.00"}]
    december = j.create(j.warehouse, "purchase_receipt",
                        {**_header(j, "purchase_receipt", {"receipt_date": "2026-12-01"}), "lines": lines})  # fmt: skip
    october = j.create(j.warehouse, "purchase_receipt",
                       {**_header(j, "purchase_receipt", {"receipt_date": "2026-10-31"}), "lines": lines})  # fmt: skip
    assert december["number"].startswith("GR-202612-")
    assert october["number"].startswith("GR-202610-")
