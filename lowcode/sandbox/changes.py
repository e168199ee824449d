"""A sandbox's change set and its publish to the live app.

The change set is every definition whose published body in the sandbox differs from the live app's (the
sandbox's unpublished drafts are left out: what was tried is what goes live). Each is judged against the
live body it was copied from (``lc_sandbox.live_versions``), a three-way comparison: a definition the sandbox
did not change but the live app did since is not part of the change set (publishing it would undo the live
change); one both changed is a conflict, and the sandbox's body wins once the publisher confirms. Any live
change since the copy must be confirmed before a publish (:class:`LiveChanged`).

The publish writes the change set as drafts of the live app and publishes just those together (checked as a
whole, each entity's schema plan applied to the live table: its data is kept); the sandbox then counts the
live app's new versions as its base.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.design_access import sandbox_of
from lowcode.core.definition_models import Definition, DefinitionVersion, Sandbox
from lowcode.core.texts import Text
from lowcode.definitions import publisher, store
from lowcode.errors import LiveChanged, NotFound
from lowcode.runtime.context import WriteContext
from lowcode.runtime.schema_plan import PublishOptions
from lowcode.sandbox.making import live_versions

ADDED, CHANGED = "added", "changed"


@dataclass(frozen=True)
class DefinitionChange:
    """One definition of the change set: ``added`` to or ``changed`` in the live app."""

    kind: str
    name: str
    change: str
    live: dict[str, Any] | None
    """The live app's body now (None: added)."""
    sandbox: dict[str, Any]
    """The sandbox's body, named for the live app."""
    conflict: bool = False
    """The live app changed this definition too since the copy."""


@dataclass
class ChangeSet:
    """What publishing a sandbox to its live app would write, and what changed in the live app meanwhile."""

    sandbox: str
    live_app: str
    changes: list[DefinitionChange] = field(default_factory=list)
    live_changes: list[str] = field(default_factory=list)
    """``kind/name`` of the live definitions published (or added) since the copy."""
    unpublished: list[str] = field(default_factory=list)
    """``kind/name`` of the sandbox's drafts that are not published (not part of the change set)."""

    @property
    def conflicts(self) -> list[DefinitionChange]:
        """The changes the live app made to the same definitions."""
        return [c for c in self.changes if c.conflict]

    def as_json(self) -> dict[str, Any]:
        """The change set as the API returns it."""
        return {
            "sandbox": self.sandbox,
            "live_app": self.live_app,
            "changes": [
                {"kind": c.kind, "name": c.name, "change": c.change, "conflict": c.conflict}
                for c in self.changes
            ],
            "live_changes": self.live_changes,
            "unpublished": self.unpublished,
        }


def require_sandbox(session: Session, app: str) -> Sandbox:
    """The sandbox record of ``app``. :raises NotFound: when ``app`` is not a sandbox."""
    box = sandbox_of(session, app)
    if box is None:
        raise NotFound(Text("'{app}' is not a sandbox", app=app))
    return box


def _base_bodies(session: Session, box: Sandbox) -> dict[str, dict[str, Any]]:
    """The live bodies the sandbox was copied from, by ``kind/name``."""
    rows = session.execute(
        sa.select(Definition.kind, Definition.name, DefinitionVersion.version, DefinitionVersion.body)
        .join(DefinitionVersion, DefinitionVersion.definition_id == Definition.id)
        .where(Definition.app == box.live_app)
    )
    wanted = box.live_versions or {}
    return {
        f"{kind}/{name}": body
        for kind, name, version, body in rows
        if wanted.get(f"{kind}/{name}") == version
    }


def change_set(session: Session, sandbox_app: str) -> ChangeSet:
    """The sandbox's change set against its live app (see the module docstring). :raises NotFound:"""
    box = require_sandbox(session, sandbox_app)
    live = box.live_app
    mine = store.published_app_documents(session, sandbox_app)
    if sandbox_app in mine.get("app", {}):
        mine["app"] = {live: {**mine["app"][sandbox_app], "name": live}}
    now = store.published_app_documents(session, live)
    base = _base_bodies(session, box)
    current = live_versions(session, live)
    recorded = box.live_versions or {}
    result = ChangeSet(sandbox_app, live)
    result.live_changes = sorted(k for k in {*current, *recorded} if current.get(k) != recorded.get(k))
    for kind in sorted(mine, key=lambda k: (k != "app", k != "entity", k)):
        for name, body in sorted(mine[kind].items()):
            live_body, copied = now.get(kind, {}).get(name), base.get(f"{kind}/{name}")
            if body == live_body or (copied is not None and body == copied):
                continue
            change = ADDED if live_body is None else CHANGED
            conflict = f"{kind}/{name}" in result.live_changes
            result.changes.append(DefinitionChange(kind, name, change, live_body, body, conflict))
    result.unpublished = sorted(
        f"{d.kind}/{d.name}"
        for d in store.list_definitions(session, sandbox_app)
        if d.draft is not None and d.draft != store.published_body(session, d)
    )
    return result


def publish_to_live(
    ctx: WriteContext,
    sandbox_app: str,
    options: Mapping[str, PublishOptions] | None = None,
    *,
    confirmed: bool = False,
    dry_run: bool = False,
    settings: Mapping[str, Any] | None = None,
) -> tuple[ChangeSet, list[publisher.Published]]:
    """Publish the sandbox's change set to its live app in one publish (``options`` per entity: renames,
    consent, restores); ``dry_run``: every check and each entity's schema plan, nothing changed.

    :raises LiveChanged: the live app changed since the copy and ``confirmed`` is not set (not for dry runs).
    :raises DefinitionInvalid, SchemaChangeRefused: from the publish's checks and plans.
    """
    session = ctx.session
    changes = change_set(session, sandbox_app)
    if changes.live_changes and not confirmed and not dry_run:
        raise LiveChanged(
            Text(
                "The live app '{app}' changed since the sandbox was made ({changed}): review the change set "
                "and confirm",
                app=changes.live_app,
                changed=", ".join(changes.live_changes),
            ),
            changed=changes.live_changes,
        )
    if not changes.changes:
        return changes, []
    only = {(c.kind, c.name) for c in changes.changes}
    savepoint = session.begin_nested() if dry_run else None
    try:
        for c in changes.changes:
            store.save_draft(session, changes.live_app, c.kind, c.name, c.sandbox)
        if dry_run:
            return changes, publisher.dry_run_drafts(
                session, changes.live_app, options or {}, settings=settings, only=only
            )
        note = f"published from sandbox {sandbox_app}"
        published = publisher.publish_drafts(
            session, changes.live_app, ctx.actor.username, note, options, settings=settings, only=only
        )
    finally:
        if savepoint is not None:
            savepoint.rollback()
    require_sandbox(session, sandbox_app).live_versions = live_versions(session, changes.live_app)
    session.flush()
    return changes, published
