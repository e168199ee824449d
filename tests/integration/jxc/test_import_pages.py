"""The import pages as the JXC roles use them, in English and Chinese: "Import" on the product list for the
purchaser (who may create products) and not for the warehouse; upload, columns and a preview with cell
errors, start, progress fragment, results download - only for the owner; a hostile file answered on the
upload page; the administrator (a designer) keeps the matched columns as a draft mapping."""

from __future__ import annotations

import io
import re

import pytest

from lowcode.jobs.runner import JobRunner
from tests.integration.pages.helpers import Browser, text

from .conftest import PASSWORD
from .test_import_products import SAMPLE

LIST = "/a/jxc/product"
UPLOAD = "/a/jxc/product/import"
JOB = re.compile(r"/a/jxc/product/import/(\d+)$")


def _browser(app, username: str, lang: str, password: str = PASSWORD) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username, password).status_code == 303
    assert browser.post("/language", {"lang": lang, "next": "/"}).status_code == 303
    return browser


def _upload(browser: Browser, name: str, content: bytes):
    data = {"file": (io.BytesIO(content), name), "csrf_token": browser.token}
    return browser.client.post(UPLOAD, data=data, content_type="multipart/form-data")


def _job_url(response) -> str:
    assert response.status_code == 303, text(response)[:500]
    location = response.headers["Location"]
    assert JOB.search(location), location
    return location


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_purchaser_imports_products_through_the_pages(app, jxc, lang):
    purchaser = _browser(app, "purchaser", lang)
    listing = text(purchaser.get(LIST))
    assert f'href="{UPLOAD}"' in listing and ("Import" if lang == "en" else "导入") in listing
    assert ("Spreadsheet file" if lang == "en" else "电子表格文件") in text(purchaser.get(UPLOAD))
    body = "SKU,品名,Sale Price,Cost\nIMP-P1,页面导入一,19.90,1.005\nIMP-P2,页面导入二,29.90,2.00\n"
    url = _job_url(_upload(purchaser, "p.csv", body.encode()))
    page = text(purchaser.get(url))
    assert 'data-column="SKU"' in page and 'value="sku" selected' in page
    assert 'data-row="2"' in page and 'data-error-column="Cost"' not in page  # Cost is not matched
    columns = {"col_0": "sku", "col_1": "name", "col_2": "sale_price", "col_3": "purchase_cost"}
    assert purchaser.post(url, {"mapping": "", **columns}).status_code == 303
    page = text(purchaser.get(url))
    assert 'data-error-column="Cost"' in page and "decimal places" in page  # the field type's own message
    assert purchaser.post(url + "/start").status_code == 303
    waiting = text(purchaser.get(url + "/status", htmx=True))
    assert 'data-status="queued"' in waiting and 'hx-trigger="every 1s"' in waiting
    JobRunner(app.extensions["lowcode"]).run_all()
    done = text(purchaser.get(url + "/status", htmx=True))
    assert 'data-status="done"' in done and "100 %" in done and "hx-trigger" not in done
    assert 'data-count="created">' in done and ("Created: 1" if lang == "en" else "创建: 1") in done
    results = purchaser.get(url + "/results.csv")
    assert results.status_code == 200 and results.mimetype == "text/csv"
    lines = results.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "row,outcome,record_id,errors"
    assert lines[1].startswith("2,rejected,,Cost: ") and lines[2].startswith("3,created,")
    for other in ("warehouse", "sales"):  # not theirs: as if it did not exist
        browser = _browser(app, other, lang)
        assert browser.get(url).status_code == 404
        assert browser.get(url + "/results.csv").status_code == 404


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_warehouse_may_not_import_products(app, jxc, lang):
    warehouse = _browser(app, "warehouse", lang)
    assert f'href="{UPLOAD}"' not in text(warehouse.get(LIST))
    assert warehouse.get(UPLOAD).status_code == 403
    assert _upload(warehouse, "p.csv", SAMPLE.read_bytes()).status_code == 403


@pytest.mark.parametrize(
    ("name", "content", "status"), [("p.txt", b"a\n1\n", 400), ("p.csv", "货号\n".encode(), 400)]
)
def test_a_bad_file_is_explained_on_the_upload_page(app, jxc, name, content, status):
    purchaser = _browser(app, "purchaser", "zh_CN")
    response = _upload(purchaser, name, content)
    assert response.status_code == status and "import-error" in text(response)
    assert "电子表格文件" in text(response)


def test_the_administrator_keeps_the_matched_columns_as_a_draft_mapping(app, jxc, api):
    from tests.conftest import ADMIN_PASSWORD

    admin = _browser(app, "admin", "en", ADMIN_PASSWORD)
    url = _job_url(_upload(admin, "p.csv", "SKU,Name\nIMP-A,甲\n".encode()))
    assert "import-draft" in text(admin.get(url))
    saved = admin.post(url + "/draft", {"name": "product_quick"})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("?saved=product_quick")
    draft = api.get("/api/definitions/jxc/mapping/product_quick").get_json()
    assert draft["draft"]["fields"] == [
        {"field": "sku", "source": "SKU"},
        {"field": "name", "source": "Name"},
    ]
    purchaser = _browser(app, "purchaser", "en")
    url = _job_url(_upload(purchaser, "p.csv", "SKU,Name\nIMP-A,甲\n".encode()))
    assert "import-draft" not in text(purchaser.get(url))
    assert purchaser.post(url + "/draft", {"name": "sneaky"}).status_code == 403
