"""Create and edit forms: binding, child rows, inline messages (422), conflicts (409), CSRF, htmx."""

from __future__ import annotations

from .helpers import csrf_of, field_errors, text

ORDER = {"customer": "3", "order_date": "2026-11-20", "status": "draft", "discount": "10", "note": ""}
LINES = [
    ("lines-n1-id", ""),
    ("lines-n1-product", "1"),
    ("lines-n1-qty", "3"),
    ("lines-n1-unit_price", "19.99"),
    ("lines-n2-id", ""),
    ("lines-n2-product", "2"),
    ("lines-n2-qty", "0.5"),
    ("lines-n2-unit_price", "100.01"),
]


def _order_count(api) -> int:
    return api.get("/api/data/demo/order?limit=1").get_json()["total"]


def test_new_form_is_laid_out_by_the_form_definition(admin):
    page = text(admin.get("/a/demo/order/new"))
    assert '<legend class="h6 border-bottom pb-1">Header</legend>' in page
    assert page.index("Header") < page.index("Lines</legend>") < page.index("Totals")
    # link: a picker whose options come from the server (none but the empty one until typed)
    assert '<select class="form-select link-picker" id="f-customer" name="customer"' in page
    assert 'data-picker="/a/demo/order/options/customer"' in page
    assert 'data-picker="/a/demo/order/options/lines.product"' in page  # child rows too
    assert "Hangzhou Silk Co." not in page
    assert 'name="discount" value="0"' in page and 'inputmode="decimal"' in page  # default, decimal input
    assert '<option value="draft" selected>Draft</option>' in page  # the select's default
    assert 'id="f-number">—</output>' in page  # autonumber: computed, not editable
    assert 'name="number"' not in page
    assert '<template class="child-row-template">' in page and 'name="lines-__row__-qty"' in page
    assert 'hx-post="/a/demo/order/new"' in page and 'hx-swap="outerHTML"' in page


def test_create_an_order_with_two_lines(admin, demo_api):
    response = admin.post("/a/demo/order/new", [*ORDER.items(), *LINES])
    assert response.status_code == 303, text(response)
    location = response.headers["Location"]
    assert location.startswith("/a/demo/order/")
    record = demo_api.get(f"/api/data{location.removeprefix('/a')}").get_json()
    assert record["customer"] == 3
    assert [(line["product"], line["qty"], line["amount"]) for line in record["lines"]] == [
        (1, "3.000", "59.97"),
        (2, "0.500", "50.01"),
    ]
    assert record["subtotal"] == "109.98"
    assert record["total"] == "98.98"
    assert record["note"] is None  # an empty input is stored as null
    detail = text(admin.get(location))
    assert "Hangzhou Silk Co." in detail and "98.98" in detail
    # with htmx, the redirect is the HX-Redirect header
    response = admin.post("/a/demo/order/new", [*ORDER.items(), *LINES], htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/a/demo/order/")


def test_invalid_input_is_shown_next_to_the_fields_and_nothing_is_created(admin, demo_api):
    before = _order_count(demo_api)
    data = [*{**ORDER, "customer": ""}.items(), *LINES[:3], ("lines-n1-unit_price", "19.99")]
    data = [(k, "abc" if k == "lines-n1-qty" else v) for k, v in data]
    response = admin.post("/a/demo/order/new", data)
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "customer")
    assert field_errors(page, "lines-0-qty") == ["Not a valid number."]
    assert 'name="lines-0-qty" value="abc"' in page  # what was typed is kept
    assert '<option value="1" selected>纯棉T恤 白 M</option>' in page  # the chosen product, by its title
    assert 'is-invalid" id="f-customer"' in page
    assert _order_count(demo_api) == before
    # with htmx, only the form comes back (it swaps itself)
    response = admin.post("/a/demo/order/new", {**ORDER, "order_date": "not a date"}, htmx=True)
    assert response.status_code == 422
    page = text(response).strip()
    assert page.startswith("<form") and page.endswith("</form>")
    assert field_errors(page, "order_date")
    assert _order_count(demo_api) == before


def test_edit_changes_fields_and_child_rows_in_the_posted_order(admin, demo_api):
    page = text(admin.get("/a/demo/order/2/edit"))
    assert 'name="version" value="1"' in page
    assert 'name="lines-0-id" value="' in page and 'name="lines-3-id"' in page
    original = demo_api.get("/api/data/demo/order/2").get_json()
    kept = original["lines"][3], original["lines"][0]  # reorder: last first, drop the middle two
    rows = []
    for i, line in enumerate(kept):
        rows += [
            (f"lines-{i}-id", str(line["id"])),
            (f"lines-{i}-product", str(line["product"])),
            (f"lines-{i}-qty", line["qty"]),
            (f"lines-{i}-unit_price", line["unit_price"]),
        ]
    form = {**ORDER, "customer": "2", "status": "confirmed", "discount": "0", "version": "1"}
    response = admin.post("/a/demo/order/2/edit", [*form.items(), *rows])
    assert response.status_code == 303, text(response)
    record = demo_api.get("/api/data/demo/order/2").get_json()
    assert record["version"] == 2 and record["status"] == "confirmed"
    assert [line["id"] for line in record["lines"]] == [kept[0]["id"], kept[1]["id"]]
    assert record["subtotal"] == "763.20"  # 5 * 88.80 + 8 * 39.90


def test_a_stale_version_gives_409_naming_the_changed_fields(admin, demo_api):
    page = text(admin.get("/a/demo/order/3/edit"))
    assert 'name="version" value="1"' in page
    changed = demo_api.patch(
        "/api/data/demo/order/3",
        json={"note": "changed meanwhile", "status": "cancelled"},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.get_json()
    response = admin.post("/a/demo/order/3/edit", {**ORDER, "customer": "1", "note": "mine", "version": "1"})
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this record" in page
    conflict = page.split('class="mb-0 conflict-fields"')[1].split("</ul>")[0]
    assert "<strong>Note</strong>: changed meanwhile" in conflict
    assert "<strong>Status</strong>: Cancelled" in conflict
    assert 'name="note"' in page and ">mine</textarea>" in page  # the user's entry is kept
    assert 'name="version" value="2"' in page  # saving again overwrites, knowingly
    assert demo_api.get("/api/data/demo/order/3").get_json()["note"] == "changed meanwhile"


def test_posts_without_or_with_a_wrong_csrf_token_are_refused(admin, demo_api):
    before = _order_count(demo_api)
    response = admin.post("/a/demo/order/new", [*ORDER.items(), *LINES], csrf=False)
    assert response.status_code == 403
    assert "CSRF" in text(response)
    response = admin.post("/a/demo/order/new", [*ORDER.items(), *LINES, ("csrf_token", "forged")], csrf=False)
    assert response.status_code == 403
    response = admin.client.post("/a/demo/order/1/delete", headers={"X-CSRF-Token": "forged"})
    assert response.status_code == 403
    assert _order_count(demo_api) == before
    assert demo_api.get("/api/data/demo/order/1").status_code == 200


def test_plain_widgets_bind_and_validate(admin, demo_api):
    page = text(admin.get("/a/demo/customer/new"))
    assert 'type="email"' in page and 'type="tel"' in page
    assert csrf_of(page) == admin.token
    response = admin.post(
        "/a/demo/customer/new",
        {"code": "C100", "name": "New Co", "email": "not-an-email", "level": "vip", "credit_limit": "12.345"},
    )
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "email") and field_errors(page, "credit_limit")
    response = admin.post("/a/demo/customer/new", {"code": "C100", "name": "New Co", "level": "vip"})
    assert response.status_code == 303
    created = demo_api.get(f"/api/data{response.headers['Location'].removeprefix('/a')}").get_json()
    assert created["level"] == "vip" and created["email"] is None
    # a checkbox binds to a bool (unchecked: not sent, False), a multi select to a list
    page = text(admin.get("/a/demo/product/1/edit"))
    assert (
        'type="checkbox" class="form-check-input" id="f-active" name="active" value="on" aria-label="Active" checked'
        in page
    )
    form = [
        ("sku", "SKU-0001"),
        ("name", "T"),
        ("price", "1.00"),
        ("tags", "new"),
        ("tags", "sale"),
        ("version", "1"),
    ]
    response = admin.post("/a/demo/product/1/edit", form)  # "active" unchecked: not sent
    assert response.status_code == 303, text(response)
    product = demo_api.get("/api/data/demo/product/1").get_json()
    assert product["active"] is False
    assert product["tags"] == ["new", "sale"]
