"""Indexes in the designer: the entity page lists, adds and removes declared indexes (draft steps, refusals at
their path with nothing saved); a list view filtering or sorting by fields no index starts with offers the
index, which the publish builds; other roles cannot reach either (issue 14, item 2)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.integration.designer.test_view_designer import VIEW, base_of, edit
from tests.integration.pages.helpers import text

ENTITY = "/design/demo/entity/order"


def entity_draft(api) -> dict:
    body = api.get("/api/definitions/demo/entity/order").get_json()
    return body["draft"] or body["published"]


def db_indexes(app) -> set[str]:
    with app.extensions["lowcode"].db.read() as s:
        return {ix["name"] for ix in sa.inspect(s.connection()).get_indexes("e_demo_order")}


def test_a_list_sorted_without_an_index_offers_it_and_the_publish_builds_it(app, demo_api, designer):
    page = text(designer.get(VIEW))
    assert 'class="alert alert-info small d-flex flex-wrap align-items-center gap-2 index-advice"' in page
    assert 'data-fields="order_date"' in page  # sorted by date, nothing filtered
    edit(designer, "filter", {"c:filter/mode": "all", "c:filter/0/field": "status", "c:filter/0/op": "=",
                              "c:filter/0/value": "draft"})  # fmt: skip
    page = text(designer.get(VIEW))
    assert 'data-fields="status,order_date"' in page  # the filter's value first, then the sort
    form = page.split('index-advice"', 1)[1].split("</form>", 1)[0]
    fields = re.findall(r'name="index_field" value="(\w+)"', form)
    base = re.search(r'name="base" value="(\d+)"', form).group(1)
    response = designer.post(f"{ENTITY}/indexes", [("base", base), ("view", "order_list"),
                                                    *(("index_field", f) for f in fields)])  # fmt: skip
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{VIEW}?indexed=1")
    assert entity_draft(demo_api)["indexes"] == [["status", "order_date"]]
    page = text(designer.get(VIEW + "?indexed=1"))
    assert "index-advice" not in page and "it is built when you publish" in page
    assert designer.post("/design/demo/publish").status_code == 303
    assert "ix_e_demo_order_status_order_date" in db_indexes(app)


def test_the_entity_page_adds_and_removes_indexes_and_refuses_bad_ones(app, demo_api, designer):
    page = text(designer.get(ENTITY))
    assert "No index declared." in page and 'class="d-flex flex-wrap gap-2 align-items-end add-index"' in page
    add = [
        ("base", base_of(page)),
        ("index_field", "customer"),
        ("index_field", "order_date"),
        ("index_field", ""),
    ]
    response = designer.post(f"{ENTITY}/indexes", add)
    assert response.status_code == 303 and response.headers["Location"].endswith(ENTITY)
    assert entity_draft(demo_api)["indexes"] == [["customer", "order_date"]]
    page = text(designer.get(ENTITY))
    assert 'data-index="0"' in page
    before = entity_draft(demo_api)
    for fields in (["customer", "order_date"], ["total", "lines"], ["nope"], [], ["status", "status"]):
        page = text(designer.get(ENTITY))
        response = designer.post(
            f"{ENTITY}/indexes", [("base", base_of(page)), *(("index_field", f) for f in fields)]
        )
        assert response.status_code == 422, fields
        assert 'data-field-error="indexes"' in text(response)
    assert entity_draft(demo_api) == before  # nothing saved by a refusal
    page = text(designer.get(ENTITY))
    assert designer.post(f"{ENTITY}/indexes/5/delete", {"base": base_of(page)}).status_code == 404
    assert designer.post(f"{ENTITY}/indexes/0/delete", {"base": base_of(page)}).status_code == 303
    assert "indexes" not in entity_draft(demo_api)
    stale = designer.post(f"{ENTITY}/indexes", [("base", "1"), ("index_field", "status")])
    assert stale.status_code == 409 and "indexes" not in entity_draft(demo_api)
