"""Apps, app home, and the list page: search, filter, sort, "load more", link titles, htmx partials."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import sqlalchemy as sa

from .helpers import load_more_url, row_ids, row_titles, text


def test_index_lists_the_apps_and_app_home_the_menu_with_record_counts(admin):
    page = text(admin.get("/"))
    assert "Orders demo" in page
    assert 'href="/a/demo"' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    page = text(admin.get("/a/demo"))
    for label, url, count in (
        ("Order", "/a/demo/order", 12),
        ("Customer", "/a/demo/customer", 8),
        ("Product", "/a/demo/product", 6),
    ):
        assert f'<a class="me-auto" href="{url}">{label}</a>' in page
        assert f'title="Records">{count}</span>' in page
    assert page.index("/a/demo/order") < page.index("/a/demo/customer") < page.index("/a/demo/product")
    assert "/a/demo/order_line" not in page  # child entities have no menu entry


def test_list_shows_the_view_columns_with_formatted_values_and_link_titles(admin):
    page = text(admin.get("/a/demo/order"))
    for label in ("Number", "Customer", "Order date", "Status", "Total"):
        assert f">{label}" in page
    assert "Discount" not in page.split("<tbody")[0].split("</form>")[1]  # not a column of the view
    assert "上海华联服饰" in page  # the customer's title, not its id
    assert "Confirmed" in page and "confirmed</td>" not in page  # choice labels
    assert "12 records" in page
    # the view sorts by order date, newest first
    dates = _cells(page, 2)
    assert dates == sorted(dates, reverse=True)


def _cells(page: str, column: int) -> list[str]:
    rows = page.split('<tbody id="rows">')[1].split("</tbody>")[0].split("<tr>")[1:]
    return [
        re.split(r"<td data-label=\"[^\"]*\">", row)[column + 1].split("</td>")[0].strip() for row in rows
    ]


def test_link_titles_are_loaded_with_one_query_per_page(app, admin):
    statements: list[str] = []
    engine = app.extensions["lowcode"].db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert admin.get("/a/demo/order?limit=10").status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    customer_reads = [s for s in statements if "FROM e_demo_customer" in s]
    assert len(customer_reads) == 1, customer_reads


def test_search_narrows_the_rows_and_htmx_gets_only_the_rows(admin):
    page = text(admin.get("/a/demo/customer?q=hangzhou"))
    assert row_titles(page) == ["C003"]
    assert "Hangzhou Silk Co." in page
    assert "1 record" in page
    partial = text(admin.get("/a/demo/customer?q=garments", htmx=True))
    assert "<html" not in partial and "<nav" not in partial
    assert row_titles(partial) == ["C007"]
    assert 'hx-trigger="keyup changed delay:300ms, search"' in text(admin.get("/a/demo/customer"))
    page = text(admin.get("/a/demo/customer?q=zzz-nothing"))
    assert row_ids(page) == []
    assert "No records found." in page


def test_clicking_a_column_header_sorts_and_toggles(admin):
    page = text(admin.get("/a/demo/product?sort=-price"))
    assert row_titles(page)[0] == "SKU-0006"  # Down jacket, 699.00
    assert 'href="/a/demo/product?sort=price"' in page  # clicking again sorts ascending
    page = text(admin.get("/a/demo/product?sort=price"))
    assert row_titles(page) == ["SKU-0001", "SKU-0005", "SKU-0004", "SKU-0002", "SKU-0003", "SKU-0006"]
    assert 'href="/a/demo/product?sort=-price"' in page
    assert 'aria-sort="ascending"' in page


def test_load_more_returns_the_next_rows_until_the_end(admin):
    first = text(admin.get("/a/demo/order?limit=5&sort=id"))
    seen = row_ids(first)
    assert seen == [1, 2, 3, 4, 5]
    url = load_more_url(first)
    assert url and "after=" in url
    second = text(admin.get(url, htmx=True))
    assert "<html" not in second
    assert row_ids(second) == [6, 7, 8, 9, 10]
    third = text(admin.get(load_more_url(second), htmx=True))
    assert row_ids(third) == [11, 12]
    assert load_more_url(third) is None
    assert "No records found." not in third


def test_filter_by_field_operator_value_or_condition_json(admin):
    page = text(admin.get("/a/demo/customer?field=level&op==&value=vip"))
    assert row_titles(page) == ["C007"]
    page = text(admin.get("/a/demo/customer?field=credit_limit&op=%3E%3D&value=20000&sort=code"))
    assert row_titles(page) == ["C001", "C002", "C004", "C005", "C007"]
    page = text(admin.get("/a/demo/product?field=active&op==&value=true"))
    assert len(row_ids(page)) == 6
    page = text(admin.get("/a/demo/customer?field=email&op=is_empty"))
    assert len(row_ids(page)) == 8
    # a raw condition-language filter works too
    condition = {
        "any": [{"field": "code", "op": "=", "value": "C001"}, {"field": "code", "op": "=", "value": "C003"}]
    }
    page = text(admin.get(f"/a/demo/customer?sort=code&filter={quote(json.dumps(condition))}"))
    assert row_titles(page) == ["C001", "C003"]


def test_a_bad_filter_shows_a_message_not_a_crash(admin):
    response = admin.get("/a/demo/customer?field=nope&op==&value=1")
    assert response.status_code == 400
    assert "alert" in text(response)
    response = admin.get("/a/demo/customer?field=credit_limit&op=%3E&value=lots")
    assert response.status_code == 400
    response = admin.get("/a/demo/customer?sort=nope")
    assert response.status_code == 400
