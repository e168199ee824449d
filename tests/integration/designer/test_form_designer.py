"""The form designer: sections, columns, tabs, fields placed and moved, help texts and placeholders, and a
visibility condition built with the condition builder - then the published form obeys it in the runtime and
the server refuses a value for the hidden field."""

from __future__ import annotations

import re

from tests.integration.designer.test_entity_designer import (
    api_for,
    base_of,
    make_shop,
    open_entity,
    post,
    publish,
)
from tests.integration.pages.helpers import Browser, text

FORM = "/design/shop/form/item_form"


def section_keys(page: str) -> list[list[str]]:
    """The field keys of each section of the form designer, in order."""
    sections = re.split(r'<section class="card mb-2 designer-section"', page)[1:]
    return [re.findall(r'<li class="list-group-item[^"]*" data-key="([a-z0-9_]+)"', s) for s in sections]


def open_form(designer: Browser, url: str = FORM) -> str:
    response = designer.get(url)
    assert response.status_code == 200, text(response)
    return text(response)


def shop_with_kind_and_note(designer: Browser) -> str:
    """The shop's item with a select ``select_1`` (option_1, option_2) and a text ``text_1``."""
    page = make_shop(designer)
    for ftype in ("select", "text"):
        page = open_entity(
            designer,
            post(designer, "/design/shop/entity/item/fields", {"type": ftype}, page).headers["Location"],
        )
    page = open_entity(designer, "/design/shop/entity/item?field=select_1")
    post(
        designer,
        "/design/shop/entity/item/fields/select_1",
        {
            "key": "select_1",
            "type": "select",
            "p:label:en": "Kind",
            "n:options/choices": "2",
            "p:options/choices/0/value": "plain",
            "p:options/choices/0/label:en": "Plain",
            "p:options/choices/1/value": "special",
            "p:options/choices/1/label:en": "Special",
        },
        page,
    )
    return open_form(designer)


def test_sections_columns_tabs_and_placing_fields(designer):
    page = shop_with_kind_and_note(designer)
    assert section_keys(page) == [["name", "select_1", "text_1"]]
    page = open_form(
        designer, post(designer, f"{FORM}/sections", {"label:en": "Details"}, page).headers["Location"]
    )
    assert section_keys(page) == [["name", "select_1", "text_1"], []]
    page = open_form(
        designer,
        post(designer, f"{FORM}/place", {"field": "text_1", "section": "1", "position": "0"}, page).headers[
            "Location"
        ],
    )
    assert section_keys(page) == [["name", "select_1"], ["text_1"]]
    page = open_form(
        designer,
        post(designer, f"{FORM}/fields/select_1/move", {"direction": "up"}, page).headers["Location"],
    )
    assert section_keys(page) == [["select_1", "name"], ["text_1"]]
    page = open_form(
        designer,
        post(
            designer, f"{FORM}/tabs", {"tab": "more", "label:en": "More", "label:zh-CN": "更多"}, page
        ).headers["Location"],
    )
    page = open_form(
        designer,
        post(
            designer,
            f"{FORM}/sections/1",
            {"label:en": "Details", "columns": "2", "tab": "more", "help:en": "The rest"},
            page,
        ).headers["Location"],
    )
    post(designer, f"{FORM}/sections/9", {"label:en": "x"}, page, expect=404)
    post(designer, f"{FORM}/place", {"field": "nope", "section": "0"}, page, expect=404)
    post(designer, f"{FORM}/tabs", {"tab": "Bad Tab"}, page, expect=422)
    publish(designer)
    form = text(designer.get("/a/shop/item/new"))
    assert "More" in form and "The rest" in form and 'data-bs-toggle="tab"' in form


def test_a_visibility_condition_built_in_the_designer_is_enforced(app, designer):
    page = shop_with_kind_and_note(designer)
    page = open_form(designer, f"{FORM}?field=text_1")
    # tick "shown only when", save: the builder starts with one row; then set it to kind = special
    page = open_form(
        designer, post(designer, f"{FORM}/fields/text_1", {"use:visible_when": "1"}, page).headers["Location"]
    )
    assert 'name="c:visible_when/0/field"' in page
    post(
        designer,
        f"{FORM}/fields/text_1",
        {
            "help:en": "Only for special items",
            "placeholder:en": "what is special",
            "use:visible_when": "1",
            "c:visible_when/mode": "all",
            "c:visible_when/0/field": "select_1",
            "c:visible_when/0/op": "=",
            "c:visible_when/0/value": "special",
        },
        page,
    )
    page = open_form(designer, f"{FORM}?field=text_1")
    assert re.search(r'<option value="special"\s+selected', page)
    bad = post(
        designer,
        f"{FORM}/fields/text_1",
        {
            "use:visible_when": "1",
            "c:visible_when/mode": "all",
            "c:visible_when/0/field": "no_such_field",
            "c:visible_when/0/op": "=",
            "c:visible_when/0/value": "x",
        },
        page,
        expect=422,
    )
    assert 'data-error-for="visible_when/0"' in text(bad)
    publish(designer)
    api = api_for(app)
    refused = api.post("/api/data/shop/item", json={"name": "a", "select_1": "plain", "text_1": "secret"})
    assert refused.status_code == 422 and "text_1" in refused.get_json()["error"]["fields"]
    assert (
        api.post(
            "/api/data/shop/item", json={"name": "b", "select_1": "special", "text_1": "gold"}
        ).status_code
        == 201
    )
    form = text(designer.get("/a/shop/item/new"))
    assert "what is special" in form and "Only for special items" in form


def test_undo_redo_and_conflict_in_the_form_designer(app, designer):
    page = shop_with_kind_and_note(designer)
    stale = page
    page = open_form(
        designer, post(designer, f"{FORM}/sections", {"label:en": "B"}, page).headers["Location"]
    )
    post(designer, f"{FORM}/sections", {"label:en": "C"}, stale, expect=409)
    post(designer, f"{FORM}/undo", {}, page)
    page = open_form(designer)
    assert len(section_keys(page)) == 1
    post(designer, f"{FORM}/redo", {}, page)
    assert len(section_keys(open_form(designer))) == 2
    assert base_of(open_form(designer))


def test_the_preview_is_the_runtime_form_of_the_draft(app, designer):
    page = shop_with_kind_and_note(designer)
    post(designer, f"{FORM}/sections", {"label:en": "Extra part"}, page)
    preview = designer.get(f"{FORM}/preview")
    assert preview.status_code == 200
    body = text(preview)
    assert (
        'name="select_1"' in body and 'name="text_1"' in body and "Extra part" in body
    )  # drafts, unpublished
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert 'class="preview-frame preview-desktop"' in open_form(designer)


def test_renaming_a_field_rewrites_the_formula_and_the_condition_that_read_it(app, designer):
    shop_with_kind_and_note(designer)
    post(designer, "/design/shop/entity/item/fields", {"type": "formula"}, open_entity(designer))
    post(
        designer,
        "/design/shop/entity/item/fields/formula_1",
        {
            "key": "formula_1",
            "type": "formula",
            "p:options/expression": 'text_1 + "!"',
            "p:options/result": "text",
        },
        open_entity(designer, "/design/shop/entity/item?field=formula_1"),
    )
    form = open_form(designer, f"{FORM}?field=text_1")
    post(
        designer,
        f"{FORM}/fields/text_1",
        {
            "use:visible_when": "1",
            "c:visible_when/mode": "all",
            "c:visible_when/0/field": "select_1",
            "c:visible_when/0/op": "=",
            "c:visible_when/0/value": "special",
        },
        form,
    )
    publish(designer)
    # rename both the text (read by the formula) and the kind (read by the condition)
    for old, new in (("text_1", "remark"), ("select_1", "kind")):
        page = open_entity(designer, f"/design/shop/entity/item?field={old}")
        post(
            designer,
            f"/design/shop/entity/item/fields/{old}",
            {
                "key": new,
                "type": "text" if old == "text_1" else "select",
                "n:options/choices": "2",
                "p:options/choices/0/value": "plain",
                "p:options/choices/1/value": "special",
            }
            if old == "select_1"
            else {"key": new, "type": "text"},
            page,
        )
    plan = text(designer.get("/design/shop/publish"))
    assert "publish-refused" not in plan, plan[plan.find("publish-refused") :][:500]
    publish(designer)
    api = api_for(app)
    made = api.post("/api/data/shop/item", json={"name": "a", "kind": "special", "remark": "gold"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["formula_1"] == "gold!"
    assert (
        api.post("/api/data/shop/item", json={"name": "b", "kind": "plain", "remark": "x"}).status_code == 422
    )
