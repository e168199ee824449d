"""Bundle operations as the API and the pages call them, on the caller's unit of work (the caller asks the
permission service first): read a sent bundle (zip or JSON), import it (optionally under another app name),
plan or apply an upgrade, and the plan as JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lowcode.definitions import publisher
from lowcode.definitions.app_names import require_free_app_name
from lowcode.definitions.bundle_check import require_valid_bundle
from lowcode.definitions.bundle_files import checked_app_name, manifest_of, parse_bundle, renamed_bundle
from lowcode.definitions.bundle_versions import require_newer
from lowcode.definitions.merge import MISSING
from lowcode.definitions.templates import install_bundle
from lowcode.definitions.upgrade import (
    Upgrade,
    apply_upgrade,
    prepare_upgrade,
    save_upgrade_drafts,
    upgrade_options,
)
from lowcode.errors import BadRequest
from lowcode.runtime.context import WriteContext


def read_bundle(data: bytes) -> dict[str, Any]:
    """The bundle sent (zip or JSON). :raises BadRequest: :raises PayloadTooLarge:"""
    return parse_bundle(data)


def import_bundle(
    ctx: WriteContext, svc, bundle: dict[str, Any], name: str | None, with_demo: bool
) -> dict[str, Any]:
    """Install ``bundle`` as a new app (``name``: under that name instead of its own), everything checked
    before anything changes. :raises DefinitionInvalid: every problem by file and JSON path."""
    if name:
        if not isinstance(bundle.get("app"), dict):
            raise BadRequest("A bundle needs an app definition", fields={"app.json": ["missing"]})
        require_free_app_name(name, svc.reserved_app_names)
        bundle = renamed_bundle(bundle, checked_app_name(name))
    elif isinstance(bundle.get("app"), dict) and isinstance(bundle["app"].get("name"), str):
        require_free_app_name(bundle["app"]["name"], svc.reserved_app_names, "app.json: $.name")
    return install_bundle(
        ctx, svc.records, svc.snapshots, bundle, with_demo=with_demo, settings=svc.settings, new_app=True
    )


def upgrade_app(
    ctx: WriteContext,
    svc,
    app: str,
    bundle: dict[str, Any],
    choices: Mapping[str, str],
    consent: bool = False,
    dry_run: bool = False,
    force: bool = False,
) -> tuple[Upgrade, list[publisher.Published]]:
    """Plan (``dry_run``: then everything a publish checks, rolled back) or apply the upgrade of ``app``; a
    bundle whose version is not newer than the installed one is refused unless ``force``.

    :raises NotFound: :raises DefinitionInvalid: :raises NotNewer: :raises SchemaChangeRefused:
    """
    if not isinstance(bundle.get("app"), dict):
        raise BadRequest("A bundle needs an app definition", fields={"app.json": ["missing"]})
    bundle = renamed_bundle(bundle, app)
    require_valid_bundle(bundle, svc.settings)
    upgrade = prepare_upgrade(ctx.session, app, bundle, choices)
    require_newer(upgrade.from_version, upgrade.to_version, force)
    if not dry_run:
        return upgrade, apply_upgrade(ctx.session, upgrade, bundle, ctx.actor.username, consent, svc.settings)
    savepoint = ctx.session.begin_nested()
    try:
        only = save_upgrade_drafts(ctx.session, upgrade)
        planned = publisher.dry_run_drafts(
            ctx.session, app, upgrade_options(upgrade, consent), settings=svc.settings, only=only
        )
    finally:
        savepoint.rollback()
    return upgrade, planned


def plan_json(
    upgrade: Upgrade, published: list[publisher.Published], dry_run: bool = False
) -> dict[str, Any]:
    """The plan (``dry_run``: ``published`` lists nothing, ``planned`` what would be) or outcome of an upgrade."""
    plans = {(p.kind, p.name): p.plan for p in published}
    return {
        "app": upgrade.app,
        "template": upgrade.template,
        "from_version": upgrade.from_version,
        "to_version": upgrade.to_version,
        "definitions": [
            {
                "kind": p.kind,
                "name": p.name,
                "status": p.status,
                "changes": p.changes,
                "conflicts": [
                    {
                        "choice": p.choice_key(c),
                        "path": c.path,
                        **{side: _value(getattr(c, side)) for side in ("base", "local", "new")},
                    }
                    for c in p.conflicts
                ],
                "schema_plan": plans[(p.kind, p.name)].as_json() if plans.get((p.kind, p.name)) else None,
            }
            for p in upgrade.plans
        ],
        "dry_run": dry_run,
        "planned" if dry_run else "published": [
            {"kind": p.kind, "name": p.name, "version": p.version} for p in published
        ],
        **({"published": []} if dry_run else {}),
    }


def _value(value: Any) -> Any:
    return None if value is MISSING else value


def export_file_name(bundle: dict[str, Any]) -> str:
    """``<template>-<version>.zip`` with only safe characters."""
    manifest = manifest_of(bundle)
    stem = f"{manifest.get('template') or 'app'}-{manifest.get('version') or '0'}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem)[:100] + ".zip"
