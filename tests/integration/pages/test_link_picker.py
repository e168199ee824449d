"""The link picker's options honour the reader's record rules and hidden fields, page from the server, and
fetch-from takes only what the writer may read - on a small app with a record rule on the link's target."""

from __future__ import annotations

import pytest

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment

from .helpers import Browser

PASSWORD = "user-pass-123"

BUNDLE = {
    "app": {"name": "field", "label": "Field sales"},
    "entities": [
        {"name": "client", "label": "Client", "title_field": "name", "fields": [
            {"name": "name", "type": "text", "required": True},
            {"name": "code", "type": "text"},
            {"name": "region", "type": "text"},
            {"name": "secret", "type": "text"},
            {"name": "rate", "type": "decimal", "options": {"scale": 2}},
        ]},
        {"name": "visit", "label": "Visit", "fields": [
            {"name": "client", "type": "link", "options": {"entity": "client"}},
            {"name": "rate", "type": "decimal", "options": {"scale": 2, "fetch_from": {"link": "client", "field": "rate"}}},
            {"name": "code", "type": "text", "options": {"fetch_from": {"link": "client", "field": "secret"}}},
        ]},
    ],
    "views": [{"name": "client_list", "entity": "client", "label": "Clients", "columns": ["name", "code"],
               "search_fields": ["name", "code", "secret"]}],
    "roles": [
        {"name": "rep", "label": "Rep", "grants": [
            {"entity": "visit", "actions": ["read", "create", "update"]},
            {"entity": "client", "actions": ["read"], "fields": {"secret": "hidden"},
             "record_rule": {"field": "region", "op": "=", "value": "east"}}]},
    ],
}  # fmt: skip


@pytest.fixture
def field_app(app, api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    with app.extensions["lowcode"].db.write() as s:
        user = create_user(s, "rita", PASSWORD)
        s.add(RoleAssignment(user_id=user.id, app="field", role="rep", granted_by="test"))
    ids = {}
    for i in range(45):
        region = "east" if i % 3 else "west"
        body = {
            "name": f"Client {i:02d}",
            "code": f"C{i:02d}",
            "region": region,
            "secret": f"s{i}",
            "rate": "1.50",
        }
        ids[body["name"]] = api.post("/api/data/field/client", json=body).get_json()["id"]
    return ids


def _rita(app) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login("rita", PASSWORD).status_code == 303
    return browser


def test_options_are_only_the_records_the_reader_may_read_a_page_at_a_time(app, field_app):
    rita = _rita(app)
    url = "/a/field/visit/options/client"
    seen, after = [], None
    while True:
        body = rita.get(url + (f"?after={after}" if after else "")).get_json()
        assert len(body["items"]) <= 20
        seen += [item["text"] for item in body["items"]]
        after = body["next"]
        if not after:
            break
    east = sorted(f"Client {i:02d}" for i in range(45) if i % 3)
    assert seen == east  # the record rule holds: no west client, every east one, in title order
    # search covers the title and the list view's search fields, but not a field hidden from the reader
    assert [i["text"] for i in rita.get(url + "?q=C04").get_json()["items"]] == ["Client 04"]
    assert rita.get(url + "?q=s4").get_json()["items"] == []
    assert rita.get(url + "?q=Client 03").get_json()["items"] == []  # west
    assert rita.get(url + "?q=" + "x" * 101).status_code == 400


def test_fetch_from_takes_only_what_the_writer_may_read(app, field_app, api):
    rita = _rita(app)
    east, west = field_app["Client 01"], field_app["Client 03"]
    page = rita.post("/a/field/visit/compute", {"client": str(east), "rate": "", "code": ""}, htmx=True)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="1.5"' in body and "s1" not in body  # hidden secret not fetched
    body = rita.post("/a/field/visit/compute", {"client": str(west), "rate": ""}, htmx=True).get_data(
        as_text=True
    )
    assert "1.50" not in body  # a client outside the record rule gives nothing
    # at save: the rate is fetched, the hidden secret is not
    saved = rita.post("/a/field/visit/new", {"client": str(east), "rate": "", "code": ""})
    assert saved.status_code == 303
    visit = api.get(
        "/api/data/field/visit" + saved.headers["Location"].removeprefix("/a/field/visit")
    ).get_json()
    assert visit["rate"] == "1.50" and visit["code"] is None
    # the admin reads everything: the secret is fetched for them
    created = api.post("/api/data/field/visit", json={"client": west}).get_json()
    assert created["rate"] == "1.50" and created["code"] == "s3"


def test_a_fetch_from_that_names_no_link_is_refused_at_publish(api):
    bundle = {**BUNDLE, "entities": [BUNDLE["entities"][0], {**BUNDLE["entities"][1], "fields": [
        {"name": "client", "type": "link", "options": {"entity": "client"}},
        {"name": "rate", "type": "decimal", "options": {"fetch_from": {"link": "nope", "field": "rate"}}},
        {"name": "code", "type": "text", "options": {"fetch_from": {"link": "client", "field": "missing"}}},
    ]}], "roles": [], "views": []}  # fmt: skip
    response = api.post("/api/templates/import", json=bundle)
    assert response.status_code == 422, response.get_json()
    messages = str(response.get_json()["error"]["fields"])
    assert "'nope', which is not a link field" in messages and "unknown field 'missing'" in messages
