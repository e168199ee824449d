"""The entity designer used as a business user would: build a table field by field, reorder, rename with
data, remove and restore, undo and redo across sessions, conflicts between two designers, refusals that
change nothing, and the schema plan shown (and consented to) before a publish."""

from __future__ import annotations

import re

import sqlalchemy as sa

from lowcode.core.models import SecurityEvent
from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import Browser, text

TYPES = ["money", "select", "date", "link", "formula", "autonumber", "child_table", "rollup"]


def base_of(page: str) -> str:
    """The draft step the designer page was rendered at (its conflict token)."""
    return re.search(r'name="base" value="(\d+)"', page).group(1)


def field_keys(page: str) -> list[str]:
    """The field keys in the designer's field list, in order."""
    return re.findall(r'<li class="list-group-item[^"]*" data-key="([a-z0-9_]+)"', page)


def open_entity(browser: Browser, url: str = "/design/shop/entity/item") -> str:
    response = browser.get(url)
    assert response.status_code == 200, text(response)
    return text(response)


def post(browser: Browser, url: str, data: dict, page: str, expect: int = 303):
    response = browser.post(url, {"base": base_of(page), **data})
    assert response.status_code == expect, text(response)[-2000:]
    return response


def make_shop(designer: Browser) -> str:
    assert (
        designer.post("/design", {"name": "shop", "label:en": "Shop", "label:zh-CN": "商店"}).status_code
        == 303
    )
    assert designer.post("/design/shop/entities", {"name": "item", "label:en": "Item"}).status_code == 303
    return open_entity(designer)


def publish(designer: Browser, extra: dict | None = None, expect: int = 303):
    response = designer.post("/design/shop/publish", extra or {})
    assert response.status_code == expect, text(response)[-3000:]
    return response


def api_for(app):
    from tests.conftest import ApiClient, login

    client = app.test_client()
    return ApiClient(client, login(client, "admin", ADMIN_PASSWORD))


def test_build_a_table_of_every_kind_publish_it_and_use_it(app, designer):
    page = make_shop(designer)
    for ftype in TYPES:
        response = post(designer, "/design/shop/entity/item/fields", {"type": ftype}, page)
        page = open_entity(designer, response.headers["Location"])
    keys = field_keys(page)
    assert keys == ["name", *[f"{t}_1" for t in TYPES]]
    # the sub-table made an entity of its own for its rows, the form and list followed the new fields
    app_page = text(designer.get("/design/shop"))
    assert 'data-entity="item_child_table_1"' in app_page
    plan = text(designer.get("/design/shop/publish"))
    assert 'data-op="create_table"' in plan and 'data-name="item_form"' in plan
    publish(designer)
    api = api_for(app)
    created = api.post(
        "/api/data/shop/item",
        json={
            "name": "Pen",
            "money_1": "2.50",
            "select_1": "option_1",
            "date_1": "2026-11-24",
            "child_table_1": [{"name": "refill"}],
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["money_1"] == "2.50" and body["rollup_1"] == 1 and body["formula_1"] == "0.00"
    assert body["autonumber_1"]  # numbered by the series the designer started with
    form = text(designer.get("/a/shop/item/new"))
    assert 'name="money_1"' in form and 'name="select_1"' in form


def test_reorder_by_position_and_by_keyboard_arrows(designer):
    page = make_shop(designer)
    for ftype in ("text", "integer"):
        page = open_entity(
            designer,
            post(designer, "/design/shop/entity/item/fields", {"type": ftype}, page).headers["Location"],
        )
    assert field_keys(page) == ["name", "text_1", "integer_1"]
    page = open_entity(
        designer,
        post(designer, "/design/shop/entity/item/fields/integer_1/move", {"position": "0"}, page).headers[
            "Location"
        ],
    )
    assert field_keys(page) == ["integer_1", "name", "text_1"]
    page = open_entity(
        designer,
        post(designer, "/design/shop/entity/item/fields/integer_1/move", {"direction": "down"}, page).headers[
            "Location"
        ],
    )
    assert field_keys(page) == ["name", "integer_1", "text_1"]
    post(designer, "/design/shop/entity/item/fields/integer_1/move", {}, page, expect=400)


def test_invalid_panel_values_are_refused_at_their_path_and_change_nothing(app, designer):
    page = make_shop(designer)
    page = open_entity(
        designer,
        post(designer, "/design/shop/entity/item/fields", {"type": "money"}, page).headers["Location"],
    )
    before = base_of(page)
    response = post(
        designer,
        "/design/shop/entity/item/fields/money_1",
        {"key": "money_1", "type": "money", "p:options/min": "ten", "p:label:en": "Price"},
        page,
        expect=422,
    )
    assert 'data-error-for="options/min"' in text(response)
    page = open_entity(designer, "/design/shop/entity/item?field=money_1")
    assert base_of(page) == before and 'value="ten"' not in page
    post(
        designer,
        "/design/shop/entity/item/fields/money_1",
        {"key": "Bad Key", "type": "money"},
        page,
        expect=422,
    )
    post(designer, "/design/shop/entity/item/fields/nope", {"key": "nope"}, page, expect=404)
    assert base_of(open_entity(designer)) == before


def test_rename_with_data_keeps_values_and_remove_then_restore_brings_them_back(app, designer):
    page = make_shop(designer)
    page = open_entity(
        designer,
        post(designer, "/design/shop/entity/item/fields", {"type": "integer"}, page).headers["Location"],
    )
    publish(designer)
    api = api_for(app)
    for n in (1, 2, 3):
        assert api.post("/api/data/shop/item", json={"name": f"i{n}", "integer_1": n}).status_code == 201
    page = open_entity(designer, "/design/shop/entity/item?field=integer_1")
    assert "Nothing else uses this field." not in page  # the list view shows it
    post(
        designer,
        "/design/shop/entity/item/fields/integer_1",
        {"key": "stock", "type": "integer", "p:label:en": "Stock", "b:required": "1"},
        page,
    )
    plan = text(designer.get("/design/shop/publish"))
    assert 'data-op="rename_column" data-field="stock"' in plan
    publish(designer)
    rows = api.get("/api/data/shop/item?sort=name").get_json()["data"]
    assert [r["stock"] for r in rows] == [1, 2, 3]
    page = open_entity(designer, "/design/shop/entity/item?field=stock")
    post(designer, "/design/shop/entity/item/fields/stock/delete", {}, page)
    assert 'data-op="trash_column" data-field="stock"' in text(designer.get("/design/shop/publish"))
    publish(designer)
    assert "stock" not in api.get("/api/data/shop/item").get_json()["data"][0]
    page = open_entity(designer)
    trash_id = re.search(r'data-trash="(\d+)"', page).group(1)
    assert designer.post(f"/design/shop/entity/item/trash/{trash_id}/restore").status_code == 303
    plan = text(designer.get("/design/shop/publish"))
    assert f'name="restore:item:stock" value="{trash_id}" checked' in plan
    publish(designer, {"restore:item:stock": trash_id})
    rows = api.get("/api/data/shop/item?sort=name").get_json()["data"]
    assert [r["stock"] for r in rows] == [1, 2, 3]


def test_a_lossy_conversion_needs_consent(app, designer):
    page = make_shop(designer)
    page = open_entity(
        designer,
        post(designer, "/design/shop/entity/item/fields", {"type": "text"}, page).headers["Location"],
    )
    publish(designer)
    api = api_for(app)
    for value in ("12", "many"):
        assert api.post("/api/data/shop/item", json={"name": value, "text_1": value}).status_code == 201
    page = open_entity(designer, "/design/shop/entity/item?field=text_1")
    post(designer, "/design/shop/entity/item/fields/text_1", {"key": "text_1", "type": "integer"}, page)
    plan = text(designer.get("/design/shop/publish"))
    assert (
        'name="consent:item" value="text_1"' in plan
        and "2 rows, 1 exact, 0 lose data, 1 cannot convert" in plan
    )
    refused = publish(designer, expect=422)
    assert "consent" in text(refused)
    assert api.get("/api/data/shop/item?sort=name").get_json()["data"][0]["text_1"] == "12"  # nothing changed
    publish(designer, {"consent:item": "text_1"})
    values = sorted(str(r["text_1"]) for r in api.get("/api/data/shop/item").get_json()["data"])
    assert values == ["12", "None"]


def test_undo_and_redo_survive_a_new_session_and_a_new_edit_drops_redo(app, designer):
    page = make_shop(designer)
    page = open_entity(
        designer,
        post(designer, "/design/shop/entity/item/fields", {"type": "date"}, page).headers["Location"],
    )
    page = open_entity(
        designer,
        post(designer, "/design/shop/entity/item/fields", {"type": "email"}, page).headers["Location"],
    )
    again = Browser(app.test_client())  # another tab, signed in again: the history is on the server
    assert again.login("admin", ADMIN_PASSWORD).status_code == 303
    page = open_entity(again)
    post(again, "/design/shop/entity/item/undo", {}, page)
    page = open_entity(again)
    assert field_keys(page) == ["name", "date_1"]
    assert 'data-key="email_1"' not in text(designer.get("/design/shop/entity/item"))
    post(again, "/design/shop/entity/item/redo", {}, page)
    page = open_entity(again)
    assert field_keys(page) == ["name", "date_1", "email_1"]
    post(again, "/design/shop/entity/item/undo", {}, page)
    page = open_entity(again)
    page = open_entity(
        again, post(again, "/design/shop/entity/item/fields", {"type": "phone"}, page).headers["Location"]
    )
    assert field_keys(page) == ["name", "date_1", "phone_1"]
    assert 'id="redo-form"' in page and re.search(
        r'title="Ctrl\+Shift\+Z"\s*disabled|disabled\s+title="Ctrl\+Shift\+Z"', page
    )


def test_two_designers_on_one_draft_get_a_conflict_not_an_overwrite(app, designer):
    page = make_shop(designer)
    other = Browser(app.test_client())
    assert other.login("admin", ADMIN_PASSWORD).status_code == 303
    stale = open_entity(other)
    post(designer, "/design/shop/entity/item/fields", {"type": "money"}, page)
    response = post(other, "/design/shop/entity/item/fields", {"type": "phone"}, stale, expect=409)
    assert "meanwhile" in text(response)
    post(other, "/design/shop/entity/item/undo", {}, stale, expect=409)
    assert field_keys(open_entity(designer)) == ["name", "money_1"]


def test_formula_check_as_you_type(designer):
    page = make_shop(designer)
    page = open_entity(
        designer,
        post(designer, "/design/shop/entity/item/fields", {"type": "formula"}, page).headers["Location"],
    )
    url = "/design/shop/entity/item/check-expression"
    ok = text(designer.post(url, {"p:options/expression": "len(name) * 2"}, htmx=True))
    assert 'data-check="valid"' in ok and "name" in ok
    unknown = text(designer.post(url, {"p:options/expression": "price * 2"}, htmx=True))
    assert 'data-check="invalid"' in unknown and "price" in unknown
    broken = text(designer.post(url, {"p:options/expression": "1 +"}, htmx=True))
    assert 'data-check="invalid"' in broken


def test_versions_compare_and_roll_back(app, designer):
    page = make_shop(designer)
    publish(designer)
    page = open_entity(designer)
    post(designer, "/design/shop/entity/item/fields", {"type": "money"}, page)
    publish(designer)
    compared = text(designer.get("/design/shop/entity/item/versions?a=1&b=2"))
    assert 'data-change="added" data-item="money_1"' in compared
    assert designer.post("/design/shop/entity/item/rollback/1").status_code == 303
    assert field_keys(open_entity(designer)) == ["name"]
    assert 'data-op="trash_column" data-field="money_1"' in text(designer.get("/design/shop/publish"))
    publish(designer)
    assert "money_1" not in text(designer.get("/a/shop/item/new"))
    assert designer.get("/design/shop/entity/item/versions?a=1&b=9").status_code == 404
    assert designer.get("/design/shop/rule/x/versions").status_code == 404


def test_every_designer_change_is_audited(app, designer):
    page = make_shop(designer)
    post(designer, "/design/shop/entity/item/fields", {"type": "money"}, page)
    with app.extensions["lowcode"].db.read() as s:
        actions = [
            e.detail["action"]
            for e in s.scalars(
                sa.select(SecurityEvent)
                .where(SecurityEvent.kind == "definition_edited")
                .order_by(SecurityEvent.id)
            )
        ]
    assert actions[-1] == "added field money_1" and "created" in actions


def test_chinese_designer_speaks_chinese(app, designer):
    make_shop(designer)
    designer.post("/language", {"lang": "zh_CN", "next": "/"})
    page = open_entity(designer)
    assert "添加字段" in page or "单选" in page
    assert "Add a field" not in page and "Single choice" not in page
