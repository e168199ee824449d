"""Definition store through the API: drafts, JSON-Schema errors with paths, publish, versions, rollback,
live reload in another app instance, and schema evolution on real tables."""

from __future__ import annotations

import sqlalchemy as sa

from lowcode.app import create_app
from tests.conftest import ApiClient, login

APP = {"name": "crm", "label": {"en": "CRM", "zh-CN": "客户关系"}}
CONTACT = {
    "name": "contact",
    "label": {"en": "Contact", "zh-CN": "联系人"},
    "fields": [
        {"name": "name", "type": "text", "required": True},
        {"name": "score", "type": "integer"},
    ],
}


def _publish(api, kind, name, body, app="crm"):
    put = api.put(f"/api/definitions/{app}/{kind}/{name}", json=body)
    assert put.status_code == 200, put.get_json()
    response = api.post(f"/api/definitions/{app}/{kind}/{name}/publish")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["version"]


def test_invalid_definition_reports_json_paths(api):
    _publish(api, "app", "crm", APP)
    bad = {
        "name": "contact",
        "label": "C",
        "fields": [
            {"name": "Bad Name", "type": "text"},
            {"name": "n", "type": "nope"},
            {"name": "s", "type": "select", "options": {}},
        ],
    }
    response = api.put("/api/definitions/crm/entity/contact", json=bad)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert "fields/0/name" in fields
    assert any("unknown type 'nope'" in m for m in fields["fields/1/type"])
    assert any("'choices' is a required property" in m for m in fields["fields/2/options"])
    assert api.get("/api/definitions/crm/entity/contact").status_code == 404  # nothing stored


def test_link_to_missing_entity_is_refused_at_publish(api):
    _publish(api, "app", "crm", APP)
    body = {
        "name": "deal",
        "label": "Deal",
        "fields": [{"name": "who", "type": "link", "options": {"entity": "ghost"}}],
    }
    assert api.put("/api/definitions/crm/entity/deal", json=body).status_code == 200
    response = api.post("/api/definitions/crm/entity/deal/publish")
    assert response.status_code == 422
    assert "entity:deal/fields/0" in response.get_json()["error"]["fields"]


def test_publish_versions_and_rollback(api):
    _publish(api, "app", "crm", APP)
    assert _publish(api, "entity", "contact", CONTACT) == 1
    v2 = {**CONTACT, "fields": [*CONTACT["fields"], {"name": "email", "type": "email"}]}
    assert _publish(api, "entity", "contact", v2) == 2
    created = api.post("/api/data/crm/contact", json={"name": "Li Lei", "email": "li@example.com"})
    assert created.status_code == 201
    versions = api.get("/api/definitions/crm/entity/contact/versions").get_json()["data"]
    assert [v["version"] for v in versions] == [2, 1]
    rolled = api.post("/api/definitions/crm/entity/contact/rollback/1")
    assert rolled.status_code == 200 and rolled.get_json()["version"] == 3
    record = api.get(f"/api/data/crm/contact/{created.get_json()['id']}").get_json()
    assert "email" not in record and record["name"] == "Li Lei"  # the field is gone from the API...
    trashed = [s for s in rolled.get_json()["plan"]["steps"] if s["op"] == "trash_column"]
    assert [s["field"] for s in trashed] == ["email"]  # ...its column went to the trash, with its data
    (entry,) = api.get("/api/definitions/crm/entity/contact/trash").get_json()["data"]
    assert entry["field_key"] == "email" and entry["values_count"] == 1 and entry["state"] == "restorable"
    api.put("/api/definitions/crm/entity/contact", json=v2)
    republished = api.post(
        "/api/definitions/crm/entity/contact/publish", json={"restore": {"email": entry["id"]}}
    )
    assert republished.status_code == 200 and republished.get_json()["version"] == 4
    record = api.get(f"/api/data/crm/contact/{created.get_json()['id']}").get_json()
    assert record["email"] == "li@example.com"  # restored on request, never reused silently
    assert api.post("/api/definitions/crm/entity/contact/rollback/99").status_code == 404


def test_draft_does_not_change_the_runtime_until_published(api):
    _publish(api, "app", "crm", APP)
    _publish(api, "entity", "contact", CONTACT)
    draft = {**CONTACT, "fields": [*CONTACT["fields"], {"name": "city", "type": "text"}]}
    api.put("/api/definitions/crm/entity/contact", json=draft)
    assert api.post("/api/data/crm/contact", json={"name": "a", "city": "x"}).status_code == 422
    got = api.get("/api/definitions/crm/entity/contact").get_json()
    assert (
        got["published_version"] == 1
        and len(got["draft"]["fields"]) == 3
        and len(got["published"]["fields"]) == 2
    )


def test_making_a_field_unique_with_duplicates_is_refused(api):
    _publish(api, "app", "crm", APP)
    _publish(api, "entity", "contact", CONTACT)
    for _ in range(2):
        api.post("/api/data/crm/contact", json={"name": "same"})
    unique = {**CONTACT, "fields": [{**CONTACT["fields"][0], "unique": True}, CONTACT["fields"][1]]}
    api.put("/api/definitions/crm/entity/contact", json=unique)
    response = api.post("/api/definitions/crm/entity/contact/publish")
    assert response.status_code == 409
    assert (
        "duplicate" in response.get_json()["error"]["message"]
        or "share" in response.get_json()["error"]["message"]
    )


def test_adding_a_field_keeps_10000_rows(app, api):
    _publish(api, "app", "crm", APP)
    _publish(api, "entity", "contact", CONTACT)
    svc = app.extensions["lowcode"]
    with svc.db.write() as s:
        table = svc.snapshots.get(s).entity("crm", "contact").table
        s.execute(sa.insert(table), [{"name": f"n{i}", "score": i, "version": 1} for i in range(10_000)])
    v2 = {
        **CONTACT,
        "fields": [
            *CONTACT["fields"],
            {"name": "vip", "type": "boolean", "default": False},
            {"name": "limit", "type": "money"},
        ],
    }
    _publish(api, "entity", "contact", v2)
    listed = api.get("/api/data/crm/contact?limit=1&sort=-score").get_json()
    assert listed["total"] == 10_000
    assert listed["data"][0]["score"] == 9999 and listed["data"][0]["vip"] is None
    with svc.db.read() as s:
        total = s.execute(sa.text("SELECT count(*), sum(score) FROM e_crm_contact")).one()
    assert tuple(total) == (10_000, sum(range(10_000)))


def test_publish_is_seen_by_another_app_instance_without_restart(app, api):
    """Two app instances on one database stand for two worker processes."""
    _publish(api, "app", "crm", APP)
    _publish(api, "entity", "contact", CONTACT)
    other_app = create_app(
        {"DATABASE_URL": app.extensions["lowcode"].settings["DATABASE_URL"], "SECRET_KEY": "x"}
    )
    other = other_app.test_client()
    other_api = ApiClient(other, login(other, "admin", "root-pass-2026"))
    assert other_api.post("/api/data/crm/contact", json={"name": "a", "city": "x"}).status_code == 422
    _publish(
        api,
        "entity",
        "contact",
        {**CONTACT, "fields": [*CONTACT["fields"], {"name": "city", "type": "text"}]},
    )
    created = other_api.post("/api/data/crm/contact", json={"name": "a", "city": "Hangzhou"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["city"] == "Hangzhou"
    other_app.extensions["lowcode"].db.dispose()


def test_unknown_kind_and_name_mismatch(api):
    assert api.put("/api/definitions/crm/gizmo/x", json={}).status_code == 400
    _publish(api, "app", "crm", APP)
    response = api.put("/api/definitions/crm/entity/other", json=CONTACT)
    assert response.status_code == 422 and "name" in response.get_json()["error"]["fields"]


def test_template_export_import_roundtrip(app, demo_api, tmp_path):
    exported = demo_api.get("/api/templates/export/demo")
    assert exported.status_code == 200
    bundle = exported.get_json()
    assert {e["name"] for e in bundle["entities"]} == {"customer", "product", "order", "order_line"}
    bundle["app"] = {**bundle["app"], "name": "demo2"}
    response = demo_api.post("/api/templates/import", json=bundle)
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["published"]) == 1 + 4 + 1 + 3
    assert demo_api.get("/api/data/demo2/order").get_json()["total"] == 0


def test_app_definition_under_another_name_is_refused(api):
    """Issue 9: PUT /api/definitions/crm/app/other (body name "other") used to store a second app definition
    in app "crm" that stood in for the real one; it is refused with the JSON path and stores nothing."""
    _publish(api, "app", "crm", APP)
    response = api.put("/api/definitions/crm/app/other", json={**APP, "name": "other"})
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["error"]["fields"]) == ["name"]
    assert api.get("/api/definitions/crm/app/other").status_code == 404
    assert api.get("/api/definitions/crm/app/crm").get_json()["published"]["label"] == APP["label"]
