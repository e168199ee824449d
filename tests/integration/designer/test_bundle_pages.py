"""The bundle pages (export button, import, upgrade with conflicts decided on the page) and the app settings
page (menu groups and work queues with undo/redo, published through the publish page), as the administrator and
as an app designer who is not one."""

from __future__ import annotations

import io
import re

from lowcode.core.jsonutil import dumps
from lowcode.definitions.bundle_files import bundle_zip, parse_bundle
from tests.integration.pages.helpers import add_role_users, signed_in, text

PASSWORD = "user-pass-123"


def base_of(page: str) -> str:
    return re.search(r'name="base" value="(\d+)"', page).group(1)


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
    bundle = re.search(r'<textarea name="bundle" hidden>(.*?)</textarea>', shown, re.S).group(1)
    import html

    applied = designer.post(
        "/design/shop/upgrade",
        {"stage": "apply", "bundle": html.unescape(bundle), "choice:entity/product:$.fields[name].label.en": "local",
         "choice:entity/product:$.fields[name].label.zh-CN": "new"},
    )  # fmt: skip
    assert applied.status_code == 303, text(applied)[-2000:]
    published = demo_api.get("/api/definitions/shop/entity/product").get_json()["published"]
    assert published["fields"][1]["label"] == {"en": "Local name", "zh-CN": "标题"}
    assert "weight" in [f["name"] for f in published["fields"]]

    tampered = designer.post("/design/shop/upgrade", {"stage": "apply", "bundle": dumps({"app": 1})})
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
