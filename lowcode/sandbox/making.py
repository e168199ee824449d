"""Making a sandbox of a live app: its published definitions installed under the sandbox's name, a sample of
its data copied in (masked), and the sandbox recorded with the live versions it was copied from.

The copy is installed in two publishes: first the app, entities, forms and lists - the data is written then,
before the sandbox has rules or workflows, so the copy is the live data as stored, not the data the rules
would derive again (a posting rule would book twice, a workflow would refuse a record in a later state) -
then the roles, rules and workflows. Everything happens in the caller's transaction: all or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from lowcode.auth.design_access import sandbox_of
from lowcode.core.definition_models import Sandbox
from lowcode.core.texts import Text
from lowcode.definitions import publisher, store
from lowcode.definitions.bundle_files import renamed_bundle
from lowcode.definitions.templates import SECTIONS, export_bundle
from lowcode.errors import BadRequest, DefinitionInvalid
from lowcode.runtime.context import Actor, WriteContext
from lowcode.sandbox.copying import copy_sample
from lowcode.sandbox.sample import MAX_SAMPLE, choose_sample

NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
FIRST = frozenset({"app", "entity", "form", "view"})
"""The kinds published before the data is copied (the others after it)."""
DEFAULT_SAMPLE = 20


def default_name(live_app: str) -> str:
    """``<app>_sandbox`` (cut to the longest app name)."""
    return f"{live_app}_sandbox"[:48]


def live_versions(session, app: str) -> dict[str, int]:
    """The app's published versions: ``{"kind/name": version}``."""
    return {
        f"{d.kind}/{d.name}": d.published_version
        for d in store.list_definitions(session, app)
        if d.published_version is not None
    }


def _check_request(session, live_app: str, name: str, per_entity: int) -> None:
    if sandbox_of(session, live_app) is not None:
        raise BadRequest(Text("'{app}' is a sandbox itself: make a sandbox of its live app", app=live_app))
    if not NAME.match(name):
        message = Text("A name is lower-case letters, digits and _ and starts with a letter")
        raise DefinitionInvalid(message, {"name": [message]})
    if not 0 <= per_entity <= MAX_SAMPLE:
        raise BadRequest(Text("The sample is 0 to {most} records per table", most=MAX_SAMPLE))
    if store.list_definitions(session, name):
        message = Text("An app named '{app}' exists already", app=name)
        raise DefinitionInvalid(message, {"name": [message]})


def make_sandbox(
    ctx: WriteContext,
    records: Any,
    snapshots: Any,
    live_app: str,
    *,
    name: str | None = None,
    per_entity: int = DEFAULT_SAMPLE,
    mask_key: bytes,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Make the sandbox ``name`` (default ``<app>_sandbox``) of ``live_app`` with the latest ``per_entity``
    records of each table (and what they link to). ``mask_key`` keys the personal data's stand-ins.

    :raises BadRequest: the app is not published or is a sandbox; the sample is out of range.
    :raises DefinitionInvalid: the name is taken or not a name.
    """
    session = ctx.session
    name = name or default_name(live_app)
    _check_request(session, live_app, name, per_entity)
    bundle = renamed_bundle(export_bundle(session, live_app), name)
    versions = live_versions(session, live_app)
    sample = choose_sample(session, ctx.snapshot, live_app, per_entity)
    store.save_draft(session, name, "app", name, bundle["app"])
    for section, kind in SECTIONS.items():
        for doc in bundle.get(section) or []:
            store.save_draft(session, name, kind, doc["name"], doc)
    note = f"sandbox of {live_app}"
    first = {
        (kind, doc["name"]) for section, kind in SECTIONS.items() if kind in FIRST for doc in bundle[section]
    }
    published = publisher.publish_drafts(
        session, name, ctx.actor.username, note, settings=settings, only={("app", name), *first}
    )
    snapshot = snapshots.get(session)
    writer = replace(ctx, actor=Actor.system(note), snapshot=snapshot, source="sandbox")
    entities = {n: e for (a, n), e in snapshot.entities.items() if a == name}
    report = copy_sample(writer, records, name, sample, entities, mask_key)
    published += publisher.publish_drafts(session, name, ctx.actor.username, note, settings=settings)
    session.add(Sandbox(app=name, live_app=live_app, live_versions=versions, created_by=ctx.actor.username))
    session.flush()
    return {
        "app": name,
        "live_app": live_app,
        "published": [{"kind": p.kind, "name": p.name, "version": p.version} for p in published],
        "records": report.as_json(),
    }
