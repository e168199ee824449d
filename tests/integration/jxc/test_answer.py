"""Posting a delivery answers with the delivery as stored: its posting rule totals the cost of the lines into
the same record (a second version), and the answer - body and ETag - is that version, not the one sent."""

from __future__ import annotations

from tests.integration.jxc.test_documents import receipt


def test_posting_a_delivery_answers_the_stored_cost_total_and_etag(jxc):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    receipt(j, sh, ts, "100", "11.00", "2026-11-01")
    dn = j.create(j.warehouse, "delivery", {"customer": j.customer, "warehouse": sh, "delivery_date": "2026-11-02",
                                            "lines": [{"product": ts, "qty": "30", "unit_price": "29.90"}]})  # fmt: skip
    posted = j.warehouse.patch(
        j.url("delivery", dn["id"]), json={"status": "posted"}, headers={"If-Match": '"1"'}
    )
    assert posted.status_code == 200, posted.get_json()
    stored = j.warehouse.get(j.url("delivery", dn["id"]))
    body = posted.get_json()
    assert (body["status"], body["cost_total"], body["version"]) == ("posted", "330.00", 3)
    assert posted.headers["ETag"] == stored.headers["ETag"] == '"3"'
    assert body == stored.get_json()
