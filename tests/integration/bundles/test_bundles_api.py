"""Bundles over the API: export as JSON or zip with a manifest, import (zip or JSON, under another name) checked
whole before anything changes, upgrade with the three-way merge keeping local changes and data; hostile input
and users without the platform grant change nothing."""

from __future__ import annotations

import copy
import io
import zipfile

import pytest
import sqlalchemy as sa

from lowcode.core.definition_models import AppInstall, Definition
from lowcode.definitions.bundle_files import parse_bundle
from tests.conftest import login
from tests.integration.pages.helpers import add_role_users

ZIP = {"Content-Type": "application/zip"}


def export_zip(api, app: str = "demo", version: str | None = None) -> bytes:
    url = f"/api/templates/export/{app}?format=zip" + (f"&version={version}" if version else "")
    response = api.get(url)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].endswith('.zip"')
    return response.get_data()


def definition_count(app) -> int:
    with app.extensions["lowcode"].db.read() as s:
        return s.scalar(sa.select(sa.func.count(Definition.id)))


def import_zip(api, data: bytes, name: str | None = None, expect: int = 201):
    url = "/api/templates/import" + (f"?name={name}" if name else "")
    response = api.post(url, data=data, headers=ZIP)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def rezip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def test_export_as_zip_has_a_manifest_and_one_file_per_definition(demo_api):
    files = unzip(export_zip(demo_api, version="1.0"))
    assert {"manifest.json", "app.json", "entities/product.json", "forms/order_form.json"} <= set(files)
    bundle = parse_bundle(export_zip(demo_api, version="1.0"))
    assert bundle["manifest"]["template"] == "demo" and bundle["manifest"]["version"] == "1.0"
    assert bundle["manifest"]["definitions"]["entity/product"] == 1
    assert demo_api.get("/api/templates/export/demo").get_json()["manifest"]["template"] == "demo"
    assert demo_api.get("/api/templates/export/demo?format=xml").status_code == 400
    assert demo_api.get("/api/templates/export/nope?format=zip").status_code == 404


def test_import_under_another_name_installs_a_second_app_and_records_the_install(app, demo_api):
    summary = import_zip(demo_api, export_zip(demo_api, version="1.0"), name="demo_copy")
    assert summary["app"] == "demo_copy" and summary["records"] == 0
    assert (
        demo_api.post(
            "/api/data/demo_copy/product", json={"sku": "X1", "name": "X", "price": "2.50"}
        ).status_code
        == 201
    )
    assert demo_api.get("/api/data/demo/product").get_json()["total"] > 0  # the original keeps its data
    with app.extensions["lowcode"].db.read() as s:
        install = s.scalar(sa.select(AppInstall).where(AppInstall.app == "demo_copy"))
        assert (install.template, install.version) == ("demo", "1.0")
        assert install.documents["app"]["demo_copy"]["name"] == "demo_copy"
        assert set(install.documents["entity"]) == {"customer", "order", "order_line", "product"}
    again = import_zip(demo_api, export_zip(demo_api), name="demo_copy", expect=422)
    assert "app.json: $.name" in again["error"]["fields"]


def test_a_bundle_with_errors_reports_each_with_file_and_path_and_changes_nothing(app, demo_api):
    files = unzip(export_zip(demo_api))
    files["entities/product.json"] = files["entities/product.json"].replace(b'"money"', b'"moneyy"', 1)
    files["views/product_list.json"] = files["views/product_list.json"].replace(b'"sku"', b'"skew"', 1)
    before = definition_count(app)
    error = import_zip(demo_api, rezip(files), name="broken", expect=422)["error"]
    assert any(p.startswith("entities/product.json: $.fields[2].type") for p in error["fields"]), error
    assert all(p.split(":")[0].endswith(".json") for p in error["fields"])
    assert error["problems"][0].startswith("entities/product.json: $.fields[2].type: ")
    assert definition_count(app) == before
    del files["entities/product.json"]  # now only cross-document problems remain
    files["views/product_list.json"] = files["views/product_list.json"].replace(b'"skew"', b'"sku"', 1)
    cross = import_zip(demo_api, rezip(files), name="broken", expect=422)["error"]["fields"]
    assert any(
        p.startswith(("views/product_list.json: $.", "forms/order_form.json: $.", "entities/order_line.json"))
        for p in cross
    ), cross
    assert definition_count(app) == before


@pytest.mark.parametrize(
    ("files", "status"),
    [
        ({"../app.json": b"{}"}, 400),
        ({"app.json": b"{}", "entities/../../etc/passwd.json": b"{}"}, 400),
        ({"app.json": b"{", "entities/p.json": b"{}"}, 400),
        ({"app.json": b'{"name": "x", "label": "X"}', "macros/p.json": b"{}"}, 400),
        ({"app.json": b'{"name": "x", "label": "X"}', "entities/p.json": b"[]"}, 422),
    ],
)
def test_hostile_zips_are_refused_and_change_nothing(app, api, files, status):
    before = definition_count(app)
    import_zip(api, rezip(files), expect=status)
    assert definition_count(app) == before


def test_a_huge_zip_is_refused(app, api):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.json", b" " * (2 * 1024 * 1024))  # inflates beyond the 1 MB a file may hold
    assert import_zip(api, out.getvalue(), expect=413)["error"]["code"]
    assert definition_count(app) == 0


def test_bad_json_bodies_and_names_are_refused(app, api):
    assert (
        api.post(
            "/api/templates/import", data=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert api.post("/api/templates/import", data=b"", headers=ZIP).status_code == 400
    bundle = {"app": {"name": "shop", "label": "S"}, "entities": []}
    assert api.post("/api/templates/import?name=Bad-Name", json=bundle).status_code == 422
    assert api.post("/api/templates/import?name=../x", json=bundle).status_code == 422
    unknown = api.post("/api/templates/import", json={**bundle, "gadgets": []})
    assert unknown.status_code == 422 and "$.gadgets" in unknown.get_json()["error"]["fields"]
    assert definition_count(app) == 0


def test_users_without_the_platform_grant_cannot_import_export_or_upgrade(app, demo_api):
    add_role_users(app, "demo", {"clerk": "admin"}, "user-pass-123")  # an app role, not a platform admin
    client = app.test_client()
    headers = {"Authorization": f"Bearer {login(client, 'clerk', 'user-pass-123')}"}
    data = export_zip(demo_api)
    before = definition_count(app)
    assert client.get("/api/templates/export/demo?format=zip", headers=headers).status_code == 403
    assert (
        client.post("/api/templates/import?name=mine", data=data, headers={**headers, **ZIP}).status_code
        == 403
    )
    assert (
        client.post("/api/templates/upgrade/demo", data=data, headers={**headers, **ZIP}).status_code == 403
    )
    assert definition_count(app) == before


def changed_bundle(data: bytes) -> dict:
    """The export with a new field on the customer and a new label on the product's price."""
    bundle = parse_bundle(data)
    bundle["manifest"]["version"] = "2.0"
    customer = next(e for e in bundle["entities"] if e["name"] == "customer")
    customer["fields"].append(
        {"name": "loyalty_card", "type": "boolean", "label": {"en": "Loyalty card", "zh-CN": "会员卡"}}
    )
    product = next(e for e in bundle["entities"] if e["name"] == "product")
    next(f for f in product["fields"] if f["name"] == "price")["label"] = {
        "en": "List price",
        "zh-CN": "标价",
    }
    next(f for f in product["fields"] if f["name"] == "name")["label"] = {"en": "Title", "zh-CN": "标题"}
    return bundle


def test_upgrade_keeps_local_changes_takes_new_ones_and_keeps_data(app, demo_api):
    v1 = export_zip(demo_api, version="1.0")
    import_zip(demo_api, v1, name="shop")
    created = demo_api.post("/api/data/shop/product", json={"sku": "K1", "name": "Kept", "price": "9.90"})
    assert created.status_code == 201
    local = demo_api.get("/api/definitions/shop/entity/product").get_json()["published"]
    next(f for f in local["fields"] if f["name"] == "sku")["label"] = {"en": "Item code", "zh-CN": "编码"}
    next(f for f in local["fields"] if f["name"] == "name")["label"] = {"en": "Local name", "zh-CN": "本地"}
    assert demo_api.put("/api/definitions/shop/entity/product", json=local).status_code == 200
    assert demo_api.post("/api/definitions/shop/entity/product/publish").status_code == 200
    v2 = changed_bundle(v1)

    plan = demo_api.post("/api/templates/upgrade/shop?dry_run=1", json=v2)
    assert plan.status_code == 200, plan.get_json()
    rows = {(d["kind"], d["name"]): d for d in plan.get_json()["definitions"]}
    assert rows[("entity", "customer")]["status"] == "new"
    assert rows[("entity", "customer")]["schema_plan"]["steps"]
    assert rows[("entity", "product")]["status"] == "conflict"
    conflicts = rows[("entity", "product")]["conflicts"]
    assert [c["path"] for c in conflicts] == ["$.fields[name].label.en", "$.fields[name].label.zh-CN"]
    assert [(c["base"], c["local"], c["new"]) for c in conflicts] == [
        ("Name", "Local name", "Title"),
        ("名称", "本地", "标题"),
    ]
    assert rows[("entity", "order")]["status"] == "unchanged"
    assert plan.get_json()["published"] == []
    assert "loyalty_card" not in str(
        demo_api.get("/api/definitions/shop/entity/customer").get_json()
    )  # a dry run

    chosen = "&".join(f"choice={c['choice']}=new" for c in conflicts)
    done = demo_api.post(f"/api/templates/upgrade/shop?{chosen}", json=v2)
    assert done.status_code == 200, done.get_json()
    product = demo_api.get("/api/definitions/shop/entity/product").get_json()["published"]
    labels = {f["name"]: f["label"]["en"] for f in product["fields"]}
    assert labels["sku"] == "Item code"  # local change kept
    assert labels["price"] == "List price"  # new change taken
    assert labels["name"] == "Title"  # the conflict as chosen
    customer = demo_api.get("/api/definitions/shop/entity/customer").get_json()["published"]
    assert "loyalty_card" in [f["name"] for f in customer["fields"]]
    assert demo_api.get(f"/api/data/shop/product/{created.get_json()['id']}").get_json()["name"] == "Kept"
    with app.extensions["lowcode"].db.read() as s:
        install = s.scalar(sa.select(AppInstall).where(AppInstall.app == "shop"))
        assert install.version == "2.0"
        assert "loyalty_card" in str(install.documents["entity"]["customer"])


def test_upgrade_refusals_change_nothing(app, demo_api):
    v1 = export_zip(demo_api, version="1.0")
    import_zip(demo_api, v1, name="shop")
    other = parse_bundle(v1)
    other["manifest"]["template"] = "crm"
    refused = demo_api.post("/api/templates/upgrade/shop", json=other)
    assert refused.status_code == 422 and "manifest.json: $.template" in refused.get_json()["error"]["fields"]
    broken = changed_bundle(v1)
    broken["entities"][0]["fields"][0]["type"] = "nope"
    before = definition_count(app)
    bad = demo_api.post("/api/templates/upgrade/shop", json=broken)
    assert bad.status_code == 422 and any(
        p.startswith("entities/") for p in bad.get_json()["error"]["fields"]
    )
    assert demo_api.post("/api/templates/upgrade/nope", json=changed_bundle(v1)).status_code == 404
    designed = copy.deepcopy(changed_bundle(v1))
    assert demo_api.post("/api/templates/upgrade/shop?choice=bad", json=designed).status_code == 400
    assert definition_count(app) == before
    assert "loyalty_card" not in str(demo_api.get("/api/definitions/shop/entity/customer").get_json())
