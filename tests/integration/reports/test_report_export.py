"""Report export (issue 16 item 5): CSV and XLSX of a run with the figures of the page (worked out by hand in
bundle.py), numbers as exact numbers in XLSX with the field's scale, pivoted as pivoted, formula cells
neutralised, under the export grant, audited; large runs as a background job with progress, downloaded by
its owner only; the print view."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from lowcode.core.models import SecurityEvent
from lowcode.jobs.runner import JobRunner
from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import signed_in
from tests.integration.reports import bundle as shop_bundle
from tests.integration.reports.bundle import PASSWORD, as_user, install

FORM = {"param.period.from": "2026-01-01", "param.period.to": "2026-02-28"}
URL = "/a/shop/reports/{name}/export.{fmt}"


@pytest.fixture
def shop(app, api, monkeypatch):
    """The shop bundle, with the clerk's role allowed to export orders (the nocost role is not)."""
    changed = shop_bundle.bundle()
    clerk = next(r for r in changed["roles"] if r["name"] == "clerk")
    clerk["grants"][0]["actions"].append("export")
    changed["reports"][2]["label"] = '=HYPERLINK("http://evil")'
    monkeypatch.setattr(shop_bundle, "BUNDLE", changed)
    return install(app, api)


def export(browser, name: str, fmt: str, form: dict | None = None):
    return browser.post(URL.format(name=name, fmt=fmt), dict(FORM if form is None else form))


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def events(app) -> list[dict]:
    with app.extensions["lowcode"].db.read() as session:
        found = session.scalars(sa.select(SecurityEvent).where(SecurityEvent.kind == "data_exported"))
        return [dict(e.detail, username=e.username) for e in found]


def test_admin_exports_csv_with_the_figures_to_the_cent_and_it_is_audited(app, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD)
    response = export(browser, "sales", "csv")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Disposition"] == 'attachment; filename="shop-sales.csv"'
    assert csv_rows(response.data) == [
        ["Customer", "Month", "Revenue", "Cost", "qty", "lines", "Margin"],
        ["Acme", "2026-01", "53.33", "32.00", "3.000", "2", "40.00"],
        ["Acme", "2026-02", "30.00", "18.00", "3.000", "1", "40.00"],
        ["Acme", "Subtotal", "83.33", "50.00", "6.000", "3", "40.00"],
        ["Beta", "2026-01", "0.00", "0.00", "1.000", "1", ""],  # revenue 0: no margin, not an error
        ["Beta", "2026-02", "10.00", "6.00", "1.000", "1", "40.00"],
        ["Beta", "Subtotal", "10.00", "6.00", "2.000", "2", "40.00"],
        ["Total", "", "93.33", "56.00", "8.000", "5", "40.00"],
    ]
    (event,) = events(app)
    assert event["username"] == "admin" and event["report"] == "sales" and event["rows"] == 7
    assert event["format"] == "csv" and event["params"]["period"] == {
        "from": "2026-01-01",
        "to": "2026-02-28",
    }


def test_xlsx_keeps_numbers_exact_with_the_scale_and_chinese_labels(app, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD, lang="zh_CN")
    response = export(browser, "sales", "xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["客户", "月份", "收入", "成本", "qty", "lines", "毛利率"]
    assert values[1][:4] == ["Acme", "2026-01", 53.33, 32]
    assert sheet["C2"].number_format == "#,##0.00" and sheet["E2"].number_format == "#,##0.###"
    assert sheet["G2"].number_format == '#,##0.00" %"'
    assert values[3][:2] == ["Acme", "小计"] and values[-1][0] == "合计"
    assert sheet["C8"].value == 93.33 and sheet["C8"].font.b  # the totals row in bold
    assert not sheet["C2"].font.b
    raw = io.BytesIO(response.data)
    from zipfile import ZipFile

    xml = ZipFile(raw).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>53.33</v>" in xml and "<v>83.33</v>" in xml  # the exact digits, not a float's


def test_a_pivoted_report_exports_pivoted_and_formula_text_is_neutralised(app, shop, api):
    customer = api.post("/api/data/shop/customer", json={"name": "=cmd|' /C calc'!A0"}).get_json()["id"]
    line = {"product": shop["Shirt"], "qty": "1", "amount": "1.00", "cost": "1.00"}
    body = {"customer": customer, "order_date": "2026-02-01", "status": "confirmed", "lines": [line]}
    assert api.post("/api/data/shop/order", json=body).status_code == 201
    browser = signed_in(app, "admin", ADMIN_PASSWORD)
    assert csv_rows(export(browser, "sales", "csv").data)[1][:2] == ["'=cmd|' /C calc'!A0", "2026-02"]
    evil = load_workbook(io.BytesIO(export(browser, "sales", "xlsx").data)).active["A2"]
    assert evil.value == "'=cmd|' /C calc'!A0" and evil.data_type == "s"
    response = export(browser, "product_pivot", "csv", {})
    rows = csv_rows(response.data)
    assert rows[:2] == [["", "2026-01", "2026-02", "Total"], ["category", "revenue", "revenue", "revenue"]]
    assert rows[2] == ["Apparel", "20.00", "41.00", "61.00"]  # top 1 category; the rest as "Others"
    xlsx = export(browser, "product_pivot", "xlsx", {})
    book = load_workbook(io.BytesIO(xlsx.data))
    sheet = book.active
    assert sheet.title.startswith("'=HYPERLINK")
    assert [c.value for c in sheet[1]] == [None, "2026-01", "2026-02", "Total"]
    assert [c.value for c in sheet[3]] == ["Apparel", 20, 41, 61]


def test_export_needs_the_export_grant_and_the_report(app, shop):
    nora = signed_in(app, "nora", PASSWORD)  # may run "sales" but not export orders; also cost hidden
    page = nora.get("/a/shop/reports/sales?param.period.from=2026-01-01&param.period.to=2026-02-28")
    assert "data-export" not in page.get_data(as_text=True)
    kim = signed_in(app, "kim", PASSWORD)
    vic = signed_in(app, "vic", PASSWORD)
    for who, name in ((nora, "sales"), (vic, "sales")):
        assert who.post(URL.format(name=name, fmt="csv"), FORM).status_code == 403
        assert who.get(f"/a/shop/reports/{name}/print").status_code == 403
    assert events(app) == []
    assert kim.post(URL.format(name="sales", fmt="pdf"), FORM).status_code == 400
    mine = kim.post(URL.format(name="sales", fmt="csv"), FORM)
    assert mine.status_code == 200
    assert csv_rows(mine.data)[-1] == [
        "Total",
        "",
        "30.00",
        "18.00",
        "4.000",
        "2",
        "40.00",
    ]  # own orders only
    bad = kim.post(URL.format(name="sales", fmt="csv"), {"param.period.from": "2026-13-01"})
    assert bad.status_code == 400


def test_print_view_shows_the_run_and_is_audited(app, shop):
    browser = signed_in(app, "admin", ADMIN_PASSWORD, lang="zh_CN")
    page = browser.get("/a/shop/reports/sales/print?param.period.from=2026-01-01&param.period.to=2026-02-28")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "css/print.css" in text and "按客户和月份的销售" in text and "83.33" in text and "合计" in text
    assert [e["format"] for e in events(app)] == ["print"]


def test_a_large_export_runs_in_the_background_and_only_its_owner_downloads_it(app, shop, api):
    app.extensions["lowcode"].settings["REPORT_EXPORT_BACKGROUND_ROWS"] = 2
    kim = signed_in(app, "kim", PASSWORD)
    started = kim.post(URL.format(name="sales", fmt="xlsx"), FORM)
    assert started.status_code == 303
    job_url = started.headers["Location"]
    page = kim.get(job_url).get_data(as_text=True)
    assert 'data-status="queued"' in page and "report-export-download" not in page
    assert events(app) == []
    assert JobRunner(app.extensions["lowcode"]).run_all()
    status = kim.get(job_url + "/status").get_data(as_text=True)
    assert 'data-status="done"' in status and "report-export-download" in status
    download = kim.get(job_url + "/download")
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(download.data)).active
    assert [c.value for c in sheet[sheet.max_row]][:4] == ["Total", None, 30, 18]
    (event,) = events(app)
    assert event["username"] == "kim" and event["rows"] == 5 and event["job"]
    admin = signed_in(app, "admin", ADMIN_PASSWORD)
    for url in (job_url, job_url + "/status", job_url + "/download"):
        assert admin.get(url).status_code == 404  # not the owner
    job_id = int(job_url.rsplit("/", 1)[1])
    for url in (f"/api/jobs/{job_id}", f"/api/jobs/{job_id}/result"):
        assert api.get(url).status_code == 404  # the generic job API: the owner's alone too
    owner_api = as_user(app, "kim")
    assert owner_api.get(f"/api/jobs/{job_id}/result").data == download.data


def test_the_api_exports_as_the_pages_do_and_queues_large_runs(app, shop, api):
    kim = as_user(app, "kim")
    query = "param.period.from=2026-01-01&param.period.to=2026-02-28"
    response = kim.post(f"/api/reports/shop/sales/export.csv?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert csv_rows(response.data)[-1] == ["Total", "", "30.00", "18.00", "4.000", "2", "40.00"]
    nora = as_user(app, "nora")
    assert nora.post(f"/api/reports/shop/sales/export.csv?{query}").status_code == 403
    assert kim.post(f"/api/reports/shop/sales/export.pdf?{query}").status_code == 400
    assert kim.post("/api/reports/shop/sales/export.csv?param.period.from=x").status_code == 400
    app.extensions["lowcode"].settings["REPORT_EXPORT_BACKGROUND_ROWS"] = 2
    queued = kim.post(f"/api/reports/shop/sales/export.xlsx?{query}")
    assert queued.status_code == 202 and queued.get_json()["status"] == "queued"
    job = queued.get_json()["id"]
    assert JobRunner(app.extensions["lowcode"]).run_all() == [job]
    assert kim.get(f"/api/jobs/{job}").get_json()["status"] == "done"
    sheet = load_workbook(io.BytesIO(kim.get(f"/api/jobs/{job}/result").data)).active
    assert [c.value for c in sheet[sheet.max_row]][:4] == ["Total", None, 30, 18]
    assert api.get(f"/api/jobs/{job}/result").status_code == 404
    assert [(e["username"], e["format"], e["rows"]) for e in events(app)] == [
        ("kim", "csv", 5),
        ("kim", "xlsx", 5),
    ]
