"""The form's conditional fields enforced by the record service on API writes: a hidden field takes no new
value and is not required, required_when, read_only_when (judged on the stored record), and the platform's own
writes (rules, the system identity) are not bound by a form."""

from __future__ import annotations

import pytest

from lowcode.runtime.context import Actor, WriteContext
from tests.conftest import ApiClient, login

from .bundle import PASSWORD, install

URL = "/api/data/desk/ticket"


@pytest.fixture
def desk(app, api):
    install(app, api)
    client = app.test_client()
    return ApiClient(client, login(client, "ada", PASSWORD))


def _create(client, expect=201, **values):
    response = client.post(URL, json={"title": "Printer", **values})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def _update(client, record, expect=200, **values):
    response = client.patch(f"{URL}/{record['id']}", json={"version": record["version"], **values})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def test_a_hidden_field_refuses_a_value_and_nothing_is_written(desk):
    body = _create(desk, 422, kind="question", severity=3)
    assert body["error"]["fields"] == {"severity": ["Not shown in this form: leave it empty."]}
    body = _create(desk, 422, kind="question", parts=[{"part": "tray"}])
    assert body["error"]["fields"] == {"parts": ["Not shown in this form: leave it empty."]}
    assert desk.get(URL).get_json()["total"] == 0
    # an empty value for a hidden field is no value
    record = _create(desk, kind="question", severity=None, parts=[])
    assert record["severity"] is None and record["parts"] == []


def test_a_hidden_required_field_is_not_required_and_a_shown_one_is(desk):
    record = _create(desk, kind="question")  # other_reason is required, but hidden for questions
    assert record["other_reason"] is None
    body = _create(desk, 422, kind="other")
    assert body["error"]["fields"] == {"other_reason": ["Missing data for required field."]}
    assert _create(desk, kind="other", other_reason="vendor")["other_reason"] == "vendor"
    # an update that shows the field must fill it
    body = _update(desk, record, 422, kind="other")
    assert body["error"]["fields"] == {"other_reason": ["Missing data for required field."]}
    assert _update(desk, record, kind="other", other_reason="vendor")["version"] == 2


def test_required_when(desk):
    body = _create(desk, 422, kind="bug")
    assert body["error"]["fields"] == {"severity": ["Missing data for required field."]}
    record = _create(desk, kind="bug", severity=2, parts=[{"part": "tray"}])
    assert record["severity"] == 2 and [p["part"] for p in record["parts"]] == ["tray"]
    body = _create(desk, 422, status="closed")  # resolution is required once closed
    assert body["error"]["fields"] == {"resolution": ["Missing data for required field."]}


def test_read_only_when_is_judged_on_the_stored_record(desk):
    record = _create(desk, status="open", resolution="first idea")
    # open: resolution may change, and closing with a resolution in the same write is fine
    record = _update(desk, record, status="closed", resolution="replaced the tray")
    body = _update(desk, record, 422, resolution="something else")
    assert body["error"]["fields"] == {"resolution": ["Read-only in this form now: it cannot be changed."]}
    body = _update(desk, record, 422, status="open", resolution="reopened")  # judged on the stored record
    assert "resolution" in body["error"]["fields"]
    record = _update(desk, record, resolution="replaced the tray", note="resent unchanged")
    record = _update(desk, record, status="open")
    assert _update(desk, record, resolution="reopened")["resolution"] == "reopened"


def test_a_stored_value_is_kept_when_its_field_hides_and_may_be_resent_unchanged(desk):
    record = _create(desk, kind="bug", severity=4, parts=[{"part": "tray"}])
    record = _update(desk, record, kind="question")  # hides severity and parts: their values stay
    assert record["severity"] == 4 and len(record["parts"]) == 1
    fetched = desk.get(f"{URL}/{record['id']}").get_json()
    assert fetched["severity"] == 4
    # a client resending the whole record (the hidden values unchanged) is fine
    resent = {k: fetched[k] for k in ("title", "kind", "severity", "other_reason", "status", "note")}
    resent["parts"] = [{"id": p["id"], "part": p["part"]} for p in fetched["parts"]]
    record = _update(desk, record, **resent)
    # a changed value is refused, an empty one clears the field
    body = _update(desk, record, 422, severity=5)
    assert body["error"]["fields"] == {"severity": ["Not shown in this form: leave it empty."]}
    body = _update(desk, record, 422, parts=[{"part": "drum"}])
    assert body["error"]["fields"] == {"parts": ["Not shown in this form: leave it empty."]}
    assert _update(desk, record, severity=None)["severity"] is None


def test_messages_are_translated_for_the_reader(app, desk):
    response = app.test_client().post(  # no session cookie: the language comes from Accept-Language
        URL,
        json={"title": "x", "kind": "question", "severity": 1},
        headers={**desk.headers, "Accept-Language": "zh_CN"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"severity": ["此表单中不显示此项：请留空。"]}


def test_rules_and_the_system_identity_are_not_bound_by_the_form(app, desk, api):
    # the rule creates a follow-up whose form hides `reason`, with a reason
    _create(desk, kind="bug", severity=1)
    followups = api.get("/api/data/desk/followup").get_json()["data"]
    assert [(f["reason"]) for f in followups] == ["check the bug"]
    # a person may not do the same
    response = api.post("/api/data/desk/followup", json={"ticket_id": 1, "reason": "mine"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"reason": ["Not shown in this form: leave it empty."]}
    # the system identity writes through the record service unhindered
    services = app.extensions["lowcode"]
    with services.db.write() as session:
        ctx = WriteContext(session, Actor.system("import"), services.snapshots.get(session))
        made = services.records.create(
            ctx, "desk", "ticket", {"title": "imported", "kind": "question", "severity": 9}
        )
    assert made["severity"] == 9
