"""A constraint the database enforces shows on the form like any validation message - never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.test_integrity_errors import BUNDLE, UNIQUE, _sql, _written

from .helpers import field_errors, text


@pytest.fixture
def ig_browser(api, browser):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    assert browser.login("admin", ADMIN_PASSWORD).status_code == 303
    return browser


def test_a_stale_unique_index_is_an_inline_message_and_writes_nothing(app, ig_browser):
    _sql(app, "CREATE UNIQUE INDEX ux_e_ig_item_code ON e_ig_item (code)")
    assert ig_browser.post("/a/ig/item/new", {"code": "P-1", "note": "first"}).status_code == 303
    before = _written(app)
    response = ig_browser.post("/a/ig/item/new", {"code": "P-1", "note": "second"})
    assert response.status_code == 422, text(response)
    page = text(response)
    assert field_errors(page, "code") == [UNIQUE]
    assert 'name="note" value="second"' in page  # what was typed is kept
    assert _written(app) == before
    # htmx gets the form alone, with the same message
    response = ig_browser.post("/a/ig/item/new", {"code": "P-1"}, htmx=True)
    assert response.status_code == 422
    assert text(response).strip().startswith("<form")
    assert field_errors(text(response), "code") == [UNIQUE]


def test_a_unique_child_row_is_shown_on_its_row(app, ig_browser):
    rows = [("lines-n1-id", ""), ("lines-n1-sku", "S-9"), ("lines-n2-id", ""), ("lines-n2-sku", "S-9")]
    before = _written(app)
    response = ig_browser.post("/a/ig/doc/new", [("title", "twice"), *rows])
    assert response.status_code == 422, text(response)
    assert field_errors(text(response), "lines-1-sku") == [UNIQUE]
    assert _written(app) == before
