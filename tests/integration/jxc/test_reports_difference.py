"""The business-finance difference report of seed 002 (a report with a second source, ``compare``): posted
deliveries per day against revenue booked on account 6001 by posted vouchers per day; days that differ are
highlighted. Deliveries post their own vouchers (same day, same amount: no difference); a manual revenue
voucher on a delivery day and one on a day without deliveries make the differences, to the cent:

  11-02 delivery 30 x 29.90 = 897.00, its voucher 897.00, manual +100.00 -> difference -100.00
  11-15 no delivery, manual voucher 50.00                                  -> 0 deliveries, -50.00
  12-03 delivery 2 x 119.00 = 238.00, its voucher 238.00                    -> 0.00
  a draft voucher (12-03, 999.00) is not counted."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.integration.jxc.conftest import PASSWORD
from tests.integration.jxc.test_documents import delivery, receipt
from tests.integration.pages.helpers import signed_in

PERIOD = "param.period.from=2026-11-01&param.period.to=2026-12-31"


def revenue_voucher(j, accounts: dict[str, int], day: str, amount: str, post: bool = True) -> int:
    body = {"voucher_date": day, "description": "manual revenue", "lines": [
        {"account": accounts["1122"], "debit": amount, "credit": "0"},
        {"account": accounts["6001"], "debit": "0", "credit": amount}]}  # fmt: skip
    voucher = j.create(j.finance, "voucher", body)
    if post:
        j.set_status(j.finance, "voucher", voucher["id"], "posted")
    return voucher["id"]


def test_deliveries_against_revenue_vouchers_per_day(app, jxc):
    j = jxc
    codes = {a["code"]: a["id"] for a in j.rows("account")}
    receipt(j, j.wh["WH-SH"], j.product["TS-WHT-M"], "100", "10.00", "2026-11-01")
    receipt(j, j.wh["WH-SH"], j.product["JN-BLU-32"], "10", "45.00", "2026-11-01")
    delivery(j, j.wh["WH-SH"], j.product["TS-WHT-M"], "30", "2026-11-02")
    delivery(j, j.wh["WH-SH"], j.product["JN-BLU-32"], "2", "2026-12-03", price="119.00")
    revenue_voucher(j, codes, "2026-11-02", "100.00")
    revenue_voucher(j, codes, "2026-11-15", "50.00")
    revenue_voucher(j, codes, "2026-12-03", "999.00", post=False)
    response = j.finance.get(f"/api/reports/jxc/business_finance_difference?{PERIOD}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [c["key"] for c in body["columns"]] == ["day", "deliveries", "delivered", "booked", "difference"]
    got = [tuple(r["values"][k] for k in ("day", "deliveries", "delivered", "booked", "difference"))
           for r in body["rows"]]  # fmt: skip
    assert got == [
        ("2026-11-02", 1, "897.00", "997.00", "-100.00"),
        ("2026-11-15", 0, "0.00", "50.00", "-50.00"),
        ("2026-12-03", 1, "238.00", "238.00", "0.00"),
    ]
    totals = body["totals"]["values"]
    assert (totals["deliveries"], totals["delivered"], totals["booked"], totals["difference"]) == (
        2, "1135.00", "1285.00", "-150.00")  # fmt: skip
    for client in (j.sales, j.warehouse, j.purchaser):
        assert client.get(f"/api/reports/jxc/business_finance_difference?{PERIOD}").status_code == 403
    for lang, diff in (("en", "-100.00"), ("zh_CN", "-100.00")):
        finance = signed_in(app, "finance", PASSWORD, lang=lang)
        page = finance.get(f"/a/jxc/reports/business_finance_difference?{PERIOD}").get_data(as_text=True)
        flagged = page.count("report-flag")
        assert flagged == 3 and diff in page  # two days and the total differ; 12-03 does not
    form = {"param.period.from": "2026-11-01", "param.period.to": "2026-12-31"}
    xlsx = signed_in(app, "finance", PASSWORD, lang="en").post(
        "/a/jxc/reports/business_finance_difference/export.xlsx", form
    )
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in sheet[2]] == ["2026-11-02", 1, 897, 997, -100]
    assert sheet["E2"].fill.fgColor.rgb.endswith("FFF3CD") and sheet["E4"].fill.fgColor.rgb in (
        None,
        "00000000",
    )
    # a write to the second source makes a cached result stale: the next run sees it
    revenue_voucher(j, codes, "2026-12-03", "10.00")
    again = j.finance.get(f"/api/reports/jxc/business_finance_difference?{PERIOD}").get_json()
    assert again["totals"]["values"]["difference"] == "-160.00"
    assert again["rows"][2]["values"]["booked"] == "248.00"
