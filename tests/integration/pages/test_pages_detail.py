"""The detail page: values, child rows, history after an edit; delete and restore."""

from __future__ import annotations

from .helpers import row_ids, text


def test_detail_shows_values_lines_and_history_after_an_edit(admin, demo_api):
    page = text(admin.get("/a/demo/order/1"))
    assert '<dt class="col-sm-4 col-lg-3">Customer</dt>' in page
    assert "上海华联服饰" in page and "10.00 %" in page and "743.40" in page
    lines = page.split('<h2 class="h5">Lines</h2>')[1].split("</table>")[0]
    assert "运动短裤 黑" in lines and ">14<" in lines and "826.00" in lines
    assert "Created" in page and "system:template import" in page

    form = {
        "customer": "2",
        "order_date": "2026-08-08",
        "status": "confirmed",
        "discount": "10",
        "version": "1",
        "lines-0-id": "1",
        "lines-0-product": "5",
        "lines-0-qty": "14",
        "lines-0-unit_price": "59.00",
    }
    assert admin.post("/a/demo/order/1/edit", form).status_code == 303
    page = text(admin.get("/a/demo/order/1"))
    history = page.split("History</h2>")[1]
    latest = history.split("</li>\n  \n  <li")[0]
    assert "Updated" in latest and "admin" in latest and "version 2" in latest
    assert (
        '<span class="fw-semibold">Status</span>: <span class="old">Draft</span> → <span class="new">Confirmed</span>'
        in latest
    )
    assert (
        '<span class="old">上海华联服饰</span> → <span class="new">北京鸿运商贸</span>' in latest
    )  # link titles
    assert history.index("Updated") < history.index("Created")  # newest first


def test_delete_then_restore_through_the_pages_and_stale_deletes(admin, demo_api):
    page = text(admin.get("/a/demo/order/4"))
    assert 'action="/a/demo/order/4/delete"' in page and 'name="version" value="1"' in page
    response = admin.post("/a/demo/order/4/delete", {"version": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/a/demo/order"
    assert demo_api.get("/api/data/demo/order/4").status_code == 404
    assert 4 not in row_ids(text(admin.get("/a/demo/order?sort=id")))
    assert row_ids(text(admin.get("/a/demo/order?deleted=1"))) == [4]

    page = text(admin.get("/a/demo/order/4"))
    assert "Deleted</span>" in page and 'action="/a/demo/order/4/restore"' in page
    assert "/a/demo/order/4/edit" not in page
    response = admin.post("/a/demo/order/4/restore", htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/a/demo/order/4"
    assert demo_api.get("/api/data/demo/order/4").status_code == 200
    history = text(admin.get("/a/demo/order/4")).split("History</h2>")[1]
    assert history.index("Restored") < history.index("Deleted") < history.index("Created")
    # deleting a version someone else has changed since is a conflict
    demo_api.patch("/api/data/demo/order/5", json={"note": "x"}, headers={"If-Match": '"1"'})
    response = admin.post("/a/demo/order/5/delete", {"version": "1"})
    assert response.status_code == 409
    assert "Changed by someone else" in text(response)
    assert demo_api.get("/api/data/demo/order/5").status_code == 200
