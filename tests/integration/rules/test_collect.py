"""The ``collect`` action: values of matching records from several entities gathered into one list that a later
action of the rule reads (``len``, ``join``) - e.g. a month refused closing while drafts are dated in it."""

from __future__ import annotations

import pytest

STATES = {"choices": [{"value": "draft", "label": "Draft"}, {"value": "done", "label": "Done"}]}
BUNDLE = {
    "app": {"name": "months", "label": "Months"},
    "entities": [
        {"name": "ticket", "label": "Ticket", "fields": [
            {"name": "number", "type": "text"}, {"name": "month", "type": "text"},
            {"name": "state", "type": "select", "default": "draft", "options": STATES}]},
        {"name": "memo", "label": "Memo", "fields": [
            {"name": "code", "type": "text"}, {"name": "month", "type": "text"},
            {"name": "state", "type": "select", "default": "draft", "options": STATES}]},
        {"name": "month", "label": "Month", "fields": [
            {"name": "month", "type": "text"}, {"name": "closed", "type": "boolean", "default": False}]},
    ],
    "rules": [
        {"name": "no_drafts_left", "entity": "month", "trigger": {"events": ["update"], "phase": "before",
                                                                  "condition": {"field": "closed", "op": "=", "value": True}},
         "actions": [
             {"type": "collect", "entity": "ticket", "value": "item.number", "into": "drafts",
              "where": {"all": [{"field": "month", "op": "=", "value": "$record.month"},
                                {"field": "state", "op": "=", "value": "draft"}]}},
             {"type": "collect", "entity": "memo", "as": "m", "value": "concat('memo ', m.code)", "into": "drafts",
              "where": {"all": [{"field": "month", "op": "=", "value": "$record.month"},
                                {"field": "state", "op": "=", "value": "draft"}]}},
             {"type": "refuse", "when": "len(drafts) > 0",
              "message": "{record.month}: {len(drafts)} drafts ({join(drafts, ', ', 3)})"}]},
    ],
}  # fmt: skip


@pytest.fixture
def months(api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    return api


def _close(api, month_id: int):
    version = api.get(f"/api/data/months/month/{month_id}").get_json()["version"]
    return api.patch(f"/api/data/months/month/{month_id}", json={"closed": True, "version": version})


def test_values_from_several_entities_are_listed_in_order_and_counted(months):
    month = months.post("/api/data/months/month", json={"month": "2026-10"}).get_json()
    ids = [months.post("/api/data/months/ticket", json={"number": f"T-{n}", "month": "2026-10"}).get_json()["id"]
           for n in (1, 2, 3)]  # fmt: skip
    months.post("/api/data/months/ticket", json={"number": "T-other", "month": "2026-11"})  # another month
    months.post("/api/data/months/ticket", json={"number": "T-done", "month": "2026-10", "state": "done"})
    months.post("/api/data/months/memo", json={"code": "M-1", "month": "2026-10"})
    response = _close(months, month["id"])
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "2026-10: 4 drafts (T-1, T-2, T-3)"  # first 3 of 4
    assert months.get(f"/api/data/months/month/{month['id']}").get_json()["closed"] is False
    for ticket_id in ids:
        version = months.get(f"/api/data/months/ticket/{ticket_id}").get_json()["version"]
        months.patch(f"/api/data/months/ticket/{ticket_id}", json={"state": "done", "version": version})
    response = _close(months, month["id"])
    assert response.get_json()["error"]["message"] == "2026-10: 1 drafts (memo M-1)"
    memo = months.get("/api/data/months/memo").get_json()["data"][0]
    months.patch(f"/api/data/months/memo/{memo['id']}", json={"state": "done", "version": memo["version"]})
    assert _close(months, month["id"]).status_code == 200  # nothing collected: an empty list


@pytest.mark.parametrize(
    ("action", "fragment"),
    [
        ({"type": "collect", "entity": "nope", "value": "item.id", "into": "x"}, "unknown entity 'nope'"),
        ({"type": "collect", "entity": "ticket", "value": "item.number +", "into": "x"}, "value"),
        ({"type": "collect", "entity": "ticket", "value": "item.number"}, "'into' is a required property"),
        ({"type": "collect", "entity": "ticket", "value": "item.id", "into": "Bad-Name"}, "does not match"),
        ({"type": "collect", "entity": "ticket", "value": "item.id", "into": "x", "limit": 0}, "minimum"),
    ],
)
def test_bad_collect_options_are_refused_at_publish(api, action, fragment):
    bundle = {**BUNDLE, "app": {"name": "months2", "label": "M"},
              "rules": [{"name": "r", "entity": "month", "trigger": {"events": ["update"], "phase": "before"},
                         "actions": [action]}]}  # fmt: skip
    response = api.post("/api/templates/import", json=bundle)
    assert response.status_code == 422
    assert fragment in str(response.get_json()["error"])


def test_collecting_into_a_name_that_is_not_a_list_is_an_error(api):
    bundle = {**BUNDLE, "app": {"name": "months3", "label": "M"},
              "rules": [{"name": "r", "entity": "month", "trigger": {"events": ["update"], "phase": "before"},
                         "actions": [{"type": "collect", "entity": "ticket", "value": "item.id", "into": "record"}]}]}  # fmt: skip
    assert api.post("/api/templates/import", json=bundle).status_code == 201
    month = api.post("/api/data/months3/month", json={"month": "2026-10"}).get_json()
    response = api.patch(f"/api/data/months3/month/{month['id']}", json={"month": "2026-11", "version": 1})
    assert response.status_code == 422
    assert "'record' already names something that is not a list" in response.get_json()["error"]["message"]
    assert api.get(f"/api/data/months3/month/{month['id']}").get_json()["month"] == "2026-10"
