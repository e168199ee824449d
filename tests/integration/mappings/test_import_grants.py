"""An import writes as its owner: a row setting a field their role may not write is rejected (with that
field's error), a row outside their record rule is rejected, and the other rows are saved - each row once."""

from __future__ import annotations

import csv
import io

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment
from lowcode.jobs.runner import JobRunner
from tests.conftest import ApiClient, login

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "imp", "label": "Import"},
    "entities": [{"name": "item", "label": "Item", "fields": [
        {"name": "code", "type": "text", "required": True, "unique": True},
        {"name": "region", "type": "select", "options": {"choices": [{"value": "north"}, {"value": "south"}]}},
        {"name": "cost", "type": "money", "label": {"en": "Cost", "zh-CN": "成本"}},
        {"name": "made", "type": "date"}]}],
    "roles": [{"name": "clerk", "label": "Clerk", "grants": [{
        "entity": "item", "actions": ["read", "create", "update"], "fields": {"cost": "read_only"},
        "record_rule": {"field": "region", "op": "=", "value": "north"}}]}],
}  # fmt: skip


def test_the_importers_grants_and_record_rules_decide_each_row(app, api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    with app.extensions["lowcode"].db.write() as s:
        user = create_user(s, "cleo", PASSWORD)
        s.add(RoleAssignment(user_id=user.id, app="imp", role="clerk", granted_by="test"))
    client = app.test_client()
    cleo = ApiClient(client, login(client, "cleo", PASSWORD))
    body = "code,region,成本,made\nA,north,,2026-11-25\nB,north,5.00,\nC,south,,\nD,north,,25/11/2026\n"
    data = {"file": (io.BytesIO(body.encode()), "items.csv"), "start": "1"}
    job = cleo.post("/api/imports/imp/item", data=data, content_type="multipart/form-data").get_json()
    assert job["columns"] == {"code": "code", "region": "region", "成本": "cost", "made": "made"}
    JobRunner(app.extensions["lowcode"]).run_all()
    result = cleo.get(f"/api/jobs/{job['id']}/result").get_data(as_text=True).lstrip("\ufeff")
    rows = {r["row"]: r for r in csv.DictReader(io.StringIO(result))}
    assert {n: r["outcome"] for n, r in rows.items()} == {
        "2": "created", "3": "rejected", "4": "rejected", "5": "rejected"}  # fmt: skip
    assert rows["3"]["errors"] == "you may not change cost of item"
    assert "made" in rows["5"]["errors"] or "日期" in rows["5"]["errors"]
    items = api.get("/api/data/imp/item").get_json()["data"]
    assert [(i["code"], i["made"]) for i in items] == [("A", "2026-11-25")]
