"""Bundles as files: a zip of JSON documents (``manifest.json``, ``app.json``, ``entities/<name>.json``, ...,
``demo_data/<any>.json``) read within limits and written back, the manifest (template name, version, the
version of each definition), and a bundle renamed to another app.

A zip is read entry by entry before anything is parsed: at most :data:`MAX_FILES` entries, each at most
:data:`MAX_FILE_BYTES` and all together at most :data:`MAX_TOTAL_BYTES` once inflated (the sizes are read back,
not trusted from the directory), and only paths of the layout above - optionally under one top folder - so no
absolute path, ``..``, backslash, link or unknown folder gets through.
"""

from __future__ import annotations

import copy
import io
import re
import stat
import zipfile
from typing import Any

from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.errors import BadRequest, DefinitionInvalid, PayloadTooLarge

SECTIONS = {
    "entities": "entity",
    "forms": "form",
    "views": "view",
    "roles": "role",
    "rules": "rule",
    "workflows": "workflow",
    "subscriptions": "subscription",
    "mappings": "mapping",
    "reports": "report",
    "dashboards": "dashboard",
}
"""Bundle sections (folders) and the definition kind of their documents."""
FOLDERS = (*SECTIONS, "demo_data")
MANIFEST = "manifest.json"
MAX_FILES = 1000
MAX_FILE_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\.json$")
ZIP_MAGIC = b"PK\x03\x04"


def is_zip(data: bytes) -> bool:
    """Whether ``data`` starts like a zip archive."""
    return data[:4] == ZIP_MAGIC


def read_zip(data: bytes) -> dict[str, bytes]:
    """The JSON files of a zipped bundle by their path in the bundle (top folder removed).

    :raises BadRequest: an unreadable zip or a path outside the layout (every bad path named);
    :raises PayloadTooLarge: too many entries or too many bytes once inflated.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [e for e in archive.infolist() if not e.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise BadRequest(f"The bundle is not a readable zip file ({exc})") from None
    if len(entries) > MAX_FILES:
        raise PayloadTooLarge(f"The bundle holds {len(entries)} files; at most {MAX_FILES} are read")
    top = _top_folder([e.filename for e in entries])
    files: dict[str, bytes] = {}
    errors: dict[str, list[str]] = {}
    total = 0
    for entry in entries:
        path = entry.filename[len(top) :]
        problem = _path_problem(entry, path, files)
        if problem:
            errors.setdefault(entry.filename[:200], []).append(problem)
            continue
        total += entry.file_size
        if entry.file_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise PayloadTooLarge(
                f"{path}: the bundle's files may be at most {MAX_FILE_BYTES} bytes each and "
                f"{MAX_TOTAL_BYTES} together once unzipped"
            )
        files[path] = _read_entry(archive, entry, path)
    if errors:
        raise BadRequest("The bundle holds files outside its layout", fields=errors)
    return files


def _top_folder(names: list[str]) -> str:
    """The one folder every entry lies under (``shop/``), if the archive has one and no ``app.json`` at its root."""
    if not names or "app.json" in names:
        return ""
    first = names[0].split("/", 1)[0]
    if (
        first not in FOLDERS
        and re.match(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$", first)
        and all(n.startswith(f"{first}/") for n in names)
    ):
        return f"{first}/"
    return ""


def _path_problem(entry: zipfile.ZipInfo, path: str, seen: dict[str, bytes]) -> str | None:
    mode = entry.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        return "links are not read"
    raw = entry.filename
    if "\\" in raw or raw.startswith("/") or ".." in raw.split("/") or ":" in raw:
        return "not a relative path inside the bundle"
    parts = path.split("/")
    if not all(
        _NAME.match(p) or (i < len(parts) - 1 and re.match(r"^[a-z_]+$", p)) for i, p in enumerate(parts)
    ):
        return "a bundle holds only .json files named with letters, digits, '_', '.' and '-'"
    if len(parts) == 1 and path not in ("app.json", MANIFEST):
        return "unknown file: only app.json and manifest.json lie at the top"
    if len(parts) == 2 and parts[0] not in FOLDERS:
        return f"unknown folder '{parts[0]}' (known: {', '.join(FOLDERS)})"
    if len(parts) > 2:
        return "folders inside the bundle's folders are not read"
    if path in seen:
        return "the same path twice"
    return None


def _read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, path: str) -> bytes:
    try:
        with archive.open(entry) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise BadRequest(f"{path}: cannot be unzipped ({exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"{path}: more than {MAX_FILE_BYTES} bytes once unzipped")
    return data


def bundle_from_files(files: dict[str, bytes]) -> dict[str, Any]:
    """A bundle (``{"app", "manifest", "entities": [...], ...}``) from its files.

    :raises BadRequest: files that are not JSON, every one named with the reason.
    """
    errors: dict[str, list[str]] = {}
    bundle: dict[str, Any] = {folder: [] for folder in FOLDERS}
    for path in sorted(files):
        try:
            doc = loads_exact(files[path].decode("utf-8"), MAX_DEPTH)
        except (UnicodeDecodeError, ValueError, BadRequest) as exc:
            message = exc.message if isinstance(exc, BadRequest) else str(exc)
            errors.setdefault(path, []).append(f"not valid JSON: {message}")
            continue
        if path == "app.json":
            bundle["app"] = doc
        elif path == MANIFEST:
            bundle["manifest"] = doc
        else:
            bundle[path.split("/", 1)[0]].append(doc)
    if errors:
        raise BadRequest("The bundle holds files that are not valid JSON", fields=errors)
    if "app" not in bundle:
        raise BadRequest("The bundle has no app.json", fields={"app.json": ["missing"]})
    return bundle


def bundle_zip(bundle: dict[str, Any]) -> bytes:
    """The bundle as a zip of indented JSON files (``manifest.json`` first)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if bundle.get("manifest"):
            archive.writestr(MANIFEST, dumps(bundle["manifest"], indent=2) + "\n")
        archive.writestr("app.json", dumps(bundle["app"], indent=2) + "\n")
        for section in SECTIONS:
            for doc in bundle.get(section) or []:
                archive.writestr(f"{section}/{doc['name']}.json", dumps(doc, indent=2) + "\n")
        for i, block in enumerate(bundle.get("demo_data") or []):
            archive.writestr(f"demo_data/{i + 1:02d}.json", dumps(block, indent=2) + "\n")
    return out.getvalue()


def bundle_documents(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The bundle's definitions as ``{kind: {name: body}}`` (the app under ``app``)."""
    docs: dict[str, dict[str, Any]] = {"app": {bundle["app"]["name"]: bundle["app"]}}
    for section, kind in SECTIONS.items():
        docs[kind] = {doc["name"]: doc for doc in bundle.get(section) or []}
    return docs


def renamed_bundle(bundle: dict[str, Any], new_name: str) -> dict[str, Any]:
    """A copy of ``bundle`` that installs as app ``new_name``. Definitions name entities, forms and roles within
    their app, so the app's name appears only in the app definition: that is the one change."""
    renamed = copy.deepcopy(bundle)
    renamed["app"]["name"] = new_name
    return renamed


def manifest_of(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle's manifest, or one made of the app's name (a bundle without a manifest: version "")."""
    manifest = bundle.get("manifest")
    if isinstance(manifest, dict):
        return manifest
    return {"template": bundle["app"]["name"], "version": "", "definitions": {}}


def parse_bundle(data: bytes) -> dict[str, Any]:
    """A bundle sent as a zip or as one JSON document. :raises BadRequest: :raises PayloadTooLarge:"""
    if not data:
        raise BadRequest("The bundle is empty")
    if is_zip(data):
        return bundle_from_files(read_zip(data))
    try:
        bundle = loads_exact(data.decode("utf-8"), MAX_DEPTH)
    except UnicodeDecodeError:
        raise BadRequest("The bundle is neither a zip file nor JSON text") from None
    if not isinstance(bundle, dict):
        raise BadRequest("A bundle sent as JSON is an object with 'app' and the sections of definitions")
    return bundle


APP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def checked_app_name(name: str) -> str:
    """An app name as imports accept it. :raises DefinitionInvalid:"""
    if not APP_NAME.match(name or ""):
        raise DefinitionInvalid(
            "An app name is lower-case letters, digits and _ and starts with a letter",
            fields={"name": [(name or "-")[:64]]},
        )
    return name
