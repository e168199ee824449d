"""App templates: a bundle of definitions (+ demo data) imported, published and exported as JSON.

A bundle on disk is a folder: ``app.json``, ``entities/*.json``, ``forms/*.json``, ``views/*.json``,
``roles/*.json``, ``rules/*.json``, ``workflows/*.json``, ``demo_data/*.json`` (``{"entity": "...", "records":
[...]}``), optionally ``manifest.json`` (template, version). The same bundle travels over the API as one JSON
document (``{"app": {...}, "entities": [...], ..., "demo_data": [...]}``) or as a zip of those files
(:mod:`lowcode.definitions.bundle_files`). Demo records may carry ``"_key"``; a link value ``{"$key": "k"}``
refers to the record with that key. An install is checked whole first (:mod:`lowcode.definitions.bundle_check`)
and recorded in ``lc_app_install`` (:mod:`lowcode.definitions.installs`), the base of later upgrades.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.definitions import publisher, store
from lowcode.definitions.bundle_check import require_valid_bundle
from lowcode.definitions.bundle_files import MANIFEST, SECTIONS, bundle_documents, manifest_of
from lowcode.definitions.installs import export_manifest, record_install
from lowcode.errors import BadRequest, BulkFailed, DefinitionInvalid, NotFound, ValidationFailed
from lowcode.runtime.context import WriteContext

__all__ = ["SECTIONS", "export_bundle", "install_bundle", "load_bundle", "write_bundle"]


def load_bundle(path: str | Path) -> dict[str, Any]:
    """Read a bundle from a folder or a single JSON file. :raises BadRequest: if it cannot be read."""
    path = Path(path)
    if path.is_file():
        return loads_exact(path.read_text(encoding="utf-8"), max_depth=64)
    if not (path / "app.json").is_file():
        raise BadRequest(f"{path} is neither a bundle file nor a folder with app.json")
    bundle: dict[str, Any] = {"app": loads_exact((path / "app.json").read_text(encoding="utf-8"), 64)}
    for section in (*SECTIONS, "demo_data"):
        folder = path / section
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        bundle[section] = [loads_exact(f.read_text(encoding="utf-8"), 64) for f in files]
    if (path / MANIFEST).is_file():
        bundle["manifest"] = loads_exact((path / MANIFEST).read_text(encoding="utf-8"), 64)
    return bundle


def install_bundle(
    ctx: WriteContext,
    records,
    snapshots,
    bundle: Any,
    with_demo: bool = True,
    settings: Mapping[str, Any] | None = None,
    new_app: bool = False,
) -> dict[str, Any]:
    """Check the whole bundle, save every definition as a draft, publish them together, record the install,
    then create the demo records through the record service. Runs in the caller's transaction: all or
    nothing. ``settings``: the deployment's (the publish checks webhook URLs against its allow-list);
    ``new_app``: refuse an app name already in use (imports; the CLI and older callers may reinstall).

    :raises DefinitionInvalid: every problem by file and JSON path, before anything changed.
    """
    require_valid_bundle(bundle, settings)
    app = bundle["app"]["name"]
    if new_app and store.list_definitions(ctx.session, app):
        raise DefinitionInvalid(
            f"An app named '{app}' exists already: import under another name, or upgrade it",
            fields={"app.json: $.name": [f"'{app}' is in use"]},
        )
    store.save_draft(ctx.session, app, "app", app, bundle["app"])
    for section, kind in SECTIONS.items():
        for doc in bundle.get(section) or []:
            if not isinstance(doc, dict) or "name" not in doc:
                raise BadRequest(f"Every item of '{section}' must be a definition object with a name")
            store.save_draft(ctx.session, app, kind, doc["name"], doc)
    published = publisher.publish_drafts(
        ctx.session, app, ctx.actor.username, note="template import", settings=settings
    )
    manifest = manifest_of(bundle)
    documents = bundle_documents({k: v for k, v in bundle.items() if k != "demo_data"})
    record_install(
        ctx.session,
        app,
        str(manifest.get("template") or app),
        str(manifest.get("version") or ""),
        documents,
        ctx.actor.username,
    )
    created = 0
    if with_demo and bundle.get("demo_data"):
        from dataclasses import replace

        ctx = replace(ctx, snapshot=snapshots.get(ctx.session), source="template")
        created = _create_demo(ctx, records, app, bundle["demo_data"])
    return {
        "app": app,
        "published": [{"kind": p.kind, "name": p.name, "version": p.version} for p in published],
        "records": created,
    }


def _create_demo(ctx: WriteContext, records, app: str, demo: list[dict[str, Any]]) -> int:
    """Create the demo records block by block through the record service's bulk creates (``create_many``,
    all or nothing); a record naming a ``$key`` of a record still waiting in the batch sends the batch first."""
    keys: dict[str, int] = {}
    count = 0
    for block in demo:
        entity = block.get("entity")
        batch: list[tuple[int, dict[str, Any], Any]] = []
        waiting: set[Any] = set()  # the keys of the batch's records (kept as the batch grows, not rebuilt)
        for i, raw in enumerate(block.get("records") or []):
            if waiting and _keys_named(raw) & waiting:
                count += _send_demo(ctx, records, app, entity, batch, keys)
                batch, waiting = [], set()
            data = _resolve_keys(dict(raw), keys)
            key = data.pop("_key", None)
            batch.append((i, data, key))
            if key is not None:
                waiting.add(key)
        count += _send_demo(ctx, records, app, entity, batch, keys)
    return count


def _send_demo(ctx: WriteContext, records, app: str, entity: str, batch: list, keys: dict[str, int]) -> int:
    """Create one batch of demo records (``(index, data, key)``); note each created key's id."""
    if not batch:
        return 0
    try:
        outcome = records.create_many(ctx, app, entity, [data for _, data, _ in batch])
    except BulkFailed as exc:
        index, error = exc.failures[0]
        raise ValidationFailed(
            f"Demo record {entity}[{batch[index][0]}] is not valid: {error.fields or error.message}",
            error.fields,
        ) from exc
    for n, (_, _, key) in enumerate(batch):
        if key:
            keys[key] = outcome.records[n]["id"]
    return len(batch)


def _keys_named(value: Any) -> set[str]:
    """The ``$key`` references inside a demo record."""
    if isinstance(value, dict):
        if set(value) == {"$key"}:
            return {value["$key"]}
        return set().union(*(_keys_named(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys_named(v) for v in value))
    return set()


def _resolve_keys(value: Any, keys: dict[str, int]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$key"}:
            if value["$key"] not in keys:
                raise BadRequest(f"Demo data refers to unknown key {value['$key']!r}")
            return keys[value["$key"]]
        return {k: _resolve_keys(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_keys(v, keys) for v in value]
    return value


def export_bundle(session, app: str, version: str | None = None) -> dict[str, Any]:
    """The published definitions of an app as a bundle (no data), with its manifest. :raises NotFound:"""
    docs = store.published_app_documents(session, app)
    if app not in docs.get("app", {}):
        raise NotFound(f"No published app '{app}'")
    bundle: dict[str, Any] = {
        "manifest": export_manifest(session, app, version, docs),
        "app": docs["app"][app],
    }
    for section, kind in SECTIONS.items():
        bundle[section] = [docs.get(kind, {})[n] for n in sorted(docs.get(kind, {}))]
    return bundle


def write_bundle(bundle: dict[str, Any], path: str | Path) -> None:
    """Write a bundle as a folder (``.json`` path: a single file)."""
    path = Path(path)
    if path.suffix == ".json":
        path.write_text(dumps(bundle, indent=2), encoding="utf-8")
        return
    path.mkdir(parents=True, exist_ok=True)
    if bundle.get("manifest"):
        (path / MANIFEST).write_text(dumps(bundle["manifest"], indent=2) + "\n", encoding="utf-8")
    (path / "app.json").write_text(dumps(bundle["app"], indent=2) + "\n", encoding="utf-8")
    for section in SECTIONS:
        folder = path / section
        folder.mkdir(exist_ok=True)
        for doc in bundle.get(section, []):
            (folder / f"{doc['name']}.json").write_text(dumps(doc, indent=2) + "\n", encoding="utf-8")
