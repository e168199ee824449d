"""JXC record pages and navigation as each role, in English and Chinese: linked values as links, related lists,
history newest first with rule-made changes folded, no rule runs for business roles, the print view, menu
groups, no "New" on system-maintained entities, and the home's work queues counted per reader."""

from __future__ import annotations

import html
import re

import pytest

from tests.integration.jxc.conftest import PASSWORD
from tests.integration.jxc.test_documents import order, receipt
from tests.integration.pages.helpers import Browser, text

ROLE_USERS = ("admin", "purchaser", "warehouse", "sales", "finance")


def _browser(app, username: str, lang: str = "en") -> Browser:
    from tests.conftest import ADMIN_PASSWORD

    browser = Browser(app.test_client())
    assert browser.login(username, ADMIN_PASSWORD if username == "admin" else PASSWORD).status_code == 303
    assert browser.post("/language", {"lang": lang, "next": "/"}).status_code == 303  # users keep a language
    return browser


def _history_versions(page: str) -> list[int]:
    return [
        int(v) for v in re.findall(r'class="list-group-item history-entry[^"]*" data-version="(\d+)"', page)
    ]


@pytest.fixture
def posted(jxc):
    """Stock received, an order confirmed and a delivery of it posted (rules change costs and the order)."""
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    receipt(j, sh, ts, "100", "10.00", "2026-11-01")
    so = order(j, "5")
    j.set_status(j.sales, "sales_order", so["id"], "confirmed")
    dn = j.create(j.warehouse, "delivery", {"sales_order": so["id"], "customer": j.customer, "warehouse": sh,
                                            "delivery_date": "2026-11-11",
                                            "lines": [{"product": ts, "qty": "5", "unit_price": "29.90"}]})  # fmt: skip
    j.set_status(j.warehouse, "delivery", dn["id"], "posted")
    return {"order": so["id"], "delivery": dn["id"]}


def test_linked_values_are_links_to_what_the_reader_may_read(app, jxc, posted):
    sales = _browser(app, "sales")
    page = text(sales.get(f"/a/jxc/sales_order/{posted['order']}"))
    customer = f'<a class="record-link" href="/a/jxc/customer/{jxc.customer}">华联服饰</a>'
    assert customer in page
    warehouse = jxc.wh["WH-SH"]
    # sales may read warehouses? the link appears exactly when the permission service lets them read it
    reads_warehouse = jxc.sales.get(f"/api/data/jxc/warehouse/{warehouse}").status_code == 200
    assert (f'href="/a/jxc/warehouse/{warehouse}"' in page) == reads_warehouse
    # lines: the product links to its page
    assert f'href="/a/jxc/product/{jxc.product["TS-WHT-M"]}"' in page


def test_history_is_newest_first_with_rule_changes_folded_under_the_write(app, jxc, posted):
    wh = _browser(app, "warehouse")
    page = text(wh.get(f"/a/jxc/delivery/{posted['delivery']}"))
    versions = _history_versions(page)
    assert versions == sorted(versions, reverse=True) and len(versions) == 2  # create, post (+ folded rules)
    newest = page[page.index("history-entry") :]
    newest = newest[
        : newest.index("</li>", newest.index("history-caused") if "history-caused" in newest else 0)
    ]
    assert "history-caused" in newest and "rule: " in newest  # cost changes folded under the post
    assert "system:rule:" not in page


def test_rule_runs_and_dry_run_only_for_those_who_configure(app, jxc, posted):
    for user in ("sales", "warehouse", "finance", "purchaser"):
        page = text(_browser(app, user).get(f"/a/jxc/sales_order/{posted['order']}"))
        assert "<h1" in page and "rule-runs" not in page and "dry-run-form" not in page, user
    admin_page = text(_browser(app, "admin").get(f"/a/jxc/sales_order/{posted['order']}"))
    assert "rule-runs" in admin_page and "dry-run-form" in admin_page


def test_print_view_shows_lines_and_totals(app, jxc, posted):
    for lang in ("en", "zh_CN"):
        page = text(_browser(app, "sales", lang).get(f"/a/jxc/sales_order/{posted['order']}/print"))
        assert 'class="table table-sm table-bordered print-lines"' in page and "totals-row" in page
        assert "css/print.css" in page and "navbar" not in page
        assert "149.50" in page  # 5 x 29.90 in the lines and the totals row


def test_related_lists_on_customer_and_order(app, jxc, posted):
    sales = _browser(app, "sales")
    page = text(sales.get(f"/a/jxc/customer/{jxc.customer}"))
    assert 'data-related="sales_orders"' in page and f'href="/a/jxc/sales_order/{posted["order"]}"' in page
    warehouse = text(_browser(app, "warehouse").get(f"/a/jxc/sales_order/{posted['order']}"))
    assert (
        'data-related="deliveries"' in warehouse
        and f'href="/a/jxc/delivery/{posted["delivery"]}"' in warehouse
    )
    zh = text(_browser(app, "sales", "zh_CN").get(f"/a/jxc/customer/{jxc.customer}"))
    assert "销售订单" in zh


@pytest.mark.parametrize("lang,labels", [("en", ["Sales", "Purchasing", "Stock", "Finance", "Master data"]),
                                         ("zh_CN", ["销售", "采购", "库存", "财务", "基础资料"])])  # fmt: skip
def test_menu_groups_and_no_new_on_stock_balance_for_anyone(app, jxc, lang, labels):
    for user in ROLE_USERS:
        page = text(_browser(app, user, lang).get("/a/jxc"))
        groups = re.findall(
            r'data-menu-group="(\w+)">\s*<a class="nav-link dropdown-toggle"[^>]*>([^<]+)</a>', page
        )
        assert groups, user
        reports = [label for name, label in groups if name == "_reports"]  # the platform's own dropdowns
        groups = [(name, label) for name, label in groups if name not in ("_reports", "_dashboards")]
        assert all(label in labels for _name, label in groups), (user, groups)
        if user == "admin":
            assert [label for _n, label in groups] == labels
        if user in ("admin", "sales", "finance"):  # roles granted reports
            assert reports == [{"en": "Reports", "zh_CN": "报表"}[lang]], user
        assert 'href="/a/jxc/stock_balance/new"' not in page, user
        assert 'href="/a/jxc/stock_ledger/new"' not in page, user
    admin = text(_browser(app, "admin").get("/a/jxc"))
    assert 'href="/a/jxc/warehouse/new"' in admin  # admins still create what no rule maintains
    sales = text(_browser(app, "sales").get("/a/jxc"))
    assert 'href="/a/jxc/sales_order/new"' in sales


def _queue_count(page: str, name: str) -> int:
    match = re.search(rf'data-queue="{name}">.*?data-count="(\d+)"', page, re.S)
    assert match, name
    return int(match.group(1))


def test_home_queues_are_counted_with_the_readers_permissions(app, jxc):
    j = jxc
    drafts = [order(j, "1")["id"] for _ in range(3)]
    admin = text(_browser(app, "admin").get("/a/jxc"))
    sales = text(_browser(app, "sales").get("/a/jxc"))
    assert _queue_count(admin, "orders_to_confirm") == 3 == _queue_count(sales, "orders_to_confirm")
    assert _queue_count(admin, "orders_to_ship") == 0
    # the queue links to the list filtered by its condition: the three drafts, nothing else
    link = html.unescape(
        re.search(r'data-queue="orders_to_confirm">\s*<a class="[^"]*" href="([^"]+)"', sales).group(1)
    )
    listed = text(_browser(app, "sales").get(link))
    assert all(f'/a/jxc/sales_order/{i}"' in listed for i in drafts)
    # purchaser may not read sales orders: the queue is not theirs
    purchaser = text(_browser(app, "purchaser").get("/a/jxc"))
    assert 'data-queue="orders_to_confirm"' not in purchaser
    zh = text(_browser(app, "sales", "zh_CN").get("/a/jxc"))
    assert "待确认销售订单" in zh


@pytest.mark.parametrize(
    ("role", "lang", "label"),
    [("finance", "zh_CN", "销售出库单"), ("finance", "en", "Delivery"), ("admin", "zh_CN", "销售出库单")],
)
def test_a_vouchers_source_shows_by_its_label_on_list_and_record(app, jxc, posted, role, lang, label):
    dn = jxc.get("delivery", posted["delivery"])
    (voucher,) = jxc.vouchers("delivery", dn["number"])
    page = _browser(app, role, lang)
    record = text(page.get(f"/a/jxc/voucher/{voucher['id']}"))
    listed = text(page.get("/a/jxc/voucher?field=source_type&op=%3D&value=delivery"))
    for shown in (record, listed):
        assert f">{label}<" in shown and ">delivery<" not in shown
    assert voucher["source_type"] == "delivery"  # the API keeps the stored value
