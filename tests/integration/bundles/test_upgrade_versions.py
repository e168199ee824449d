"""Template versions over the API: an upgrade to the same or an older version is a 409 that changes nothing
unless ``?force=1``; the export's default version follows the install and the local publishes; app names the
routes keep are refused at import and at creation through the definitions API."""

from __future__ import annotations

import sqlalchemy as sa

from lowcode.core.definition_models import AppInstall
from lowcode.definitions.bundle_files import parse_bundle
from tests.conftest import ApiClient, login
from tests.integration.bundles.test_bundles_api import changed_bundle, export_zip, import_zip
from tests.integration.pages.helpers import add_role_users

PASSWORD = "user-pass-123"


def installed_version(app, name: str) -> str:
    with app.extensions["lowcode"].db.read() as s:
        return s.scalar(sa.select(AppInstall.version).where(AppInstall.app == name))


def customer_fields(api, app: str = "shop") -> list[str]:
    body = api.get(f"/api/definitions/{app}/entity/customer").get_json()["published"]
    return [f["name"] for f in body["fields"]]


def test_same_or_older_versions_are_refused_unless_forced(app, demo_api):
    v1 = export_zip(demo_api, version="1.10")
    import_zip(demo_api, v1, name="shop")
    for version in ("1.10", "1.10.0", "1.9", ""):
        bundle = changed_bundle(v1)
        bundle["manifest"]["version"] = version
        for dry in ("?dry_run=1", ""):
            refused = demo_api.post(f"/api/templates/upgrade/shop{dry}", json=bundle)
            assert refused.status_code == 409, refused.get_json()
            error = refused.get_json()["error"]
            assert error["code"] == "not_newer"
            assert "loyalty_card" not in customer_fields(demo_api)
    assert installed_version(app, "shop") == "1.10"

    older = changed_bundle(v1)
    older["manifest"]["version"] = "1.9"
    forced = demo_api.post("/api/templates/upgrade/shop?force=1", json=older)
    assert forced.status_code == 200, forced.get_json()
    assert "loyalty_card" in customer_fields(demo_api)
    assert installed_version(app, "shop") == "1.9"
    newer = changed_bundle(v1)
    newer["manifest"]["version"] = "1.9.1"
    assert demo_api.post("/api/templates/upgrade/shop?dry_run=1", json=newer).status_code == 200


def test_force_does_not_open_the_upgrade_to_other_users(app, demo_api):
    v1 = export_zip(demo_api, version="1.0")
    import_zip(demo_api, v1, name="shop")
    add_role_users(app, "demo", {"owner": "admin"}, PASSWORD)
    client = app.test_client()
    owner = ApiClient(client, login(client, "owner", PASSWORD))
    bundle = changed_bundle(v1)
    bundle["manifest"]["version"] = "0.1"
    refused = owner.post("/api/templates/upgrade/shop?force=1", json=bundle)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert installed_version(app, "shop") == "1.0"


def test_the_export_version_is_the_installed_one_until_a_local_publish(app, demo_api):
    demo_version = parse_bundle(export_zip(demo_api))["manifest"]["version"]
    assert demo_version.startswith("1.0.")  # the demo was installed without a version
    import_zip(demo_api, export_zip(demo_api, version="2.1"), name="shop")
    assert parse_bundle(export_zip(demo_api, "shop"))["manifest"]["version"] == "2.1"
    product = demo_api.get("/api/definitions/shop/entity/product").get_json()["published"]
    product["label"] = {"en": "Goods", "zh-CN": "货品"}
    assert demo_api.put("/api/definitions/shop/entity/product", json=product).status_code == 200
    assert demo_api.post("/api/definitions/shop/entity/product/publish").status_code == 200
    changed = parse_bundle(export_zip(demo_api, "shop"))["manifest"]["version"]
    assert changed.startswith("2.1.") and changed != "2.1"
    # the changed export upgrades an app installed from 2.1: it is newer
    import_zip(demo_api, export_zip(demo_api, version="2.1"), name="shop2")
    upgraded = demo_api.post("/api/templates/upgrade/shop2", json=parse_bundle(export_zip(demo_api, "shop")))
    assert upgraded.status_code == 200, upgraded.get_json()
    assert installed_version(app, "shop2") == changed


def test_app_names_the_routes_keep_are_refused(app, demo_api):
    reserved = app.extensions["lowcode"].reserved_app_names
    assert {"import", "new"} <= reserved
    v1 = export_zip(demo_api, version="1.0")
    refused = import_zip(demo_api, v1, name="import", expect=422)
    assert "cannot be an app's name" in refused["error"]["message"]
    own = parse_bundle(v1)
    own["app"]["name"] = "import"
    refused = demo_api.post("/api/templates/import", json=own)
    assert refused.status_code == 422 and "app.json: $.name" in refused.get_json()["error"]["fields"]
    body = {"schema_version": 1, "name": "new", "label": {"en": "New"}}
    assert demo_api.put("/api/definitions/new/app/new", json=body).status_code == 422
    assert demo_api.get("/api/definitions/import").get_json()["data"] == []
    assert demo_api.get("/api/definitions/new").get_json()["data"] == []
