"""The bundle pages (export button, import, upgrade with conflicts decided on the page) and the app settings
page (menu groups and work queues with undo/redo, published through the publish page), as the administrator and
as an app designer who is not one."""

from __future__ import annotations

import datetime as dt
import io
import re

import sqlalchemy as sa

from lowcode.core.definition_models import UpgradeUpload
from lowcode.core.jsonutil import dumps
from lowcode.core.models import utcnow
from lowcode.definitions.bundle_files import bundle_zip, parse_bundle
from tests.integration.pages.helpers import add_role_users, signed_in, text

PASSWORD = "user-pass-123"


def base_of(page: str) -> str:
    return re.search(r'name="base" value="(\d+)"', page).group(1)


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def upload(browser, url: str, data: bytes, **fields):
    form = {**fields, "bundle": (io.BytesIO(data), "bundle.zip"), "csrf_token": browser.token}
    return browser.client.post(url, data=form, content_type="multipart/form-data")


def test_export_import_and_upgrade_in_the_browser(demo_api, designer):
    page = text(designer.get("/design/demo"))
    assert "/design/demo/export.zip" in page and "/design/demo/settings" in page
    exported = designer.get("/design/demo/export.zip")
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    v1 = exported.get_data()

    broken = parse_bundle(v1)
    broken["entities"][0]["fields"][0]["type"] = "nope"
    refused = upload(designer, "/design/import", bundle_zip(broken), name="shop")
    assert refused.status_code == 422
    assert f"entities/{broken['entities'][0]['name']}.json: $.fields[0].type" in text(refused)
    assert demo_api.get("/api/definitions/shop").get_json()["data"] == []

    done = upload(designer, "/design/import", v1, name="shop")
    assert done.status_code == 303 and done.headers["Location"].endswith("/design/shop?imported=1")
    assert "/design/shop/upgrade" in text(designer.get("/design/shop"))

    local = demo_api.get("/api/definitions/shop/entity/product").get_json()["published"]
    local["fields"][1]["label"] = {"en": "Local name", "zh-CN": "本地名称"}
    assert demo_api.put("/api/definitions/shop/entity/product", json=local).status_code == 200
    v2 = parse_bundle(v1)
    v2["manifest"]["version"] = "next"
    product = next(e for e in v2["entities"] if e["name"] == "product")
    product["fields"][1]["label"] = {"en": "Title", "zh-CN": "标题"}
    product["fields"].append(
        {"name": "weight", "type": "decimal", "label": {"en": "Weight", "zh-CN": "重量"}}
    )

    plan = upload(designer, "/design/shop/upgrade", bundle_zip(v2), stage="plan")
    assert plan.status_code == 200, text(plan)[-2000:]
    shown = text(plan)
    assert 'data-status="conflict"' in shown and "$.fields[name].label.en" in shown
    assert "Local name" in shown and "Title" in shown
    assert "weight" not in str(demo_api.get("/api/definitions/shop/entity/product").get_json())  # nothing yet
    token = token_of(shown)
    choices = {
        "choice:entity/product:$.fields[name].label.en": "local",
        "choice:entity/product:$.fields[name].label.zh-CN": "new",
    }
    applied = designer.post("/design/shop/upgrade", {"stage": "apply", "token": token, **choices})
    assert applied.status_code == 303, text(applied)[-2000:]
    published = demo_api.get("/api/definitions/shop/entity/product").get_json()["published"]
    assert published["fields"][1]["label"] == {"en": "Local name", "zh-CN": "标题"}
    assert "weight" in [f["name"] for f in published["fields"]]

    again = designer.post("/design/shop/upgrade", {"stage": "apply", "token": token, **choices})
    assert again.status_code == 422 and "no longer kept" in text(again)  # used once
    tampered = designer.post("/design/shop/upgrade", {"stage": "apply", "token": "x" * 43})
    assert tampered.status_code == 422


def test_a_designer_who_is_no_administrator_gets_no_bundle_pages(app, demo_api, designer):
    add_role_users(app, "demo", {"owner": "admin"}, PASSWORD)
    owner = signed_in(app, "owner", PASSWORD)
    assert owner.get("/design/demo/export.zip").status_code == 403
    assert owner.get("/design/import").status_code == 403
    assert (
        upload(
            owner, "/design/import", designer.get("/design/demo/export.zip").get_data(), name="mine"
        ).status_code
        == 403
    )
    assert demo_api.get("/api/definitions/mine").get_json()["data"] == []


def test_menu_groups_and_queues_are_edited_with_undo_and_published(demo_api, designer):
    url = "/design/demo/settings"
    page = text(designer.get(url))
    added = designer.post(f"{url}/edit/menu", [("base", base_of(page)), ("index", ""), ("group", "sales"),
                                               ("label:en", "Sales"), ("label:zh-CN", "销售"),
                                               ("items", "order"), ("items", "customer")])  # fmt: skip
    assert added.status_code == 303
    page = text(designer.get(url))
    bad = designer.post(
        f"{url}/edit/menu", [("base", base_of(page)), ("index", ""), ("group", "x"), ("items", "nope")]
    )
    assert bad.status_code == 422 and "nope" in text(bad)
    queue = designer.post(f"{url}/edit/queue", {"base": base_of(page), "index": "", "name": "open_orders",
                                                "label:en": "Open orders", "entity": "order"})  # fmt: skip
    assert queue.status_code == 303
    page = text(designer.get(url))
    assert 'data-queue="open_orders"' in page and 'name="c:queue0/0/field"' in page
    draft = demo_api.get("/api/definitions/demo/app/demo").get_json()["draft"]
    assert draft["menu"][-1] == {"group": "sales", "label": {"en": "Sales", "zh-CN": "销售"},
                                 "items": [{"entity": "order"}, {"entity": "customer"}]}  # fmt: skip
    assert draft["queues"][0]["entity"] == "order"
    undone = designer.post(f"{url}/undo", {"base": base_of(page)})
    assert undone.status_code == 303
    assert "queues" not in demo_api.get("/api/definitions/demo/app/demo").get_json()["draft"]
    page = text(designer.get(url))
    assert designer.post(f"{url}/redo", {"base": base_of(page)}).status_code == 303
    assert designer.post("/design/demo/publish", {}).status_code == 303
    home = text(designer.get("/a/demo"))
    assert "Open orders" in home
    assert (
        designer.post(
            f"{url}/edit/queue", {"base": "1", "index": "", "name": "x", "entity": "order"}
        ).status_code
        == 409
    )


def kept_uploads(app) -> list[UpgradeUpload]:
    with app.extensions["lowcode"].db.read() as s:
        rows = list(s.scalars(sa.select(UpgradeUpload)))
        s.expunge_all()
        return rows


def shop_from_export(demo_api, designer, version: str = "1.0") -> bytes:
    v1 = designer.get("/design/demo/export.zip").get_data()
    bundle = parse_bundle(v1)
    bundle["manifest"]["version"] = version
    assert upload(designer, "/design/import", bundle_zip(bundle), name="shop").status_code == 303
    return bundle_zip(bundle)


def test_a_bundle_over_a_megabyte_stays_on_the_server_between_plan_and_apply(app, demo_api, designer):
    v1 = shop_from_export(demo_api, designer)
    v2 = parse_bundle(v1)
    v2["manifest"]["version"] = "1.1"
    v2["entities"][0]["label"] = {"en": "Renamed upstream", "zh-CN": "上游改名"}
    filler = "填充" * 2000
    v2["demo_data"] = [
        {"entity": "product", "records": [{"_key": f"p{b}_{i}", "name": filler} for i in range(40)]}
        for b in range(4)
    ]
    data = bundle_zip(v2)
    assert len(dumps(v2).encode()) > 1024 * 1024

    plan = upload(designer, "/design/shop/upgrade", data, stage="plan")
    assert plan.status_code == 200, text(plan)[-2000:]
    page = text(plan)
    assert filler not in page and len(plan.get_data()) < 200_000  # the bundle is not on the page
    token = token_of(page)
    [kept] = kept_uploads(app)
    assert kept.app == "shop" and kept.username == "admin" and len(kept.bundle.encode()) > 1024 * 1024
    assert token not in kept.token_hash  # only its hash is stored

    applied = designer.post("/design/shop/upgrade", {"stage": "apply", "token": token})
    assert applied.status_code == 303, text(applied)[-2000:]
    name = v2["entities"][0]["name"]
    body = demo_api.get(f"/api/definitions/shop/entity/{name}").get_json()["published"]
    assert body["label"]["en"] == "Renamed upstream"
    assert kept_uploads(app) == []  # dropped once applied


def test_a_kept_bundle_serves_only_its_user_its_app_and_its_time(app, demo_api, designer):
    v1 = shop_from_export(demo_api, designer)
    v2 = parse_bundle(v1)
    v2["manifest"]["version"] = "1.1"
    assert upload(designer, "/design/demo/import", b"", stage="plan").status_code in (404, 405)
    token = token_of(text(upload(designer, "/design/shop/upgrade", bundle_zip(v2), stage="plan")))
    db = app.extensions["lowcode"].db
    for change, value in (("username", "someone_else"), ("app", "demo"), ("expires_at", "past")):
        with db.write() as s:
            row = s.scalar(sa.select(UpgradeUpload))
            original = getattr(row, change)
            setattr(row, change, utcnow() - dt.timedelta(minutes=1) if value == "past" else value)
        refused = designer.post("/design/shop/upgrade", {"stage": "apply", "token": token})
        assert refused.status_code == 422 and "no longer kept" in text(refused), change
        with db.write() as s:
            setattr(s.scalar(sa.select(UpgradeUpload)), change, original)
    for bad in ("", "x" * 500, "../../etc"):
        assert designer.post("/design/shop/upgrade", {"stage": "apply", "token": bad}).status_code == 422
    assert designer.post("/design/shop/upgrade", {"stage": "apply", "token": token}).status_code == 303
    # an expired upload is deleted when the next one is kept
    with db.write() as s:
        s.execute(
            sa.insert(UpgradeUpload).values(
                token_hash="0" * 64,
                app="shop",
                username="admin",
                bundle="{}",
                created_at=utcnow(),
                expires_at=utcnow() - dt.timedelta(hours=1),
            )
        )  # noqa: E501
    v3 = parse_bundle(v1)
    v3["manifest"]["version"] = "1.2"
    assert upload(designer, "/design/shop/upgrade", bundle_zip(v3), stage="plan").status_code == 200
    assert [r.token_hash for r in kept_uploads(app)] != ["0" * 64] and len(kept_uploads(app)) == 1


def test_an_upgrade_that_is_not_newer_is_refused_on_the_page_unless_installed_anyway(demo_api, designer):
    v1 = shop_from_export(demo_api, designer, "2.0")
    same = parse_bundle(v1)
    same["entities"][0]["label"] = {"en": "Same version", "zh-CN": "同版本"}
    refused = upload(designer, "/design/shop/upgrade", bundle_zip(same), stage="plan")
    assert refused.status_code == 409
    assert "Version 2.0 is the version already installed" in text(refused)
    assert 'name="force"' in text(refused)
    designer.post("/language", {"lang": "zh_CN", "next": "/"})
    older = parse_bundle(v1)
    older["manifest"]["version"] = "1.9"
    refused = upload(designer, "/design/shop/upgrade", bundle_zip(older), stage="plan")
    assert refused.status_code == 409 and "版本 1.9 比已安装的 2.0 旧" in text(refused)
    designer.post("/language", {"lang": "en", "next": "/"})
    plan = upload(designer, "/design/shop/upgrade", bundle_zip(same), stage="plan", force="1")
    assert plan.status_code == 200
    assert '<input type="hidden" name="force" value="1">' in text(plan)
    token = token_of(text(plan))
    without = designer.post("/design/shop/upgrade", {"stage": "apply", "token": token})
    assert without.status_code == 409 and "Nothing was changed" in text(without)
    name = same["entities"][0]["name"]
    assert "Same version" not in str(demo_api.get(f"/api/definitions/shop/entity/{name}").get_json())
    applied = designer.post("/design/shop/upgrade", {"stage": "apply", "token": token, "force": "1"})  # noqa: E501
    assert applied.status_code == 303
    assert "Same version" in str(demo_api.get(f"/api/definitions/shop/entity/{name}").get_json())


def test_a_new_app_gets_its_first_table_in_a_menu_group_and_opens_its_settings(demo_api, designer):
    created = designer.post(
        "/design",
        {
            "name": "club",
            "label:en": "Club",
            "label:zh-CN": "俱乐部",
            "table": "member",
            "table_label:en": "Members",
        },
    )  # noqa: E501
    assert created.status_code == 303 and created.headers["Location"].endswith(
        "/design/club/settings?created=1"
    )
    page = text(designer.get(created.headers["Location"]))
    assert "app-created" in page and "Members" in page
    app_body = demo_api.get("/api/definitions/club/app/club").get_json()["published"]
    assert app_body["menu"] == [
        {"group": "main", "label": {"en": "Club", "zh-CN": "俱乐部"}, "items": [{"entity": "member"}]}
    ]  # noqa: E501
    drafts = {(d["kind"], d["name"]) for d in demo_api.get("/api/definitions/club").get_json()["data"]}
    assert {("entity", "member"), ("form", "member_form"), ("view", "member_list")} <= drafts
    page = text(designer.get("/design/club"))
    second = designer.post("/design/club/entities", {"name": "visit", "label:en": "Visits", "base": "0"})
    assert second.status_code == 303
    draft = demo_api.get("/api/definitions/club/app/club").get_json()["draft"]
    assert draft["menu"][0]["items"] == [{"entity": "member"}, {"entity": "visit"}]
    assert designer.post("/design/club/publish", {}).status_code == 303
    home = text(designer.get("/a/club"))
    assert "Members" in home and "Visits" in home


def test_new_apps_with_a_reserved_or_taken_name_are_refused(demo_api, designer):
    for name in ("import", "new", "demo"):
        refused = designer.post("/design", {"name": name, "label:en": "X", "table": "thing"})
        assert refused.status_code == 422, name
        assert demo_api.get(f"/api/definitions/{name}/entity/thing").status_code == 404
    assert "cannot be an app&#39;s name" in text(designer.post("/design", {"name": "import"}))
    assert designer.post("/design", {"name": "club", "table": "Bad Name"}).status_code == 422
    assert demo_api.get("/api/definitions/club").get_json()["data"] == []
    demo_app = demo_api.get("/api/definitions/demo/app/demo").get_json()["published"]
    assert demo_app["name"] == "demo" and "X" not in str(demo_app.get("label"))
    export = designer.get("/design/demo/export.zip").get_data()
    refused = upload(designer, "/design/import", export, name="import")
    assert refused.status_code == 422 and "cannot be an app" in text(refused)
