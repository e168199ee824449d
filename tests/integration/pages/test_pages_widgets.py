"""A widget for every field type: rendered, posted, bound and stored; unit checks of the binding."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from werkzeug.datastructures import MultiDict

from lowcode.fields import field_types, register_builtin_field_types
from lowcode.fields.base import FieldDef
from lowcode.pages.binding import bind_rows, row_keys, to_input
from lowcode.runtime.compiler import CompiledField

from .helpers import Browser, text

BUNDLE = {
    "app": {"name": "kit", "label": "Kit"},
    "entities": [{
        "name": "thing", "label": "Thing", "title_field": "name",
        "fields": [
            {"name": "name", "type": "text", "required": True},
            {"name": "body", "type": "long_text"},
            {"name": "count", "type": "integer"},
            {"name": "rate", "type": "percent"},
            {"name": "due", "type": "date"},
            {"name": "at", "type": "datetime"},
            {"name": "done", "type": "boolean"},
            {"name": "owner_user", "type": "user"},
            {"name": "files", "type": "attachment"},
            {"name": "twice", "type": "formula", "options": {"expression": "count * 2", "result": "integer"}},
        ],
    }],
}  # fmt: skip


def test_every_widget_renders_posts_and_stores(app, api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    browser = Browser(app.test_client())
    browser.login("admin", "root-pass-2026")
    page = text(browser.get("/a/kit/thing/new"))
    assert '<textarea class="form-control" id="f-body" name="body"' in page
    assert 'inputmode="numeric"' in page and 'type="date"' in page and 'type="datetime-local"' in page
    assert 'name="owner_user"' in page and ">admin</option>" in page  # users as a select
    assert 'name="files"' not in page and 'id="f-files">—</div>' in page  # attachments: read-only
    assert 'name="twice"' not in page
    form = {"name": "Widget", "body": "two\nlines", "count": "21", "rate": "12.5", "due": "2026-12-01",
            "at": "2026-12-01T08:30", "done": "on", "owner_user": "1"}  # fmt: skip
    response = browser.post("/a/kit/thing/new", form)
    assert response.status_code == 303, text(response)
    record = api.get(f"/api/data{response.headers['Location'].removeprefix('/a')}").get_json()
    assert record["body"] == "two\nlines" and record["count"] == 21 and record["rate"] == "12.50"
    assert record["due"] == "2026-12-01" and record["at"] == "2026-12-01T08:30:00Z"
    assert record["done"] is True and record["owner_user"] == 1 and record["twice"] == 42
    edit = text(browser.get(f"{response.headers['Location']}/edit"))
    assert (
        'value="2026-12-01T08:30"' in edit and 'value="12.50"' in edit and 'id="f-twice">42</output>' in edit
    )
    detail = text(browser.get(response.headers["Location"]))
    assert "2026-12-01 08:30" in detail and "12.50 %" in detail and ">Yes<" in detail and ">admin<" in detail


def _field(name: str, type_: str, **options) -> CompiledField:
    register_builtin_field_types()
    fdef = FieldDef(name=name, type=type_, options=options)
    return CompiledField(fdef, field_types.get(type_))


def test_binding_converts_shapes_only():
    qty, ok, tags = (
        _field("qty", "decimal"),
        _field("ok", "boolean"),
        _field("tags", "multi_select", choices=[{"value": "a"}]),
    )
    form = MultiDict([("lines-b-id", "7"), ("lines-b-qty", " 2 "), ("lines-b-tags", "a"),
                      ("lines-a-id", ""), ("lines-a-qty", ""), ("lines-a-ok", "on"),
                      ("lines-c-id", ""), ("lines-c-qty", ""), ("other-x-qty", "9")])  # fmt: skip
    assert row_keys(form, "lines") == ["b", "a", "c"]  # posted order, not key order
    rows = bind_rows([qty, ok, tags], "lines", form)
    assert rows == [
        {"id": 7, "qty": " 2 ", "ok": False, "tags": ["a"]},
        {"id": None, "qty": None, "ok": True, "tags": []},
    ]  # the wholly blank new row "c" is dropped; the services validate the values
    assert to_input(qty, Decimal("1.50")) == "1.5"  # as a decimal field shows it (tests/unit/pages)
    assert to_input(_field("d", "datetime"), dt.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04"
    assert to_input(_field("d", "date"), dt.date(2026, 1, 2)) == "2026-01-02"
    assert to_input(ok, None) is False and to_input(tags, None) == [] and to_input(qty, None) == ""
