"""Screenshots of pages as each role, in both languages, at desktop and phone width - to look at them.

    .venv/bin/python scripts/screenshots.py --database sqlite:///demo.db --password demo-pass-123 \
        --out /tmp/shots --user sales --path /a/jxc/sales_order --path /a/jxc/sales_order/1

Serves the app on the given database in this process (no other server needed) and drives Debian's Chromium
with Playwright. Each file is ``<user>-<lang>-<width>-<path>.png``; a page that answers an error status is
still captured and listed with its status.
"""

from __future__ import annotations

import argparse
import re
import shutil
import threading
from pathlib import Path

from werkzeug.serving import make_server

from lowcode.app import create_app

WIDTHS = {"1366": {"width": 1366, "height": 900}, "390": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "zh": "zh-CN"}
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home"


def capture(base: str, users: list[str], password: str, paths: list[str], out: Path) -> list[str]:
    """Sign in as each user in each language and width and capture each path; returns one line per shot."""
    from playwright.sync_api import sync_playwright

    lines = []
    with sync_playwright() as pw:
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        browser = pw.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        for user in users:
            for lang, locale in LOCALES.items():
                for width, viewport in WIDTHS.items():
                    context = browser.new_context(viewport=viewport, locale=locale)
                    page = context.new_page()
                    page.goto(f"{base}/login")
                    page.fill("input[name=username]", user)
                    page.fill("input[name=password]", password)
                    page.click("form[action='/login'] button[type=submit]")
                    page.wait_for_load_state("networkidle")
                    for path in paths:
                        response = page.goto(base + path)
                        page.wait_for_load_state("networkidle")
                        name = f"{user}-{lang}-{width}-{_slug(path)}.png"
                        page.screenshot(path=str(out / name), full_page=True)
                        wide = page.evaluate("document.documentElement.scrollWidth")
                        lines.append(f"{name}: {response.status if response else '?'}, page width {wide}px")
                    context.close()
        browser.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--user", action="append", required=True)
    parser.add_argument("--path", action="append", required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = create_app({"DATABASE_URL": args.database, "SECRET_KEY": "screenshots-only-" + "x" * 32})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        for line in capture(f"http://127.0.0.1:{http.server_port}", args.user, args.password, args.path, args.out):
            print(line)
    finally:
        http.shutdown()


if __name__ == "__main__":
    main()
