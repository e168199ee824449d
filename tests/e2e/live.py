"""The browser tests' live server: the app served on a free local port by a thread, with the front-end assets
built; skipped without Chromium or Playwright (a failure instead when LOWCODE_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.dbs import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def require_browser() -> None:
    """Skip (or fail, where services are required) without Chromium or Playwright; build the assets."""
    if CHROMIUM is None:
        skip_or_fail("Chromium is not installed (make setup installs the chromium package)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    _build_assets()


@functools.cache
def _build_assets() -> None:
    """Once per test process (it took ~1 s a browser test): compile the message catalogs."""
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_assets.py"), "--no-npm"],
        check=False,
        capture_output=True,
    )


@contextmanager
def live_server(app) -> Iterator[str]:
    """``app`` served until the block ends; yields its base URL."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()


def sign_in(page, server: str, username: str, password: str, next_path: str) -> None:
    """Sign in through the login form and wait for the page it sends to, ``next_path`` (a path of the site)."""
    page.goto(f"{server}/login?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{server}{next_path}")


def shots_folder(tmp_path: Path, name: str) -> Path:
    """Where a browser test keeps its screenshots: ``LOWCODE_TEST_ARTIFACTS/<name>`` (else under ``tmp_path``)."""
    folder = Path(os.environ.get("LOWCODE_TEST_ARTIFACTS") or tmp_path) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
