""" "Create from" on pages, as each JXC role in English and Chinese: the record page's Deliver / Receive / Return
buttons shown exactly to those who may read the source and create the target while the record's state allows;
the new form filled in (nothing saved) and saved as it is shown; hostile query strings get a 4xx page."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from tests.integration.jxc.test_create_from import draft
from tests.integration.jxc.test_record_pages import _browser
from tests.integration.jxc.test_tracking import confirmed_order, stocked  # noqa: F401 - fixture
from tests.integration.pages.helpers import text

BUTTON = re.compile(
    r'<a class="btn btn-outline-success btn-sm create-from" href="([^"]+)" data-mapping="(\w+)">([^<]+)</a>'
)


def buttons(page: str) -> dict[str, tuple[str, str]]:
    """The create-from buttons of a record page: mapping -> (url, label)."""
    return {m.group(2): (html.unescape(m.group(1)), m.group(3)) for m in BUTTON.finditer(page)}


class _FormFields(HTMLParser):
    """The values a browser would post from the record form: inputs, selected options, textareas."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._template = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "record-form" in (a.get("class") or ""):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "template":
            self._template = True
        if self._template or a.get("disabled") is not None:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("checkbox", "submit"):
            self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "template":
            self._template = False
        elif tag == "form":
            self._in_form = False


def form_fields(page: str) -> list[tuple[str, str]]:
    parser = _FormFields()
    parser.feed(page)
    return [(k, v) for k, v in parser.fields if k != "csrf_token" and "__row__" not in k]


@pytest.mark.parametrize(("lang", "label"), [("en", "Deliver"), ("zh_CN", "出库")])
def test_the_deliver_button_fills_the_delivery_form_and_saving_it_delivers(app, stocked, lang, label):  # noqa: F811
    j = stocked
    so = confirmed_order(j, qty="10", price="25.00")
    warehouse = _browser(app, "warehouse", lang)
    page = text(warehouse.get(f"/a/jxc/sales_order/{so['id']}"))
    url, shown = buttons(page)["deliver_sales_order"]
    assert shown == label
    assert url == f"/a/jxc/delivery/new?mapping=deliver_sales_order&from=sales_order/{so['id']}"

    form = warehouse.get(url)
    assert form.status_code == 200
    form = text(form)
    assert 'class="alert alert-info made-from"' in form and so["number"] in form
    fields = dict(form_fields(form))
    assert fields["sales_order"] == str(so["id"]) and fields["customer"] == str(j.customer)
    assert fields["warehouse"] == str(j.wh["WH-SH"])
    assert (fields["lines-0-product"], fields["lines-0-qty"], fields["lines-0-unit_price"]) == (
        str(j.product["TS-WHT-M"]),
        "10",
        "25.00",
    )
    assert j.rows("delivery") == []  # nothing saved by showing the form

    posted = [(k, "4" if k == "lines-0-qty" else v) for k, v in form_fields(form)]
    saved = warehouse.post("/a/jxc/delivery/new", posted)
    assert saved.status_code == 303, text(saved)[:2000]
    (dn,) = j.rows("delivery")
    assert (dn["sales_order"], dn["status"], dn["total"]) == (so["id"], "draft", "100.00")
    j.set_status(j.warehouse, "delivery", dn["id"], "posted")
    again = text(
        warehouse.get(
            buttons(text(warehouse.get(f"/a/jxc/sales_order/{so['id']}")))["deliver_sales_order"][0]
        )
    )
    assert dict(form_fields(again))["lines-0-qty"] == "6"
    assert "lines-1-qty" not in dict(form_fields(again))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize(
    ("user", "offered"),
    [("admin", {"deliver_sales_order"}), ("warehouse", {"deliver_sales_order"}), ("sales", set()),
     ("finance", set()), ("purchaser", None)],
)  # fmt: skip
def test_who_sees_which_button(app, stocked, user, offered, lang):  # noqa: F811
    j = stocked
    so = confirmed_order(j)
    response = _browser(app, user, lang).get(f"/a/jxc/sales_order/{so['id']}")
    if offered is None:  # may not read sales orders at all
        assert response.status_code in (403, 404)
        return
    assert set(buttons(text(response))) == offered


def test_return_buttons_on_posted_documents_only(app, stocked):  # noqa: F811
    j = stocked
    so = confirmed_order(j)
    made = draft(j.warehouse, "deliver_sales_order", so["id"])
    dn = j.create(j.warehouse, "delivery", {**made["values"], **made["children"]})
    sales, warehouse = _browser(app, "sales", "zh_CN"), _browser(app, "warehouse")
    assert (
        buttons(text(sales.get(f"/a/jxc/delivery/{dn['id']}"))) == {}
    )  # a draft delivery: nothing to return
    j.set_status(j.warehouse, "delivery", dn["id"], "posted")
    page = text(sales.get(f"/a/jxc/delivery/{dn['id']}"))
    assert {k: v[1] for k, v in buttons(page).items()} == {"return_delivery": "退货"}
    assert buttons(text(warehouse.get(f"/a/jxc/delivery/{dn['id']}"))) == {}  # may not create sales returns
    form = text(sales.get(buttons(page)["return_delivery"][0]))
    fields = dict(form_fields(form))
    assert fields["delivery"] == str(dn["id"]) and fields["lines-0-qty"] == "10"
    keep = ("product", "qty", "unit_price")
    lines = [{k: line[k] for k in keep} for line in j.get("delivery", dn["id"])["lines"]]
    sr = j.create(j.sales, "sales_return", {"delivery": dn["id"], "customer": j.customer, "warehouse": j.wh["WH-SH"],
                                            "return_date": "2026-11-15", "lines": lines})  # fmt: skip
    j.set_status(j.warehouse, "sales_return", sr["id"], "posted")
    assert buttons(text(sales.get(f"/a/jxc/delivery/{dn['id']}"))) == {}  # everything returned: no Return
    # the receipt of the stock: Return for the warehouse, nothing for the sales role
    (gr,) = j.rows("purchase_receipt")
    assert set(buttons(text(warehouse.get(f"/a/jxc/purchase_receipt/{gr['id']}")))) == {
        "return_purchase_receipt"
    }


@pytest.mark.parametrize(
    "query",
    [
        "mapping=deliver_sales_order&from=sales_order/999999",  # unknown id
        "mapping=no_such&from=sales_order/{so}",
        "mapping=return_delivery&from=sales_order/{so}",  # a mapping of another target
        "mapping=deliver_sales_order&from=delivery/{so}",  # of another source
    ],
)
def test_hostile_query_strings_are_404(app, stocked, query):  # noqa: F811
    j = stocked
    so = confirmed_order(j)
    response = _browser(app, "warehouse").get("/a/jxc/delivery/new?" + query.format(so=so["id"]))
    assert response.status_code == 404
    assert "made-from" not in text(response)


@pytest.mark.parametrize("query", ["mapping=deliver_sales_order&from=sales_order/x", "mapping=deliver_sales_order",
                                   "from=sales_order/1", "mapping=deliver_sales_order&from=sales_order/-1"])  # fmt: skip
def test_malformed_query_strings_are_400(app, stocked, query):  # noqa: F811
    response = _browser(app, "warehouse").get("/a/jxc/delivery/new?" + query)
    assert response.status_code == 400


def test_a_draft_order_is_refused_with_a_message(app, jxc):
    j = jxc
    so = j.create(j.sales, "sales_order", {"customer": j.customer, "warehouse": j.wh["WH-SH"], "order_date": "2026-11-10",
                                           "lines": [{"product": j.product["TS-WHT-M"], "qty": "2", "unit_price": "29.90"}]})  # fmt: skip
    warehouse = _browser(app, "warehouse")
    assert buttons(text(warehouse.get(f"/a/jxc/sales_order/{so['id']}"))) == {}
    response = warehouse.get(f"/a/jxc/delivery/new?mapping=deliver_sales_order&from=sales_order/{so['id']}")
    assert response.status_code == 409
    assert "not in a state" in text(response)
    sales = _browser(app, "sales")  # may not create deliveries: 403, whatever the record
    assert (
        sales.get(f"/a/jxc/delivery/new?mapping=deliver_sales_order&from=sales_order/{so['id']}").status_code
        == 403
    )
