"""Guarded atomic updates go through the write path's checks: the values the database produces are
validated (range, required, type), stored formulas over counters stay current, computed fields cannot be
set, and record rules are checked against the real row before and after - any failure is a 422/403 that
changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lowcode.auth.users import create_user
from lowcode.core.models import AuditEntry
from lowcode.errors import PermissionDenied, ValidationFailed
from lowcode.runtime.context import Actor, WriteContext


def _on(kind: str) -> dict:
    return {"events": ["create"], "phase": "after", "condition": {"field": "kind", "op": "=", "value": kind}}


def _bump_rule(kind: str, set_exprs: dict) -> dict:
    return {"name": f"bump_{kind}", "entity": "bump", "trigger": _on(kind), "actions": [
        {"type": "update_records", "entity": "bucket", "expect": "one",
         "where": {"field": "id", "op": "=", "value": "$record.bucket"}, "set": set_exprs}]}  # fmt: skip


BUNDLE = {
    "app": {"name": "ctr", "label": "Counters"},
    "entities": [
        {"name": "bucket", "label": "Bucket", "fields": [
            {"name": "code", "type": "text", "required": True, "unique": True},
            {"name": "total", "type": "decimal", "required": True, "options": {"precision": 7, "scale": 2}},
            {"name": "used", "type": "decimal", "default": "0", "options": {"precision": 7, "scale": 2}},
            {"name": "hits", "type": "integer", "default": 0},
            {"name": "free", "type": "formula",
             "options": {"expression": "total - used", "result": "decimal", "scale": 2}}]},
        {"name": "bump", "label": "Bump", "fields": [
            {"name": "bucket", "type": "link", "required": True, "options": {"entity": "bucket"}},
            {"name": "kind", "type": "text", "required": True},
            {"name": "n", "type": "decimal", "options": {"scale": 2}}]},
    ],
    "rules": [
        _bump_rule("use", {"used": "used + record.n", "hits": "hits + 1"}),
        _bump_rule("multiply", {"hits": "hits * record.n"}),
        _bump_rule("clear", {"total": "null"}),
    ],
    "roles": [
        {"name": "keeper", "label": "Keeper", "grants": [{
            "entity": "bucket", "actions": ["read", "update"],
            "record_rule": {"field": "used", "op": "<=", "value": "50"}}]},
    ],
}  # fmt: skip


@pytest.fixture
def ctr(api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    return api


def _bucket(api, **values) -> dict:
    response = api.post("/api/data/ctr/bucket", json={"total": "100", **values})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _bump(api, bucket: dict, kind: str, n: str = "0"):
    return api.post("/api/data/ctr/bump", json={"bucket": bucket["id"], "kind": kind, "n": n})


def _unchanged(api, bucket: dict) -> None:
    stored = api.get(f"/api/data/ctr/bucket/{bucket['id']}").get_json()
    assert stored == bucket
    assert api.get("/api/data/ctr/bump").get_json()["data"] == []


def test_a_stored_formula_over_a_counter_is_current_after_an_atomic_update(app, ctr):
    bucket = _bucket(ctr, code="A")
    assert bucket["free"] == "100.00"
    assert _bump(ctr, bucket, "use", "30.5").status_code == 201
    assert _bump(ctr, bucket, "use", "9.5").status_code == 201
    stored = ctr.get(f"/api/data/ctr/bucket/{bucket['id']}").get_json()
    assert (stored["used"], stored["free"], stored["hits"], stored["version"]) == ("40.00", "60.00", 2, 3)
    with app.extensions["lowcode"].db.read() as s:
        changes = s.scalars(
            sa.select(AuditEntry.diff)
            .where(AuditEntry.entity == "bucket", AuditEntry.action == "update")
            .order_by(AuditEntry.id)
        ).all()
    assert [c["free"] for c in changes] == [["100.00", "69.50"], ["69.50", "60.00"]]


@pytest.mark.parametrize(
    ("start", "kind", "n", "field", "message"),
    [
        ({"used": "99990"}, "use", "20", "used", "Too many digits (at most 5 before the decimal point)."),
        ({"hits": 2**62}, "multiply", "4", "hits", "Out of range."),
    ],
    ids=["decimal-precision", "integer-range"],
)
def test_a_value_that_does_not_fit_its_column_is_refused_and_changes_nothing(
    ctr, start, kind, n, field, message
):
    bucket = _bucket(ctr, code="A", **start)
    response = _bump(ctr, bucket, kind, n)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["fields"] == {field: [message]}
    assert f"bucket {bucket['id']} was refused: {field}: {message}" in error["message"]
    _unchanged(ctr, bucket)


def test_a_required_field_set_to_null_is_refused(ctr):
    bucket = _bucket(ctr, code="A")
    response = _bump(ctr, bucket, "clear")
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"] == {"total": ["Field may not be null."]}
    _unchanged(ctr, bucket)


def test_a_computed_field_cannot_be_set_by_an_atomic_update(app, ctr):
    """Refused when the rule is published (naming the rule and the key), and by the record service itself
    for any other caller."""
    rule = _bump_rule("overwrite_free", {"free": "record.n"})
    assert ctr.put("/api/definitions/ctr/rule/bump_overwrite_free", json=rule).status_code == 200
    refused = ctr.post("/api/definitions/ctr/rule/bump_overwrite_free/publish")
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["fields"] == {
        "rule:bump_overwrite_free/actions/0/set/free": ["'free' is not a writable field of bucket"]
    }
    bucket = _bucket(ctr, code="A")
    svc = app.extensions["lowcode"]
    with pytest.raises(ValidationFailed) as caught, svc.db.write() as s:
        ctx = WriteContext(s, Actor.system("test"), svc.snapshots.get(s))
        match = {"field": "id", "op": "=", "value": bucket["id"]}
        svc.records.update_where(ctx, "ctr", "bucket", match, {}, {"free": "n"}, {"n": Decimal(1)})
    assert list(caught.value.fields) == ["free"]
    _unchanged(ctr, bucket)


def test_record_rules_are_checked_against_the_real_row_before_and_after(app, ctr):
    """Rules act as the system identity, so record rules bind a user who calls the service directly:
    the row must be within the user's record rule as it is and as the update leaves it."""
    ids = {
        code: _bucket(ctr, code=code, used=used)["id"]
        for code, used in [("A", "0"), ("B", "45"), ("C", "60")]
    }
    svc = app.extensions["lowcode"]
    with svc.db.write() as s:
        user_id = create_user(s, "kim", "k-secret-pass-1").id
    kim = Actor(user_id=user_id, username="kim", roles={"ctr": ("keeper",)})

    def add(code: str, step: str):
        with svc.db.write() as s:
            ctx = WriteContext(s, kim, svc.snapshots.get(s))
            match = {"field": "code", "op": "=", "value": code}
            return svc.records.update_where(ctx, "ctr", "bucket", match, {}, {"used": "used + step"},
                                            {"step": Decimal(step)})  # fmt: skip

    result = add("A", "10")
    assert [(r["used"], r["free"], r["updated_by"]) for r in result.updated] == [
        (Decimal("10.00"), Decimal("90.00"), user_id)
    ]
    with pytest.raises(PermissionDenied, match="would be outside"):
        add("B", "10")  # 45 is allowed, 55 would not be
    with pytest.raises(PermissionDenied, match=f"record {ids['C']} of bucket is outside"):
        add("C", "-20")  # 40 would be allowed, 60 is not
    used = {r["code"]: r["used"] for r in ctr.get("/api/data/ctr/bucket?sort=code").get_json()["data"]}
    assert used == {"A": "10.00", "B": "45.00", "C": "60.00"}


def test_what_the_database_stored_is_checked_itself_when_it_differs_from_the_prediction(ctr, monkeypatch):
    """The checks before the UPDATE use values predicted in Python; when the database's result differs
    (here: no prediction at all), the stored values are validated and the formulas recomputed from them."""
    from lowcode.runtime import atomic

    monkeypatch.setattr(atomic, "_predict", lambda entity, update, row: None)
    bucket = _bucket(ctr, code="A")
    assert _bump(ctr, bucket, "use", "30").status_code == 201
    stored = ctr.get(f"/api/data/ctr/bucket/{bucket['id']}").get_json()
    assert (stored["used"], stored["free"], stored["version"]) == ("30.00", "70.00", 2)
    response = _bump(ctr, stored, "clear")
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"] == {"total": ["Field may not be null."]}
    assert ctr.get(f"/api/data/ctr/bucket/{bucket['id']}").get_json() == stored
