"""Build the pages' assets: compile the message catalogs and copy the npm front-end files.

    python scripts/build_assets.py            # pybabel compile + npm ci (if needed) + copy vendor files
    python scripts/build_assets.py --no-npm   # translations only

1. ``pybabel compile -d lowcode/translations`` (the ``.mo`` files are build products, not committed);
2. ``npm ci`` when ``node_modules`` is missing, then copy the dist files listed in :data:`VENDOR` into
   ``lowcode/static/vendor/`` (git-ignored). Without npm the pages still work, unstyled and without
   htmx; that step only warns unless ``--strict``.

Updating the catalog after changing platform words::

    pybabel extract -F babel.cfg -k lazy_gettext -k _l -o /tmp/messages.pot .
    pybabel update -i /tmp/messages.pot -d lowcode/translations -l zh_CN
    # translate the new msgstr entries in lowcode/translations/zh_CN/LC_MESSAGES/messages.po
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "lowcode" / "translations"
VENDOR_DIR = ROOT / "lowcode" / "static" / "vendor"
VENDOR = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "bootstrap/dist/css/bootstrap.min.css": "bootstrap.min.css",
    "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
    "sortablejs/Sortable.min.js": "Sortable.min.js",
    "tom-select/dist/js/tom-select.complete.min.js": "tom-select.complete.min.js",
    "tom-select/dist/css/tom-select.bootstrap5.min.css": "tom-select.bootstrap5.min.css",
    "echarts/dist/echarts.common.min.js": "echarts.common.min.js",
}


def compile_translations() -> None:
    """``pybabel compile -d lowcode/translations`` with this interpreter's Babel."""
    command = [
        sys.executable,
        "-m",
        "babel.messages.frontend",
        "compile",
        "-d",
        str(TRANSLATIONS),
        "--statistics",
    ]
    subprocess.run(command, check=True, cwd=ROOT)


def install_npm_packages() -> None:
    """``npm ci`` (exactly package-lock.json) unless ``node_modules`` already holds every package."""
    modules = ROOT / "node_modules"
    if all((modules / source).exists() for source in VENDOR):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], check=True, cwd=ROOT)


def copy_vendor_files() -> list[Path]:
    """Copy the dist files from ``node_modules`` into ``lowcode/static/vendor``; returns the copies."""
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    copied = []
    for source, name in VENDOR.items():
        target = VENDOR_DIR / name
        shutil.copyfile(ROOT / "node_modules" / source, target)
        copied.append(target)
    return copied


def main(argv: list[str] | None = None) -> int:
    """Run the build steps; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-npm", action="store_true", help="only compile the translations")
    parser.add_argument("--strict", action="store_true", help="fail when the npm step fails")
    args = parser.parse_args(argv)
    compile_translations()
    if args.no_npm:
        return 0
    try:
        install_npm_packages()
        for path in copy_vendor_files():
            print(f"copied {path.relative_to(ROOT)}")
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"warning: front-end assets not built ({exc}); pages render unstyled", file=sys.stderr)
        return 1 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
