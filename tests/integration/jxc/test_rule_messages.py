"""JXC rule messages are {en, zh-CN} objects: each reader gets their language - in the API (role users read
Chinese, the administrator English) and on pages (the language chosen) - with select values by their label."""

from __future__ import annotations

import pytest

from tests.integration.jxc.test_documents import order, stocked  # noqa: F401 - fixture
from tests.integration.jxc.test_record_pages import _browser
from tests.integration.pages.helpers import text

SHORT_EN = "Insufficient stock for TS-WHT-M 纯棉T恤 白 M: available 120, ordered 130, short by 10"
SHORT_ZH = "库存不足：TS-WHT-M 纯棉T恤 白 M 可用 120，订购 130，缺 10"


def test_the_api_refusal_is_in_the_actors_language(jxc, stocked):  # noqa: F811
    big = order(jxc, "130")
    as_sales = jxc.set_status(jxc.sales, "sales_order", big["id"], "confirmed", expect=422)
    assert as_sales["error"]["message"] == SHORT_ZH
    as_admin = jxc.set_status(jxc.admin, "sales_order", big["id"], "confirmed", expect=422)
    assert as_admin["error"]["message"] == SHORT_EN


def test_select_values_in_messages_show_their_label_in_the_readers_language(jxc):
    draft = order(jxc, "1")
    body = {"sales_order": draft["id"], "customer": jxc.customer, "warehouse": jxc.wh["WH-SH"],
            "delivery_date": "2026-11-11", "lines": [{"product": jxc.product["TS-WHT-M"], "qty": "1"}]}  # fmt: skip
    dn = jxc.create(jxc.warehouse, "delivery", body)
    zh = jxc.set_status(jxc.warehouse, "delivery", dn["id"], "posted", expect=422)
    assert zh["error"]["message"] == (
        f"销售订单 {draft['number']} 状态为 草稿，不能出库：只有已确认或部分发货的订单可以出库"
    )
    en = jxc.set_status(jxc.admin, "delivery", dn["id"], "posted", expect=422)
    assert en["error"]["message"] == (
        f"Sales order {draft['number']} is Draft: only confirmed or partly shipped orders can be delivered"
    )


@pytest.mark.parametrize(("lang", "said"), [("en", SHORT_EN), ("zh_CN", SHORT_ZH)])
def test_the_page_shows_the_refusal_in_the_pages_language(app, jxc, stocked, lang, said):  # noqa: F811
    big = order(jxc, "130")
    sales = _browser(app, "sales", lang)
    response = sales.post(
        f"/a/jxc/sales_order/{big['id']}/transitions/confirm", {"version": str(big["version"])}
    )
    assert response.status_code == 422
    assert said in text(response)
