"""Apps moved as bundles in the browser: the JXC app exported as a zip, imported under another name, a label
changed there in the designer and published, then the app upgraded from a newer bundle (a new field on the
customer, a changed label on the supplier): the plan page names what happens to each definition, the upgrade
publishes the new field and label and keeps the local change; the records stay.

Headless Chromium driven by Playwright at 1366 and 390 px, in English and Chinese (skipped without Chromium
unless LOWCODE_REQUIRE_SERVICES=1). Screenshots go to $LOWCODE_TEST_ARTIFACTS/bundles (default: temporary)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lowcode.app import create_app
from lowcode.definitions.bundle_files import bundle_zip, parse_bundle
from tests.conftest import ADMIN_PASSWORD, ApiClient, login
from tests.dbs import copy_of
from tests.e2e.live import CHROMIUM, live_server, require_browser, shots_folder, sign_in
from tests.e2e.test_phone_width import FLAGS, WATCH_CSP, _csp_violations

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(jxc_seed, tmp_path_factory):
    require_browser()
    url, _ids = jxc_seed
    with copy_of(url, tmp_path_factory.mktemp("e2e_bundles")) as copy:
        app = create_app({"DATABASE_URL": copy, "SECRET_KEY": "test-secret"})
        client = app.test_client()
        api = ApiClient(client, login(client, "admin", ADMIN_PASSWORD))
        with live_server(app) as base:
            yield base, api
        app.extensions["lowcode"].db.dispose()


@pytest.fixture
def shots(tmp_path) -> Path:
    return shots_folder(tmp_path, "bundles")


def newer(exported: bytes) -> bytes:
    """The export as its template's next version: a new field on the customer, the supplier's name relabelled."""
    bundle = parse_bundle(exported)
    bundle["manifest"]["version"] = "2"
    customer = next(e for e in bundle["entities"] if e["name"] == "customer")
    customer["fields"].append({"name": "wechat", "type": "text", "label": {"en": "WeChat", "zh-CN": "微信"}})
    supplier = next(e for e in bundle["entities"] if e["name"] == "supplier")
    next(f for f in supplier["fields"] if f["name"] == "name")["label"] = {
        "en": "Supplier name",
        "zh-CN": "供应商名称",
    }
    return bundle_zip(bundle)


def label_of(api, entity: str, field: str) -> dict:
    body = api.get(f"/api/definitions/jxc2/entity/{entity}").get_json()["published"]
    return next(f for f in body["fields"] if f["name"] == field)["label"]


def test_export_import_change_and_upgrade_keeping_the_local_change(site, shots, tmp_path):
    from playwright.sync_api import sync_playwright

    server, api = site
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport=DESKTOP, accept_downloads=True).new_page()
        page.add_init_script(WATCH_CSP)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        sign_in(page, server, "admin", ADMIN_PASSWORD, "/design/jxc")
        page.screenshot(path=str(shots / "app_en_1366.png"), full_page=True)

        # export: the page's button downloads a zip of JSON files
        with page.expect_download() as download:
            page.click("a.export-link")
        exported = tmp_path / "jxc.zip"
        download.value.save_as(exported)
        assert parse_bundle(exported.read_bytes())["manifest"]["template"] == "jxc"

        # import under another name
        page.goto(f"{server}/design")
        with page.expect_navigation():
            page.click("a.import-link")
        page.set_input_files("#bundle-file", str(exported))
        page.fill("#import-name", "jxc2")
        page.screenshot(path=str(shots / "import_en_1366.png"), full_page=True)
        with page.expect_navigation():
            page.click("form.import-form button[type=submit]")
        assert page.url.startswith(f"{server}/design/jxc2")
        assert page.locator("a.upgrade-link").count() == 1

        # a local change in the designer: the product's name gets another label, published
        page.goto(f"{server}/design/jxc2/entity/product?field=name")
        page.fill("[name='p:label:en']", "Style name")
        with page.expect_navigation():
            page.locator("#field-panel button[type=submit]").last.click()
        page.goto(f"{server}/design/jxc2/publish")
        with page.expect_navigation():
            page.click("form.publish-form button[type=submit]")
        assert label_of(api, "product", "name")["en"] == "Style name"
        created = api.post("/api/data/jxc2/customer", json={"code": "C-E2E", "name": "Kept customer"})
        assert created.status_code == 201, created.get_json()

        # the upgrade: the plan first, nothing changed yet
        newer_zip = tmp_path / "jxc-2.zip"
        newer_zip.write_bytes(newer(exported.read_bytes()))
        with page.expect_navigation():
            page.click("a.upgrade-link")
        page.set_input_files("#bundle-file", str(newer_zip))
        with page.expect_navigation():
            page.click("form.upgrade-upload button[type=submit]")
        assert page.locator("tr[data-name=customer][data-status=new]").count() == 1
        assert page.locator("tr[data-name=supplier][data-status=new]").count() == 1
        assert page.locator("tr[data-name=product][data-status=local]").count() == 1
        assert "wechat" not in str(api.get("/api/definitions/jxc2/entity/customer").get_json())
        page.screenshot(path=str(shots / "upgrade_plan_en_1366.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(shots / "upgrade_plan_en_390.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.set_viewport_size(DESKTOP)
        with page.expect_navigation():
            page.click("form.upgrade-apply button[type=submit]")
        assert page.locator(".upgraded-note").count() == 1
        page.screenshot(path=str(shots / "upgraded_en_1366.png"), full_page=True)

        assert label_of(api, "product", "name")["en"] == "Style name"  # the local change kept
        assert label_of(api, "supplier", "name")["en"] == "Supplier name"  # the new version's change taken
        assert label_of(api, "customer", "wechat")["zh-CN"] == "微信"
        kept = api.get(f"/api/data/jxc2/customer/{created.get_json()['id']}").get_json()
        assert kept["name"] == "Kept customer" and kept["wechat"] is None

        # in Chinese, at both widths: the app page, the import page and the upgrade form
        with page.expect_navigation():
            page.click(".language-switcher button[value=zh_CN]")
        pages = {
            "app": "/design/jxc2",
            "import": "/design/import",
            "upgrade": "/design/jxc2/upgrade",
            "settings": "/design/jxc2/settings",
        }
        for name, url in pages.items():
            for size, viewport in (("1366", DESKTOP), ("390", PHONE)):
                page.set_viewport_size(viewport)
                page.goto(f"{server}{url}")
                page.screenshot(path=str(shots / f"{name}_zh_{size}.png"), full_page=True)
                assert "设计器" in page.locator("nav[aria-label] .breadcrumb").inner_text()
                if size == "390":
                    assert page.evaluate("document.documentElement.scrollWidth") <= 390, name

        # the same version again, in Chinese: refused (409) until "install anyway" is ticked, then the plan
        page.set_viewport_size(DESKTOP)
        page.goto(f"{server}/design/jxc2/upgrade")
        page.set_input_files("#bundle-file", str(newer_zip))
        with page.expect_navigation() as refused:
            page.click("form.upgrade-upload button[type=submit]")
        assert refused.value.status == 409
        assert "版本 2 就是已安装的版本" in page.locator(".bundle-problems").inner_text()
        page.screenshot(path=str(shots / "upgrade_refused_zh_1366.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(shots / "upgrade_refused_zh_390.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.set_input_files("#bundle-file", str(newer_zip))
        page.check("#upgrade-force")
        with page.expect_navigation():
            page.click("form.upgrade-upload button[type=submit]")
        assert page.locator("form.upgrade-apply input[name=token]").count() == 1
        page.screenshot(path=str(shots / "upgrade_plan_zh_390.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(shots / "upgrade_plan_zh_1366.png"), full_page=True)
        assert _csp_violations(page, console) == []
        browser.close()
