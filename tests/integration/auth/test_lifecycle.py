"""Grant lifecycle: a department or job change starts a grace period; the scheduled job records the end
of each assignment once; renewing keeps an assignment. Time is passed explicitly - nothing sleeps."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from lowcode.auth.lifecycle import ENDED_MARK, end_expired_assignments
from lowcode.core.models import RoleAssignment, SecurityEvent, utcnow
from lowcode.worker import Scheduler
from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
HR = {
    "app": {"name": "hr", "label": "HR", "grace_hours": 24},
    "entities": [{"name": "staff", "label": "Staff", "fields": [{"name": "name", "type": "text"}]}],
    "roles": [{"name": "clerk", "label": "Clerk", "grants": [{"entity": "staff", "actions": ["read"]}]}],
}
OPS = {
    "app": {"name": "ops", "label": "Ops"},  # no grace_hours: the default 48 hours
    "entities": [{"name": "task", "label": "Task", "fields": [{"name": "title", "type": "text"}]}],
    "roles": [{"name": "viewer", "label": "Viewer", "grants": [{"entity": "task", "actions": ["read"]}]}],
}


@pytest.fixture
def org(api):
    """Two departments, a user in the first with a role in each app; returns ids."""
    for bundle in (HR, OPS):
        assert api.post("/api/templates/import", json=bundle).status_code == 201
    first = api.post("/api/admin/departments", json={"name": "Sales"}).get_json()["id"]
    second = api.post("/api/admin/departments", json={"name": "Finance"}).get_json()["id"]
    user = api.post("/api/admin/users", json={"username": "amy", "password": PASSWORD, "department_id": first,
                                              "job_title": "clerk"}).get_json()["id"]  # fmt: skip
    ids = {"user": user, "first": first, "second": second}
    for app_name, role in (("hr", "clerk"), ("ops", "viewer")):
        body = {"user_id": user, "app": app_name, "role": role}
        ids[app_name] = api.post("/api/admin/assignments", json=body).get_json()["id"]
    return ids


def amy(app) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, "amy", PASSWORD))


def ended_events(app) -> list[int]:
    with app.extensions["lowcode"].db.read() as s:
        rows = s.scalars(sa.select(SecurityEvent).where(SecurityEvent.kind == "assignment_ended"))
        return sorted(e.detail["assignment"] for e in rows)


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@pytest.fixture
def clock(monkeypatch):
    """Move the clock the request's roles are computed with (``roles_in_force``) to a given moment."""

    def move_to(moment: dt.datetime) -> None:
        monkeypatch.setattr("lowcode.auth.actors.utcnow", lambda: moment)

    return move_to


def test_department_change_starts_the_grace_period_of_each_app(app, api, org):
    before = utcnow()
    response = api.patch(f"/api/admin/users/{org['user']}", json={"department_id": org["second"]})
    assert response.status_code == 200, response.get_json()
    grace = {g["app"]: parse(g["ends_at"]) for g in response.get_json()["grace"]}
    after = utcnow()
    assert before + dt.timedelta(hours=24) <= grace["hr"] <= after + dt.timedelta(hours=24)  # app grace_hours
    assert before + dt.timedelta(hours=48) <= grace["ops"] <= after + dt.timedelta(hours=48)  # the default
    listed = {a["app"]: a for a in api.get(f"/api/admin/users/{org['user']}/assignments").get_json()["data"]}
    assert (
        parse(listed["hr"]["ends_at"]) == grace["hr"]
        and "grace: department_id changed" in listed["hr"]["note"]
    )
    events = api.get("/api/admin/security-events?kind=user_changed").get_json()["data"]
    assert events[0]["detail"]["changes"] == {"department_id": org["second"]}
    assert {g["assignment"] for g in events[0]["detail"]["grace"]} == {org["hr"], org["ops"]}
    assert amy(app).get("/api/data/hr/staff").status_code == 200  # still in force during the grace period


def test_unchanged_or_unrelated_fields_start_no_grace(api, org):
    for change in (
        {"department_id": org["first"]},
        {"job_title": "clerk"},
        {"level": 3},
        {"display_name": "A"},
    ):
        response = api.patch(f"/api/admin/users/{org['user']}", json=change)
        assert response.status_code == 200 and response.get_json()["grace"] == []
    listed = api.get(f"/api/admin/users/{org['user']}/assignments").get_json()["data"]
    assert all(a["ends_at"] is None for a in listed)
    assert api.patch(f"/api/admin/users/{org['user']}", json={"job_title": "buyer"}).get_json()["grace"]


def test_after_the_job_runs_past_the_end_the_role_is_gone_and_the_end_is_audited(app, api, org, clock):
    start = utcnow()
    api.patch(f"/api/admin/users/{org['user']}", json={"job_title": "buyer"})
    scheduler = Scheduler(app.extensions["lowcode"])
    assert scheduler.run_pending(start)["expire_assignments"] == []  # nothing has ended yet
    day_later = start + dt.timedelta(hours=25)
    assert scheduler.run_pending(day_later)["expire_assignments"] == [org["hr"]]
    clock(day_later)
    user = amy(app)
    assert user.get("/api/data/hr/staff").status_code == 403  # hr's 24 hours are over
    assert user.get("/api/data/ops/task").status_code == 200  # ops keeps it for 48
    assert "expire_assignments" not in scheduler.run_pending(
        day_later + dt.timedelta(seconds=30)
    )  # not due again within a minute
    two_days = start + dt.timedelta(hours=49)
    assert scheduler.run_pending(two_days)["expire_assignments"] == [org["ops"]]
    assert scheduler.run_pending(two_days + dt.timedelta(minutes=5))["expire_assignments"] == []
    clock(two_days)
    assert amy(app).get("/api/data/ops/task").status_code == 403
    assert ended_events(app) == sorted([org["hr"], org["ops"]])  # once each
    event = api.get("/api/admin/security-events?kind=assignment_ended").get_json()["data"][-1]
    assert event["username"] == "amy" and event["detail"]["by"] == "system:scheduler"
    listed = api.get(f"/api/admin/users/{org['user']}/assignments").get_json()["data"]
    assert all(a["ended_recorded"] for a in listed)


def test_renewing_keeps_the_role_and_an_ended_assignment_stays_ended(app, api, org, clock):
    start = utcnow()
    api.patch(f"/api/admin/users/{org['user']}", json={"department_id": org["second"]})
    kept = api.post(f"/api/admin/assignments/{org['hr']}/renew")  # no body: open-ended again
    assert kept.status_code == 200 and kept.get_json()["ends_at"] is None
    until = (start + dt.timedelta(days=30)).isoformat()
    dated = api.post(f"/api/admin/assignments/{org['ops']}/renew", json={"ends_at": until})
    assert parse(dated.get_json()["ends_at"]) == parse(until)
    later = start + dt.timedelta(days=3)
    with app.extensions["lowcode"].db.write() as s:
        assert end_expired_assignments(s, later) == []
    clock(later)
    user = amy(app)
    assert (
        user.get("/api/data/hr/staff").status_code == 200
        and user.get("/api/data/ops/task").status_code == 200
    )
    renewals = api.get("/api/admin/security-events?kind=role_assigned").get_json()["data"]
    assert sum(1 for e in renewals if e["detail"].get("renewed")) == 2
    assert api.delete(f"/api/admin/assignments/{org['hr']}").get_json()["ended_recorded"]
    with app.extensions["lowcode"].db.write() as s:  # ended by an administrator: audited as role_unassigned
        assert end_expired_assignments(s, later) == []
    assert ended_events(app) == []
    refused = api.post(f"/api/admin/assignments/{org['hr']}/renew", json={"ends_at": None})
    assert (
        refused.status_code == 422
        and "assign the role again" in refused.get_json()["error"]["fields"]["ends_at"][0]
    )
    assert (
        api.post(f"/api/admin/assignments/{org['ops']}/renew", json={"ends_at": "1999-01-01"}).status_code
        == 422
    )
    assert api.post("/api/admin/assignments/9999/renew").status_code == 404


def test_the_job_records_each_end_once_however_often_it_runs(app, org):
    db, now = app.extensions["lowcode"].db, utcnow()
    with db.write() as s:
        s.execute(sa.update(RoleAssignment).values(ends_at=now - dt.timedelta(minutes=1), note="covering"))
    with db.write() as s:
        first = end_expired_assignments(s, now)
        second = end_expired_assignments(s, now)
    assert sorted(first) == sorted([org["hr"], org["ops"]]) and second == []
    with db.write() as s:
        assert end_expired_assignments(s, now + dt.timedelta(days=1)) == []
        notes = set(s.scalars(sa.select(RoleAssignment.note)))
    assert notes == {f"covering {ENDED_MARK}"}
    assert ended_events(app) == sorted([org["hr"], org["ops"]])


def test_two_workers_running_the_job_together_record_each_end_once(app, org):
    db, now = app.extensions["lowcode"].db, utcnow()
    with db.write() as s:
        s.execute(sa.update(RoleAssignment).values(ends_at=now - dt.timedelta(minutes=1)))
    barrier, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            with db.write() as s:
                results.append(end_expired_assignments(s, now))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(i for r in results for i in r) == sorted([org["hr"], org["ops"]])
    assert ended_events(app) == sorted([org["hr"], org["ops"]])
