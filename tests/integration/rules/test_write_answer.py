"""The answer to a write is the record as committed: when an after-rule changes the record it was fired by,
create and update answer with that state and its ETag, so the client's next save with it succeeds."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import Browser

BUNDLE = {
    "app": {"name": "desk", "label": "Desk"},
    "entities": [
        {"name": "job", "label": "Job", "fields": [
            {"name": "title", "type": "text"},
            {"name": "note", "type": "text"},
            {"name": "saves", "type": "integer", "default": 0}]},
    ],
    "rules": [
        # an after-rule that changes its own record again (a guarded atomic update of the same row)
        {"name": "count_titles", "entity": "job",
         "trigger": {"events": ["create", "update"], "phase": "after", "fields_changed": ["title"]},
         "actions": [{"type": "update_records", "entity": "job", "expect": "one",
                      "where": {"field": "id", "op": "=", "value": "$record.id"}, "set": {"saves": "saves + 1"}}]},
    ],
}  # fmt: skip
URL = "/api/data/desk/job"


@pytest.fixture
def desk(api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    return api


def test_create_and_update_answer_the_record_after_its_after_rules_with_the_matching_etag(desk):
    created = desk.post(URL, json={"title": "first"})
    assert created.status_code == 201
    body = created.get_json()
    assert (body["version"], body["saves"], created.headers["ETag"]) == (2, 1, '"2"')
    stored = desk.get(f"{URL}/{body['id']}")
    assert body == stored.get_json() and created.headers["ETag"] == stored.headers["ETag"]

    updated = desk.patch(
        f"{URL}/{body['id']}", json={"title": "second"}, headers={"If-Match": created.headers["ETag"]}
    )
    assert updated.status_code == 200, updated.get_json()
    assert (updated.get_json()["version"], updated.get_json()["saves"], updated.headers["ETag"]) == (
        4,
        2,
        '"4"',
    )
    assert updated.get_json() == desk.get(f"{URL}/{body['id']}").get_json()

    # the client's next save with the ETag it was given is accepted
    again = desk.patch(
        f"{URL}/{body['id']}", json={"note": "n"}, headers={"If-Match": updated.headers["ETag"]}
    )
    assert again.status_code == 200, again.get_json()
    assert (again.get_json()["version"], again.get_json()["saves"], again.headers["ETag"]) == (5, 2, '"5"')

    # the audit trail is in version order: each write's entry before what its after-rules changed
    history = desk.get(f"{URL}/{body['id']}/history").get_json()["data"]
    assert [(e["version"], e["source"]) for e in history] == [
        (5, "api"),
        (4, "rule:count_titles"),
        (3, "api"),
        (2, "rule:count_titles"),
        (1, "api"),
    ]


def test_a_page_save_leads_to_the_committed_version_and_saving_it_again_works(app, desk):
    browser = Browser(app.test_client())
    assert browser.login("admin", ADMIN_PASSWORD).status_code == 303
    response = browser.post("/a/desk/job/new", {"title": "from the page", "saves": "0"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    record_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    form = browser.get(f"/a/desk/job/{record_id}/edit").get_data(as_text=True)
    assert re.search(r'name="version" value="2"', form)
    saved = browser.post(f"/a/desk/job/{record_id}/edit", {"title": "renamed", "saves": "1", "version": "2"})
    assert saved.status_code in (302, 303), saved.get_data(as_text=True)[:500]
    record = desk.get(f"{URL}/{record_id}").get_json()
    assert (record["title"], record["version"], record["saves"]) == ("renamed", 4, 2)
