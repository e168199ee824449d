"""Output escaping: data never becomes markup."""

from __future__ import annotations

from .helpers import text

EVIL = "<script>alert(1)</script>"


def test_script_in_data_is_escaped_on_every_page(admin, demo_api):
    created = demo_api.post("/api/data/demo/customer", json={"code": "X<1>", "name": EVIL, "level": "normal"})
    assert created.status_code == 201, created.get_json()
    customer_id = created.get_json()["id"]
    order = demo_api.post(
        "/api/data/demo/order",
        json={"customer": customer_id, "order_date": "2026-11-01", "note": EVIL, "lines": []},
    )
    order_id = order.get_json()["id"]
    pages = [
        f"/a/demo/customer?q={customer_id}",
        "/a/demo/customer?q=script",
        f"/a/demo/customer/{customer_id}",
        f"/a/demo/customer/{customer_id}/edit",
        "/a/demo/order",
        f"/a/demo/order/{order_id}",
        f"/a/demo/order/{order_id}/edit",
        "/a/demo/order/new",
    ]
    for url in pages:
        page = text(admin.get(url))
        assert EVIL not in page, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(admin.get("/a/demo/customer?q=script"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(admin.get(f"/a/demo/order/{order_id}"))
    # what the user typed is escaped too
    page = text(admin.get("/a/demo/customer", query_string={"q": '"><img src=x onerror=alert(1)>'}))
    assert "<img src=x" not in page
    page = text(admin.get("/a/demo/customer", query_string={"field": "<b>x</b>", "op": "="}))
    assert "<b>x</b>" not in page
