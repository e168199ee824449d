"""JXC forms as the roles use them, in English and Chinese: the link picker's options (search, pages,
titles), forms computing before saving (amounts, totals, unit prices fetched from the product), and a
refusal for one line shown on that line."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import Browser, text

from .conftest import PASSWORD
from .test_documents import receipt

NEW = "/a/jxc/sales_order/new"


def _browser(app, username: str, lang: str = "en") -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username, PASSWORD).status_code == 303
    assert browser.post("/language", {"lang": lang, "next": "/"}).status_code == 303  # role users keep zh_CN
    return browser


def _options(browser: Browser, field: str, q: str = "", entity: str = "sales_order") -> dict:
    response = browser.get(f"/a/jxc/{entity}/options/{field}?q={q}")
    assert response.status_code == 200, text(response)
    return response.get_json()


def _pick(browser: Browser, field: str, q: str) -> str:
    items = _options(browser, field, q)["items"]
    assert len(items) == 1, items
    return items[0]["value"]


def _order_form(jxc, browser: Browser, lines: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    data = [("customer", _pick(browser, "customer", "华联")), ("warehouse", _pick(browser, "warehouse", "上海")),
            ("order_date", "2026-11-05")]  # fmt: skip
    for key, (product, qty, price) in enumerate(lines):
        data += [(f"lines-n{key}-id", ""), (f"lines-n{key}-product", product), (f"lines-n{key}-qty", qty),
                 (f"lines-n{key}-unit_price", price)]  # fmt: skip
    return data


def _output(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*hx-swap-oob="true">([^<]*)<', page)
    assert match, (element_id, page)
    return html.unescape(match.group(1))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_sales_creates_an_order_through_the_picker_and_the_unit_price_is_fetched(app, jxc, lang):
    sales = _browser(app, "sales", lang)
    form = text(sales.get(NEW))
    assert 'data-picker="/a/jxc/sales_order/options/lines.product"' in form
    assert 'data-picker="/a/jxc/sales_order/options/customer"' in form
    assert 'hx-post="/a/jxc/sales_order/compute"' in form
    # the picker searches the title and the list view's search fields (the SKU), and shows the SKU as a hint
    found = _options(sales, "lines.product", "JN-BLU")["items"]
    assert found == [{"value": str(jxc.product["JN-BLU-32"]), "text": "牛仔裤 蓝 32", "hint": "JN-BLU-32"}]
    assert {i["text"] for i in _options(sales, "lines.product")["items"]} == {"纯棉T恤 白 M", "牛仔裤 蓝 32"}
    assert _options(sales, "lines.product", "nothing like it")["items"] == []
    ts, jn = _pick(sales, "lines.product", "T恤"), _pick(sales, "lines.product", "牛仔")
    data = _order_form(jxc, sales, [(ts, "3", ""), (jn, "2", "100.00")])
    response = sales.post(NEW, data)
    assert response.status_code == 303, text(response)
    order = jxc.get("sales_order", int(response.headers["Location"].rsplit("/", 1)[1]))
    assert [(line["unit_price"], line["amount"]) for line in order["lines"]] == [
        ("29.90", "89.70"),
        ("100.00", "200.00"),
    ]
    assert order["total"] == "289.70"
    # the edit form shows the linked records by their titles, not their ids
    edit = text(sales.get(f"/a/jxc/sales_order/{order['id']}/edit"))
    assert f'<option value="{ts}" selected>纯棉T恤 白 M</option>' in edit
    assert f'<option value="{jxc.customer}" selected>华联服饰</option>' in edit
    assert 'hx-post="/a/jxc/sales_order/' + str(order["id"]) + '/compute"' in edit


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_form_computes_amounts_total_and_fetched_prices_before_saving(app, jxc, lang):
    sales = _browser(app, "sales", lang)
    ts, jn = jxc.product["TS-WHT-M"], jxc.product["JN-BLU-32"]
    before = len(jxc.rows("sales_order"))
    data = _order_form(jxc, sales, [(str(ts), "3", ""), (str(jn), "1.5", "100.00"), ("", "", "")])
    response = sales.post("/a/jxc/sales_order/compute", data, htmx=True)
    assert response.status_code == 200, text(response)
    page = text(response)
    assert 'id="f-lines-n0-unit_price"' in page and 'value="29.90"' in page  # fetched from the product
    assert 'id="f-lines-n1-unit_price"' not in page  # typed: kept as it is
    assert _output(page, "f-lines-n0-amount").replace(",", "").endswith("89.70 CNY")
    assert _output(page, "f-lines-n1-amount").endswith("150.00 CNY")
    assert _output(page, "f-lines-n2-amount") == "—"  # an empty row computes nothing
    assert _output(page, "f-total").replace(",", "").endswith("239.70 CNY")
    assert _output(page, "f-qty_total").startswith("4.5")
    assert len(jxc.rows("sales_order")) == before  # nothing saved
    # a product just picked again fetches its price again, even though the line holds one
    data = [(k, str(jn) if k == "lines-n0-product" else v) for k, v in data] + [
        ("_changed", "lines-n0-product")
    ]
    data = [(k, "29.90" if k == "lines-n0-unit_price" else v) for k, v in data]
    page = text(sales.post("/a/jxc/sales_order/compute", data, htmx=True))
    assert 'value="119.00"' in page and _output(page, "f-lines-n0-amount").replace(",", "").endswith(
        "357.00 CNY"
    )
    # two lines whose products changed since the last answer both fetch again (names joined by commas)
    data = [(k, str(ts) if k == "lines-n1-product" else v) for k, v in data if k != "_changed"]
    both = [*data, ("_changed", "lines-n0-product,lines-n1-product")]
    page = text(sales.post("/a/jxc/sales_order/compute", both, htmx=True))
    assert _output(page, "f-lines-n0-amount").replace(",", "").endswith("357.00 CNY")  # 3 x 119.00
    assert _output(page, "f-lines-n1-amount").replace(",", "").endswith("44.85 CNY")  # 1.5 x 29.90


def test_the_sales_role_cannot_fetch_a_cost_it_may_not_read(app, jxc):
    """Purchase costs are hidden from sales: a fetch through them gives nothing (and pickers stay within
    the reader's grants)."""
    sales = _browser(app, "sales")
    body = {"supplier": str(jxc.supplier), "warehouse": str(jxc.wh["WH-SH"]), "order_date": "2026-11-05",
            "lines-n0-product": str(jxc.product["TS-WHT-M"]), "lines-n0-qty": "1", "lines-n0-unit_price": ""}  # fmt: skip
    assert sales.post("/a/jxc/purchase_order/compute", body, htmx=True).status_code == 403
    purchaser = _browser(app, "purchaser")
    page = text(purchaser.post("/a/jxc/purchase_order/compute", body, htmx=True))
    assert 'value="10.00"' in page  # purchase_cost, which the purchaser may read
    assert sales.get("/a/jxc/sales_order/options/lines.nope").status_code == 404
    assert sales.get("/a/jxc/sales_order/options/status").status_code == 404  # not a link


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_refusal_for_one_line_is_shown_on_that_line(app, jxc, lang):
    sh, ts, jn = jxc.wh["WH-SH"], jxc.product["TS-WHT-M"], jxc.product["JN-BLU-32"]
    receipt(jxc, sh, ts, "100", "10.00", "2026-11-01")
    order = jxc.create(jxc.sales, "sales_order", {"customer": jxc.customer, "warehouse": sh, "order_date": "2026-11-05",
                                                  "lines": [{"product": ts, "qty": "5", "unit_price": "29.90"},
                                                            {"product": jn, "qty": "7", "unit_price": "119.00"}]})  # fmt: skip
    sales = _browser(app, "sales", lang)
    response = sales.post(
        f"/a/jxc/sales_order/{order['id']}/transitions/confirm", {"version": str(order["version"])}
    )
    assert response.status_code == 422, text(response)
    page = text(response)
    line = re.search(r'<tr class="table-danger" data-line-error="lines\.1">(.*?)</tr>', page, re.S)
    assert line, page
    said = {"en": "Insufficient stock for JN-BLU-32 牛仔裤 蓝 32: available 0, ordered 7, short by 7",
            "zh_CN": "库存不足：JN-BLU-32 牛仔裤 蓝 32 可用 0，订购 7，缺 7"}  # fmt: skip
    assert said[lang] in line.group(1)  # the rule's message in the reader's language
    assert 'data-line-error="lines.0"' not in page  # the line with stock is not blamed
    assert jxc.get("sales_order", order["id"])["status"] == "draft"
    # the API carries the same path
    current = jxc.get("sales_order", order["id"])
    refused = jxc.sales.patch(
        jxc.url("sales_order", order["id"]), json={"status": "confirmed", "version": current["version"]}
    )
    assert refused.status_code == 422 and list(refused.get_json()["error"]["fields"]) == ["lines.1"]


@pytest.mark.parametrize(
    ("role", "lang", "label"),
    [("sales", "en", "Lines"), ("sales", "zh_CN", "明细"), ("admin", "zh_CN", "明细")],
)
def test_a_section_holding_only_the_lines_names_them_once(app, jxc, role, lang, label):
    """The section's legend names the lines table; the table does not repeat it under the legend."""
    if role == "admin":
        page = Browser(app.test_client())
        assert page.login("admin", ADMIN_PASSWORD).status_code == 303
        assert page.post("/language", {"lang": lang, "next": "/"}).status_code == 303
    else:
        page = _browser(app, role, lang)
    form = text(page.get(NEW))
    body = re.sub(r"<[^>]+>", " ", form[form.index('class="record-form"') :])
    assert body.count(f" {label} ") == 1, re.findall(rf".{{40}}{label}.{{40}}", body)
    assert 'data-child-table="lines"' in form
