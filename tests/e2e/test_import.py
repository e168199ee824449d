"""Spreadsheet import in a real browser, as the purchaser, in English and Chinese, at 1366 px and 390 px: "Import"
on the product list, upload the sample file, the preview with a rejected cell, start, the progress bar
(refreshed by htmx from the job runner's thread) reaching 100 %, and the per-row results downloaded.

Screenshots go to $LOWCODE_TEST_ARTIFACTS (default: a temporary directory) under ``import/``. Skipped without
Chromium unless LOWCODE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from lowcode.app import create_app
from lowcode.jobs.runner import JobRunner
from tests.dbs import copy_of
from tests.e2e.live import CHROMIUM, live_server, require_browser
from tests.e2e.test_phone_width import FLAGS
from tests.integration.jxc.conftest import PASSWORD
from tests.integration.jxc.test_import_products import SAMPLE

WIDTHS = {1366: {"width": 1366, "height": 900}, 390: {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def served(jxc_seed, tmp_path_factory):
    require_browser()
    url, _ = jxc_seed
    shots = Path(os.environ.get("LOWCODE_TEST_ARTIFACTS") or tmp_path_factory.mktemp("shots")) / "import"
    shots.mkdir(parents=True, exist_ok=True)
    with copy_of(url, tmp_path_factory.mktemp("e2e_import")) as copy:
        app = create_app({"DATABASE_URL": copy, "SECRET_KEY": "test-secret"})
        stop = threading.Event()
        runner = JobRunner(app.extensions["lowcode"]).start_thread(stop, poll=0.1)
        with live_server(app) as base:
            yield base, shots, tmp_path_factory.mktemp("files")
        stop.set()
        runner.join(10)
        app.extensions["lowcode"].db.dispose()


@pytest.fixture(scope="module")
def browser(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_upload_preview_run_and_download(served, browser, lang, width):
    base, shots, files = served
    sample = files / f"products-{lang}-{width}.csv"
    run = f"{width}{lang[:2]}"  # SKUs and barcodes are unique: each run imports its own products
    sample.write_bytes(
        SAMPLE.read_bytes().replace(b"IMP-", f"E{run}-".encode()).replace(b"69000", run.encode())
    )
    options = {"viewport": WIDTHS[width], "accept_downloads": True}
    if width < 500:
        options.update(is_mobile=True, has_touch=True)
    context = browser.new_context(**options)
    page = context.new_page()
    try:
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "purchaser")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state()
        page.click(f".language-switcher button[value={lang}]")
        page.wait_for_load_state()
        page.goto(f"{base}/a/jxc/product")
        page.click("a[data-import]")
        page.wait_for_selector("form.import-upload")
        _shot(page, shots, f"{lang}-{width}-1-upload", width)
        page.set_input_files("#import-file", str(sample))
        page.click("form.import-upload button[type=submit]")
        page.wait_for_selector("table.import-preview")
        assert (
            page.locator("select[data-column='货号'] option[value=sku]").get_attribute("selected") is not None
        )
        page.select_option("#import-mapping", "product_sheet")  # the template's mapping reads 进价, 售价, ...
        page.click("form.import-columns button[type=submit]")
        page.wait_for_selector("select[data-column]", state="detached")
        assert page.locator("td[data-error-column='进价']").count() == 1  # 20.123: more places than money
        _shot(page, shots, f"{lang}-{width}-2-preview", width)
        page.click("button.import-start")
        page.wait_for_selector("#import-status[data-status=done]", timeout=30_000)
        assert page.get_attribute("progress.import-progress", "value") == "100"
        _shot(page, shots, f"{lang}-{width}-3-done", width)
        with page.expect_download() as download:
            page.click("a.import-results")
        lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
        assert lines[0] == "row,outcome,record_id,errors"
        assert [line.split(",")[1] for line in lines[1:]] == [
            "created",
            "created",
            "created",
            "rejected",
            "rejected",
        ]
    finally:
        context.close()


def _shot(page, shots: Path, name: str, width: int) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{page.url} is {wide} px wide at {width} px"
