"""Upgrading an installed template to a newer bundle while keeping the app's own changes.

Per definition, three versions meet: ``base`` (the bundle it was installed or last upgraded from, in
``lc_app_install``), ``local`` (the app now: its draft where there is one, else its published body) and ``new``
(the newer bundle, renamed to the app). :func:`plan_upgrade` says what happens to each
(:data:`STATUSES`) through :func:`lowcode.definitions.merge.merge_documents`; :func:`apply_upgrade` saves the
changed bodies as drafts and publishes them together with the existing publishing machinery (schema plan,
consent to lossy conversions), then moves the install record to the new bundle - one transaction, data kept.
A definition the new bundle no longer has is kept as it is (removing it could drop a table's data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from lowcode.definitions import publisher, store
from lowcode.definitions.bundle_files import bundle_documents, manifest_of
from lowcode.definitions.installs import installed, record_install
from lowcode.definitions.merge import MISSING, Conflict, merge_documents
from lowcode.errors import DefinitionInvalid, NotFound
from lowcode.runtime.schema_plan import PublishOptions

STATUSES = ("unchanged", "new", "added", "local", "merged", "conflict", "removed")
"""unchanged: the same on both sides; new: taken from the new bundle (no local change); added: new in the
bundle; local: kept local (the bundle did not change it, or only the app has it); merged: both changed,
merged without conflict; conflict: both changed the same value (each decided by a choice, else local);
removed: the bundle dropped it, the app keeps it."""
KIND_ORDER = {
    "app": 0,
    "entity": 1,
    "form": 2,
    "view": 3,
    "role": 4,
    "rule": 5,
    "workflow": 6,
    "mapping": 7,
    "subscription": 8,
    "report": 9,
    "dashboard": 10,
}
Docs = Mapping[str, Mapping[str, Any]]


@dataclass
class DefinitionPlan:
    """What an upgrade does to one definition."""

    kind: str
    name: str
    status: str
    base: Any
    local: Any
    new: Any
    body: Any
    """The body after the upgrade (:data:`MISSING`: none)."""
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        """Whether the upgrade changes this definition (it is saved and published)."""
        return self.body is not MISSING and self.body != self.local

    def choice_key(self, conflict: Conflict) -> str:
        """The posted name of the choice of one conflict: ``entity/product:$.fields[price].label.en``."""
        return f"{self.kind}/{self.name}:{conflict.path}"


def plan_upgrade(
    base: Docs, local: Docs, new: Docs, choices: Mapping[str, str] | None = None
) -> list[DefinitionPlan]:
    """The plan of every definition any side has, app first then by kind and name. ``choices``: conflict
    (:meth:`DefinitionPlan.choice_key`) -> ``local``/``new``/``base``."""
    choices = choices or {}
    keys = {(kind, name) for docs in (base, local, new) for kind, bodies in docs.items() for name in bodies}
    plans = []
    for kind, name in sorted(keys, key=lambda k: (KIND_ORDER.get(k[0], 9), k[0], k[1])):
        b, loc, n = (docs.get(kind, {}).get(name, MISSING) for docs in (base, local, new))
        prefix = f"{kind}/{name}:"
        own = {key[len(prefix) :]: side for key, side in choices.items() if key.startswith(prefix)}
        plans.append(_plan_one(kind, name, b, loc, n, own))
    return plans


def _plan_one(kind: str, name: str, b: Any, loc: Any, n: Any, choices: Mapping[str, str]) -> DefinitionPlan:
    def plan(status: str, body: Any, conflicts: list[Conflict] | None = None) -> DefinitionPlan:
        return DefinitionPlan(kind, name, status, b, loc, n, body, conflicts or [])

    if loc == n:
        return plan("unchanged", loc)
    if n is MISSING:
        return plan("removed" if b is not MISSING else "local", loc)
    if loc is MISSING:
        return plan("added", n) if b is MISSING else plan("local", loc)
    if b == loc:
        return plan("new", n)
    if b == n:
        return plan("local", loc)
    merged = merge_documents(b, loc, n, choices)
    return plan("conflict" if merged.conflicts else "merged", merged.body, merged.conflicts)


def local_documents(session: Session, app: str) -> dict[str, dict[str, Any]]:
    """The app as it stands: each definition's draft where there is one, else its published body."""
    docs: dict[str, dict[str, Any]] = {
        kind: dict(bodies) for kind, bodies in store.published_app_documents(session, app).items()
    }
    for d in store.list_definitions(session, app):
        if d.draft is not None:
            docs.setdefault(d.kind, {})[d.name] = d.draft
    return docs


@dataclass
class Upgrade:
    """An upgrade of ``app`` read from the database and a bundle (already renamed to the app and checked)."""

    app: str
    template: str
    from_version: str
    to_version: str
    plans: list[DefinitionPlan]

    @property
    def conflicts(self) -> int:
        """How many conflicts the plan met."""
        return sum(len(p.conflicts) for p in self.plans)


def prepare_upgrade(
    session: Session, app: str, bundle: dict[str, Any], choices: Mapping[str, str] | None = None
) -> Upgrade:
    """The plan of upgrading ``app`` to ``bundle``. :raises NotFound: an app never installed from a bundle;
    :raises DefinitionInvalid: a bundle of another template."""
    install = installed(session, app)
    if install is None:
        raise NotFound(f"App '{app}' was not installed from a template bundle, so it has nothing to upgrade")
    manifest = manifest_of(bundle)
    template = str(manifest.get("template") or "")
    if template != install.template:
        raise DefinitionInvalid(
            f"This bundle is the template '{template}'; app '{app}' was installed from '{install.template}'",
            fields={"manifest.json: $.template": [f"expected '{install.template}'"]},
        )
    plans = plan_upgrade(install.documents, local_documents(session, app), bundle_documents(bundle), choices)
    return Upgrade(app, template, install.version, str(manifest.get("version") or ""), plans)


def save_upgrade_drafts(session: Session, upgrade: Upgrade) -> set[tuple[str, str]]:
    """Save the changed bodies as drafts; returns the (kind, name) pairs to publish."""
    changed = set()
    for plan in upgrade.plans:
        if plan.changes:
            store.save_draft(session, upgrade.app, plan.kind, plan.name, plan.body)
            changed.add((plan.kind, plan.name))
    return changed


def apply_upgrade(
    session: Session,
    upgrade: Upgrade,
    bundle: dict[str, Any],
    username: str,
    consent: bool = False,
    settings: Mapping[str, Any] | None = None,
) -> list[publisher.Published]:
    """Save, publish (``consent``: to every lossy conversion the schema plan lists) and record the new base.
    Runs in the caller's transaction. :raises DefinitionInvalid: :raises SchemaChangeRefused:"""
    only = save_upgrade_drafts(session, upgrade)
    options = upgrade_options(upgrade, consent)
    published = publisher.publish_drafts(
        session,
        upgrade.app,
        username,
        f"template upgrade {upgrade.from_version or '?'} -> {upgrade.to_version or '?'}",
        options,
        settings=settings,
        only=only,
    )
    record_install(
        session, upgrade.app, upgrade.template, upgrade.to_version, bundle_documents(bundle), username
    )
    return published


def upgrade_options(upgrade: Upgrade, consent: bool) -> dict[str, PublishOptions]:
    """Publish options per changed entity: consent to all its fields' lossy conversions when given."""
    return {
        p.name: PublishOptions(
            consent=frozenset(f.get("name") for f in p.body.get("fields") or ()) if consent else frozenset()
        )
        for p in upgrade.plans
        if p.kind == "entity" and p.changes and isinstance(p.body, dict)
    }
