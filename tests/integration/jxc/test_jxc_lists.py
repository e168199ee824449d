"""JXC lists as each role, in English and Chinese: a filter by option label and by linked title, search by a
linked record's title, the totals row (figures computed by hand), export to CSV/XLSX under the export grant
(audited, formula cells neutralised), bulk delete with a refusal reported and the others done."""

from __future__ import annotations

import csv
import html
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_PASSWORD
from tests.integration.jxc.conftest import PASSWORD
from tests.integration.jxc.stages import staged
from tests.integration.pages.helpers import Browser, row_ids, text

DAY = "2026-11-12"
LIST = "/a/jxc/sales_order"


def browser(app, username: str, lang: str = "en") -> Browser:
    b = Browser(app.test_client())
    assert b.login(username, PASSWORD if username != "admin" else ADMIN_PASSWORD).status_code == 303
    assert b.post("/language", {"lang": lang, "next": "/"}).status_code in (302, 303)
    return b


def totals(page: str) -> dict[str, str]:
    """The totals row's cells by column name."""
    return {m.group(1): html.unescape(m.group(2)) for m in re.finditer(r'data-total="(\w+)">([^<]*)<', page)}


def orders_documents(jxc) -> dict:
    """100 TS-WHT-M and 10 JN-BLU-32 in Shanghai; three sales orders: A (华联服饰, 10 x 29.90 = 299.00, confirmed),
    B (华联服饰, 2 x 119.00 = 238.00, draft), C (重庆山城商贸, 3 x 29.90 + 1 x 119.00 = 208.70, draft;
    its note starts with '=' like a spreadsheet formula)."""
    j, sh, ts, jn = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"], jxc.product["JN-BLU-32"]
    gr = j.create(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": sh, "receipt_date": DAY,
                                                    "lines": [{"product": ts, "qty": "100", "unit_price": "10.00"},
                                                              {"product": jn, "qty": "10", "unit_price": "45.00"}]})  # fmt: skip
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")
    cq = j.create(j.sales, "customer", {"code": "C002", "name": "重庆山城商贸"})["id"]

    def order(customer, lines, note=""):
        body = {"customer": customer, "warehouse": sh, "order_date": DAY, "note": note,
                "lines": [{"product": p, "qty": q, "unit_price": u} for p, q, u in lines]}  # fmt: skip
        return j.create(j.sales, "sales_order", body)

    a = order(j.customer, [(ts, "10", "29.90")])
    b = order(j.customer, [(jn, "2", "119.00")])
    c = order(cq, [(ts, "3", "29.90"), (jn, "1", "119.00")], note='=HYPERLINK("http://x","y")')
    j.set_status(j.sales, "sales_order", a["id"], "confirmed")
    assert (a["total"], b["total"], c["total"]) == ("299.00", "238.00", "208.70")
    return {"a": j.get("sales_order", a["id"]), "b": j.get("sales_order", b["id"]),
            "c": j.get("sales_order", c["id"]), "chongqing": cq}  # fmt: skip


orders = staged("orders", orders_documents)


@pytest.mark.parametrize(("role", "lang", "label"), [("sales", "en", "Draft"), ("sales", "zh_CN", "草稿"),
                                                      ("warehouse", "en", "draft"), ("finance", "zh_CN", "草稿")])  # fmt: skip
def test_status_filter_by_label_in_either_language(app, orders, role, lang, label):
    page = browser(app, role, lang)
    typed = text(page.get(f"{LIST}?field=status&op=%3D&value={label}"))
    assert sorted(row_ids(typed)) == sorted([orders["b"]["id"], orders["c"]["id"]])
    chosen = text(page.get(f"{LIST}?field=status&op=%3D&value=confirmed"))
    assert row_ids(chosen) == [orders["a"]["id"]]
    # the value input of a select field is a dropdown of its labels in the user's language
    options = text(page.get(f"{LIST}/filter-input?field=status"))
    assert '<option value="draft"' in options and ("草稿" if lang == "zh_CN" else "Draft") in options
    unknown = page.get(f"{LIST}?field=status&op=%3D&value=nonsense")
    assert unknown.status_code == 400 and row_ids(text(unknown)) == []


@pytest.mark.parametrize(("role", "lang"), [("sales", "en"), ("warehouse", "zh_CN"), ("admin", "en")])
def test_link_filter_by_title_and_search_by_linked_title(app, orders, role, lang):
    page = browser(app, role, lang)
    by_title = text(page.get(f"{LIST}?field=customer&op=contains&value=重庆"))
    assert row_ids(by_title) == [orders["c"]["id"]]
    exact = text(page.get(f"{LIST}?field=customer&op=%3D&value=华联服饰"))
    assert sorted(row_ids(exact)) == sorted([orders["a"]["id"], orders["b"]["id"]])
    assert row_ids(text(page.get(f"{LIST}?field=customer&op=!%3D&value=华联服饰"))) == [orders["c"]["id"]]
    by_id = text(page.get(f"{LIST}?field=customer&op=%3D&value=%23{orders['chongqing']}"))
    assert row_ids(by_id) == [orders["c"]["id"]]
    assert 'data-link-filter="customer"' in text(page.get(f"{LIST}/filter-input?field=customer"))
    searched = text(page.get(f"{LIST}?q=重庆", htmx=True))
    assert row_ids(searched) == [orders["c"]["id"]] and "<html" not in searched
    # a search word that is an option label finds by label too
    assert row_ids(text(page.get(f"{LIST}?q=Confirmed"))) == [orders["a"]["id"]]


def test_link_filter_with_an_operator_a_title_cannot_take_is_a_clear_400(app, orders):
    response = browser(app, "sales").get(f"{LIST}?field=customer&op=%3E&value=x")
    assert response.status_code == 400 and "title" in text(response) and row_ids(text(response)) == []


@pytest.mark.parametrize(("role", "lang"), [("sales", "en"), ("finance", "zh_CN"), ("warehouse", "en")])
def test_totals_row_adds_up_the_whole_filtered_result(app, orders, role, lang):
    page = browser(app, role, lang)
    # 299.00 + 238.00 + 208.70 = 745.70; 10 + 2 + 4 = 16 pieces - also with a page of one row
    everything = totals(text(page.get(f"{LIST}?limit=1")))
    assert "745.70" in everything["total"] and everything["qty_total"].startswith("16")
    drafts = totals(text(page.get(f"{LIST}?field=status&op=%3D&value=draft", htmx=True)))
    assert "446.70" in drafts["total"] and drafts["qty_total"].startswith("6")
    searched = totals(text(page.get(f"{LIST}?q=重庆")))
    assert "208.70" in searched["total"] and searched["qty_total"].startswith("4")
    assert "customer" not in everything and "number" not in everything  # links and text are not summed


def test_hidden_fields_are_never_summed(app, jxc, orders):
    sh, ts = jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    dn = jxc.create(jxc.warehouse, "delivery", {"customer": jxc.customer, "warehouse": sh, "delivery_date": DAY,
                                                "lines": [{"product": ts, "qty": "5", "unit_price": "29.90"}]})  # fmt: skip
    cols = "cols=number&cols=total&cols=cost_total"
    warehouse = totals(text(browser(app, "warehouse").get(f"/a/jxc/delivery?{cols}")))
    assert warehouse["total"].startswith("149.50") and "cost_total" in warehouse
    sales = text(browser(app, "sales").get(f"/a/jxc/delivery?{cols}"))  # cost_total is hidden from sales
    assert totals(sales).keys() == {"total"} and dn["number"] in sales


def test_finance_exports_receivables_to_xlsx_and_csv_audited(app, jxc, orders):
    sh, ts = jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    for qty in ("10", "4"):
        dn = jxc.create(jxc.warehouse, "delivery", {"customer": jxc.customer, "warehouse": sh, "delivery_date": DAY,
                                                    "lines": [{"product": ts, "qty": qty, "unit_price": "29.90"}]})  # fmt: skip
        jxc.set_status(jxc.warehouse, "delivery", dn["id"], "posted")
    finance = browser(app, "finance", "zh_CN")
    page = text(finance.get("/a/jxc/receivable"))
    assert 'data-export="xlsx"' in page and 'data-export="csv"' in page
    response = finance.get("/a/jxc/receivable/export.xlsx?sort=amount")
    assert response.status_code == 200 and "spreadsheetml" in response.mimetype
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("单号", "客户", "日期")  # the view's columns, labelled in Chinese
    amounts = [r[rows[0].index("应收金额")] for r in rows[1:]]
    assert [float(a) for a in amounts] == [119.6, 299.0]  # 4 x 29.90 and 10 x 29.90, numbers, sorted
    assert {r[rows[0].index("客户")] for r in rows[1:]} == {"华联服饰"}  # titles, not ids
    csv_rows = list(
        csv.reader(io.StringIO(finance.get("/a/jxc/receivable/export.csv").data.decode("utf-8-sig")))
    )
    assert len(csv_rows) == 3
    with app.extensions["lowcode"].db.engine.connect() as conn:
        events = conn.execute(
            sa.text("SELECT username, detail FROM lc_security_event WHERE kind = 'data_exported'")
        )
        events = [(u, d if isinstance(d, dict) else __import__("json").loads(d)) for u, d in events]
    assert [(u, d["entity"], d["rows"], d["format"]) for u, d in events] == [
        ("finance", "receivable", 2, "xlsx"), ("finance", "receivable", 2, "csv")]  # fmt: skip


def test_a_formula_like_cell_is_neutralised_in_xlsx_and_csv(app, orders):
    admin = browser(app, "admin")
    response = admin.get(f"{LIST}/export.xlsx?cols=number&cols=note&cols=total&q=重庆")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    (header, row) = list(sheet.iter_rows())
    assert row[1].value.startswith("'=HYPERLINK") and row[1].data_type == "s"
    assert row[2].data_type == "n" and float(row[2].value) == 208.70
    body = admin.get(f"{LIST}/export.csv?cols=note&q=重庆").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in body


@pytest.mark.parametrize("role", ["warehouse"])  # sales may export its orders (the sales reports' source)
def test_export_is_refused_without_the_grant(app, orders, role):
    page = browser(app, role)
    assert "data-export" not in text(page.get(LIST)) and "data-bulk-export" not in text(page.get(LIST))
    assert page.get(f"{LIST}/export.xlsx").status_code == 403
    ids = [("ids", f"{orders['a']['id']}:1")]
    assert page.post(f"{LIST}/export-selected.csv", ids).status_code == 403


def test_export_of_selected_rows(app, orders):
    admin = browser(app, "admin")
    picked = [("ids", f"{orders[k]['id']}:{orders[k]['version']}") for k in ("a", "c")]
    response = admin.post(f"{LIST}/export-selected.xlsx", picked)
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == sorted([orders["a"]["number"], orders["c"]["number"]])
    chosen = admin.post(f"{LIST}/export-selected.csv", [*picked, ("cols", "number"), ("cols", "total")])
    lines = list(csv.reader(io.StringIO(chosen.data.decode("utf-8-sig"))))
    assert lines[0] == ["Number", "Total"] and sorted(lines[1:]) == sorted(
        [[orders["a"]["number"], "299.00"], [orders["c"]["number"], "208.70"]])  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_bulk_delete_reports_the_refused_and_deletes_the_others(app, jxc, orders, lang):
    sales = browser(app, "sales", lang)
    page = text(sales.get(LIST))
    assert "data-bulk-delete" in page
    picked = [("ids", f"{orders[k]['id']}:{orders[k]['version']}") for k in ("a", "b")]
    result = text(sales.post(f"{LIST}/bulk-delete", picked))
    assert f'data-record="{orders["a"]["id"]}"' in result.split("bulk-refused")[1].split("</ul>")[0]
    assert f'data-record="{orders["b"]["id"]}"' in result.split("bulk-done")[1]
    assert jxc.sales.get(jxc.url("sales_order", orders["b"]["id"])).status_code == 404
    assert jxc.get("sales_order", orders["a"]["id"])["status"] == "confirmed"
    # warehouse may not delete orders: no button, and a forged post is a 403 that deletes nothing
    warehouse = browser(app, "warehouse", lang)
    assert "data-bulk-delete" not in text(warehouse.get(LIST))
    forged = warehouse.post(f"{LIST}/bulk-delete", [("ids", f"{orders['c']['id']}:{orders['c']['version']}")])
    assert forged.status_code == 403 and jxc.get("sales_order", orders["c"]["id"])["id"] == orders["c"]["id"]


def _views(page: str) -> dict[str, int]:
    """Saved views in the dropdown: name (with its "shared" mark) -> id."""
    box = page.split('aria-label="Saved views"')[1].split("</select>")[0] if 'aria-label="Saved views"' in page else (
        page.split('aria-label="已保存的视图"')[1].split("</select>")[0])  # fmt: skip
    return {
        html.unescape(m.group(2)).strip(): int(m.group(1))
        for m in re.finditer(r'<option value="(\d+)"[^>]*>([^<]*)<', box)
    }


def _save(b: Browser, name: str, query: str, shared: bool = False):
    data = {"name": name, "query": query, **({"shared": "1"} if shared else {})}
    return b.post(f"{LIST}/views", data)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_saved_views_personal_and_shared(app, jxc, orders, lang):
    sales, warehouse, admin = (
        browser(app, "sales", lang),
        browser(app, "warehouse", lang),
        browser(app, "admin", lang),
    )
    shared_mark = "共享" if lang == "zh_CN" else "shared"
    mine = "field=status&op=%3D&value=draft&sort=-total&cols=number&cols=total"
    assert _save(sales, "My drafts", mine).status_code == 303
    page = text(sales.get(LIST))
    assert list(_views(page)) == ["My drafts"] and "Shared with everyone" not in page
    opened = sales.get(f"{LIST}/views/open?id={_views(page)['My drafts']}")
    assert opened.status_code == 303
    listed = text(sales.get(opened.headers["Location"]))
    assert row_ids(listed) == [orders["b"]["id"], orders["c"]["id"]]  # drafts, the larger total first
    assert (
        totals(listed).keys() == {"total"} and "446.70" in totals(listed)["total"]
    )  # only the chosen columns
    assert re.search(r'<option value="\d+" selected>My drafts', listed)  # the current view is selected
    assert _views(text(warehouse.get(LIST))) == {}  # personal: nobody else sees it
    # sharing needs the right to configure the app: refused for sales, nothing saved
    assert _save(sales, "Everyone's", mine, shared=True).status_code == 403
    assert list(_views(text(sales.get(LIST)))) == ["My drafts"]
    assert _save(sales, "Bad", "sort=no_such_field").status_code == 400
    # the app's administrator shares a view: everyone who reads the list sees it; only they delete it
    assert _save(admin, "重庆", "q=重庆", shared=True).status_code == 303
    seen = _views(text(warehouse.get(LIST)))
    assert list(seen) == [f"重庆 · {shared_mark}"]
    view_id = seen[f"重庆 · {shared_mark}"]
    assert row_ids(text(warehouse.get(warehouse.get(f"{LIST}/views/open?id={view_id}").headers["Location"]))) == [
        orders["c"]["id"]]  # fmt: skip
    assert sales.post(f"{LIST}/views/{view_id}/delete").status_code == 403
    assert admin.post(f"{LIST}/views/{view_id}/delete").status_code == 303
    assert list(_views(text(sales.get(LIST)))) == ["My drafts"]
    mine_id = _views(text(sales.get(LIST)))["My drafts"]
    assert warehouse.get(f"{LIST}/views/open?id={mine_id}").status_code == 404  # another's personal view


def _column_of(page: str, record_id: int) -> str:
    """The column value the board shows a card in."""
    for column in page.split('<section class="kanban-column card" data-value="')[1:]:
        if f'data-id="{record_id}"' in column:
            return column.split('"', 1)[0]
    raise AssertionError(f"card {record_id} is on no column")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_kanban_moves_are_workflow_steps_and_refusals_snap_back(app, jxc, orders, lang):
    sales = browser(app, "sales", lang)
    assert 'data-view-kind="board"' in text(sales.get(LIST))
    board = text(sales.get(f"{LIST}/board"))
    assert (
        "草稿" if lang == "zh_CN" else "Draft"
    ) in board and "重庆山城商贸" in board  # labels, card titles
    assert (
        _column_of(board, orders["a"]["id"]) == "confirmed"
        and _column_of(board, orders["b"]["id"]) == "draft"
    )
    b, c = orders["b"], orders["c"]
    # draft -> confirmed is the "confirm" step, which sales may take
    moved = sales.post(f"{LIST}/{b['id']}/move", {"to": "confirmed", "version": str(b["version"])})
    assert moved.status_code == 200 and moved.get_json()["ok"] is True, moved.get_json()
    assert jxc.get("sales_order", b["id"])["status"] == "confirmed"
    # no step leads from draft to shipped: refused with the reason, nothing changed
    refused = sales.post(f"{LIST}/{c['id']}/move", {"to": "shipped", "version": str(c["version"])})
    assert refused.status_code == 409 and refused.get_json()["ok"] is False and refused.get_json()["reason"]
    assert jxc.get("sales_order", c["id"])["status"] == "draft"
    # warehouse may read orders but not confirm them
    warehouse = browser(app, "warehouse", lang)
    denied = warehouse.post(f"{LIST}/{c['id']}/move", {"to": "confirmed", "version": str(c["version"])})
    assert denied.status_code == 403 and denied.get_json()["ok"] is False
    assert jxc.get("sales_order", c["id"])["status"] == "draft"
    # a stale version is a conflict, not a silent overwrite
    stale = sales.post(
        f"{LIST}/{c['id']}/move", {"to": "confirmed", "version": "1" if c["version"] != 1 else "99"}
    )
    assert stale.status_code == 409 and jxc.get("sales_order", c["id"])["status"] == "draft"
    after = text(sales.get(f"{LIST}/board?q=重庆"))  # the list's search applies to the board
    assert 'data-id="' + str(orders["a"]["id"]) + '"' not in after and _column_of(after, c["id"]) == "draft"


@pytest.mark.parametrize(("role", "lang"), [("finance", "en"), ("warehouse", "zh_CN")])
def test_calendar_places_orders_on_their_date(app, orders, role, lang):
    page = browser(app, role, lang)
    month = text(page.get(f"{LIST}/calendar?month=2026-11"))
    day = month.split('data-day="2026-11-12"')[1].split("</td>")[0]
    assert all(orders[k]["number"] in day for k in ("a", "b", "c"))
    assert ("十一月" if lang == "zh_CN" else "November") in month
    assert orders["a"]["number"] not in text(page.get(f"{LIST}/calendar?month=2026-10"))
    assert page.get(f"{LIST}/calendar?month=nonsense").status_code == 400
    assert page.get("/a/jxc/product/board").status_code == 404  # no kanban declared there
