"""The view designer: each section saved to the view's draft at once (columns, sort, filter with the condition
builder, board, calendar, related lists, search, page size), undo and redo, refusals that save nothing, the
live preview of the runtime list from the draft on real data, and who may use it."""

from __future__ import annotations

import re

import pytest

from tests.integration.pages.helpers import Browser, add_role_users, signed_in, text

VIEW = "/design/demo/view/order_list"
PASSWORD = "user-pass-123"


@pytest.fixture
def demo(demo_api, designer):
    """The administrator's designer on the demo app (orders with demo data)."""
    return designer


def base_of(page: str) -> str:
    return re.search(r'name="base" value="(\d+)"', page).group(1)


def draft(api) -> dict:
    body = api.get("/api/definitions/demo/view/order_list").get_json()
    return body["draft"] or body["published"]


def edit(browser: Browser, section: str, data: list | dict, expect: int = 303):
    page = text(browser.get(VIEW))
    pairs = list(data.items()) if isinstance(data, dict) else list(data)
    response = browser.post(f"{VIEW}/edit/{section}", [("base", base_of(page)), *pairs])
    assert response.status_code == expect, text(response)[-2000:]
    return response


def headers_of(page: str) -> list[str]:
    head = page.split("<thead", 1)[1].split("</thead>", 1)[0]
    return [re.sub(r"<[^>]+>|\s+", " ", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_designer_shows_every_section_and_two_previews(demo, language):
    if language != "en":
        assert demo.post("/language", {"lang": language, "next": VIEW}).status_code in (302, 303)
    response = demo.get(VIEW)
    assert response.status_code == 200
    page = text(response)
    for section in ("columns", "sort", "filter", "search", "kanban", "calendar", "related"):
        assert f'id="{section}"' in page
    assert (
        page.count(f'<iframe src="{VIEW}/preview"') == 2 and 'width="1366"' in page and 'width="390"' in page
    )
    assert 'name="c:filter/mode"' in page
    assert "Σ" in page  # the total column is added up
    if language == "zh_CN":
        assert "订单" in page and "默认排序" in page and "全部满足" in page and "真实数据预览" in page
    else:
        assert "Default sort" in page and "All of" in page and "Preview on real data" in page


def test_columns_are_added_removed_and_moved_as_draft_steps_with_undo(demo, demo_api):
    edit(demo, "columns", {"change": "add", "field": "note"})
    edit(demo, "columns", {"change": "remove", "key": "customer"})
    edit(demo, "columns", {"change": "move", "key": "total", "direction": "up"})
    edit(demo, "columns", {"change": "move", "key": "note", "position": "0"})
    assert draft(demo_api)["columns"] == ["note", "number", "order_date", "total", "status"]
    undo = demo.post(f"{VIEW}/undo", {"base": base_of(text(demo.get(VIEW)))})
    assert undo.status_code == 303
    assert draft(demo_api)["columns"] == ["number", "order_date", "total", "status", "note"]
    demo.post(f"{VIEW}/redo", {"base": base_of(text(demo.get(VIEW)))})
    assert draft(demo_api)["columns"][0] == "note"
    # a stale base is a conflict, and the draft stays as it is
    stale = demo.post(f"{VIEW}/edit/columns", {"base": "1", "change": "remove", "key": "note"})
    assert stale.status_code == 409 and draft(demo_api)["columns"][0] == "note"
    # a field the entity does not have is refused, nothing saved
    edit(demo, "columns", {"change": "add", "field": "lines"}, expect=422)
    edit(demo, "columns", {"change": "add", "field": "nope"}, expect=422)
    assert "nope" not in draft(demo_api)["columns"]


def test_sort_filter_board_calendar_search_and_page_size_are_saved(demo, demo_api):
    edit(demo, "sort", [("sort/0/field", "status"), ("sort/0/direction", "desc"),
                        ("sort/1/field", "number"), ("sort/1/direction", "asc"), ("sort/2/field", "")])  # fmt: skip
    edit(demo, "filter", [("c:filter/mode", "any"),
                          ("c:filter/0/field", "status"), ("c:filter/0/op", "in"),
                          ("c:filter/0/value", "draft"), ("c:filter/0/value", "confirmed"),
                          ("c:filter/1/mode", "all"),
                          ("c:filter/1/0/field", "order_date"), ("c:filter/1/0/op", "between"),
                          ("c:filter/1/0/value/0", "2026-01-01"), ("c:filter/1/0/value/1", "2026-12-31")])  # fmt: skip
    edit(demo, "kanban", [("group_by", "status"), ("card_fields", "number"), ("card_fields", "total")])
    edit(demo, "calendar", {"date_field": "order_date"})
    edit(demo, "search", [("search_fields", "number")])
    edit(demo, "page_size", {"page_size": "25"})
    body = draft(demo_api)
    assert body["sort"] == [{"field": "status", "direction": "desc"}, {"field": "number", "direction": "asc"}]
    assert body["filter"] == {"any": [
        {"field": "status", "op": "in", "value": ["draft", "confirmed"]},
        {"all": [{"field": "order_date", "op": "between", "value": ["2026-01-01", "2026-12-31"]}]},
    ]}  # fmt: skip
    assert body["kanban"] == {"group_by": "status", "card_fields": ["number", "total"]}
    assert body["calendar"] == {"date_field": "order_date"} and body["page_size"] == 25
    assert body["search_fields"] == ["number"]
    # the saved filter is drawn back as rows
    page = text(demo.get(VIEW))
    assert 'name="c:filter/1/0/value/1" value="2026-12-31"' in page
    edit(demo, "kanban", {"group_by": ""})
    assert "kanban" not in draft(demo_api)


def test_refused_settings_save_nothing_and_show_their_errors(demo, demo_api):
    before = draft(demo_api)
    response = edit(demo, "filter", [("c:filter/mode", "all"),
                                     ("c:filter/0/field", "order_date"), ("c:filter/0/op", ">"),
                                     ("c:filter/0/value", "soon"),
                                     ("c:filter/1/field", "number"), ("c:filter/1/op", "contains"),
                                     ("c:filter/1/value", "SO")], expect=422)  # fmt: skip
    page = text(response)
    assert 'data-error-for="filter/0"' in page and 'value="soon"' in page
    assert 'data-error-for="filter/1"' not in page
    edit(demo, "kanban", {"group_by": "customer"}, expect=422)
    edit(demo, "page_size", {"page_size": "9999"}, expect=422)
    edit(demo, "page_size", {"page_size": "many"}, expect=422)
    assert demo.post(f"{VIEW}/edit/nothing", {"base": base_of(text(demo.get(VIEW)))}).status_code == 400
    assert draft(demo_api) == before


def test_related_lists_are_added_changed_and_removed(demo, demo_api):
    customer = "/design/demo/view/customer_list"
    page = text(demo.get(customer))
    assert 'value="order.customer"' in page
    response = demo.post(
        f"{customer}/edit/related", {"base": base_of(page), "change": "add", "source": "order.customer"}
    )
    assert response.status_code == 303
    related = demo_api.get("/api/definitions/demo/view/customer_list").get_json()["draft"]["related"]
    assert related[0]["entity"] == "order" and related[0]["field"] == "customer"
    page = text(demo.get(customer))
    data = [("base", base_of(page)), ("change", "update"), ("index", "0"), ("columns", "number"), ("columns", "total"),
            ("rsort/0/field", "order_date"), ("rsort/0/direction", "desc"), ("page_size", "5")]  # fmt: skip
    assert demo.post(f"{customer}/edit/related", data).status_code == 303
    related = demo_api.get("/api/definitions/demo/view/customer_list").get_json()["draft"]["related"]
    assert related[0]["columns"] == ["number", "total"] and related[0]["page_size"] == 5
    assert related[0]["sort"] == [{"field": "order_date", "direction": "desc"}]
    page = text(demo.get(customer))
    assert (
        demo.post(
            f"{customer}/edit/related", {"base": base_of(page), "change": "remove", "index": "0"}
        ).status_code
        == 303
    )
    assert "related" not in demo_api.get("/api/definitions/demo/view/customer_list").get_json()["draft"]


def test_the_preview_is_the_runtime_list_rendered_from_the_draft(demo, demo_api):
    edit(demo, "columns", {"change": "add", "field": "note"})
    edit(demo, "columns", {"change": "remove", "key": "customer"})
    edit(demo, "filter", [("c:filter/mode", "all"), ("c:filter/0/field", "status"),
                          ("c:filter/0/op", "="), ("c:filter/0/value", "confirmed")])  # fmt: skip
    preview = demo.get(f"{VIEW}/preview")
    assert preview.status_code == 200
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    page = text(preview)
    headers = headers_of(page)
    assert "Note" in headers and "Customer" not in headers
    confirmed = demo_api.get(
        '/api/data/demo/order?filter={"field":"status","op":"=","value":"confirmed"}'
    ).get_json()
    shown = re.findall(r'<td[^>]*><a href="/a/demo/order/(\d+)">', page)
    assert confirmed["data"] and sorted(map(int, shown)) == sorted(r["id"] for r in confirmed["data"])
    # the published list is untouched, and may not be framed
    runtime = demo.get("/a/demo/order")
    assert "Customer" in headers_of(text(runtime)) and runtime.headers["X-Frame-Options"] == "DENY"


def test_a_field_not_yet_published_is_noted_not_a_500(demo, demo_api):
    page = text(demo.get("/design/demo/entity/order"))
    added = demo.post("/design/demo/entity/order/fields", {"type": "text", "base": base_of(page)})
    assert added.status_code == 303
    key = next(f["name"] for f in draft_entity(demo_api)["fields"] if f["type"] == "text")
    edit(demo, "columns", {"change": "add", "field": key})
    edit(demo, "sort", [("sort/0/field", key)])
    assert "preview-unpublished" in text(demo.get(VIEW)) and key in text(demo.get(VIEW))
    preview = demo.get(f"{VIEW}/preview")
    assert preview.status_code == 200 and "Number" in headers_of(text(preview))


def draft_entity(api) -> dict:
    return api.get("/api/definitions/demo/entity/order").get_json()["draft"]


def test_a_table_never_published_previews_as_a_note(demo):
    page = text(demo.get("/design/demo"))
    demo.post("/design/demo/entities", {"name": "visit", "label:en": "Visit"})
    preview = demo.get("/design/demo/view/visit_list/preview")
    assert preview.status_code == 200 and "preview-note" in text(preview)
    assert "csrf_token" in page


def test_the_designer_is_linked_from_the_app_and_entity_pages(demo):
    assert f'href="{VIEW}"' in text(demo.get("/design/demo"))
    assert f'href="{VIEW}"' in text(demo.get("/design/demo/entity/order"))


BUNDLE = {
    "app": {"name": "crm", "label": "CRM"},
    "entities": [{"name": "deal", "label": "Deal", "fields": [{"name": "title", "type": "text"}]}],
    "views": [{"name": "deal_list", "entity": "deal", "columns": ["title"]}],
    "roles": [
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "deal", "actions": ["read"]}]},
        {"name": "builder", "label": "Builder", "grants": [{"entity": "deal", "actions": ["read", "configure"]}]},
    ],
}  # fmt: skip


@pytest.fixture
def crm(app, api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    add_role_users(app, "crm", {"vic": "viewer", "bea": "builder"}, PASSWORD)
    return api


def _browser(app, username: str) -> Browser:
    return signed_in(app, username, PASSWORD)


def test_only_who_may_configure_the_entity_designs_its_list(app, crm):
    url = "/design/crm/view/deal_list"
    vic, bea = _browser(app, "vic"), _browser(app, "bea")
    for path in ("", "/preview"):
        assert vic.get(url + path).status_code == 403
        assert bea.get(url + path).status_code == 200
    page = text(bea.get(url))
    assert vic.post(f"{url}/edit/page_size", {"base": base_of(page), "page_size": "5"}).status_code == 403
    assert (
        vic.post("/design/crm/entity/deal/condition-row", {"_row": "filter/0"}, htmx=True).status_code == 403
    )
    assert (
        bea.post(f"{url}/edit/page_size", {"base": base_of(page), "page_size": "5"}, csrf=False).status_code
        == 403
    )
    assert "page_size" not in crm.get("/api/definitions/crm/view/deal_list").get_json()["draft"] or {}
    assert bea.post(f"{url}/edit/page_size", {"base": base_of(page), "page_size": "5"}).status_code == 303
    assert crm.get("/api/definitions/crm/view/deal_list").get_json()["draft"]["page_size"] == 5
    assert Browser(app.test_client()).get(url).status_code in (302, 303)
